package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/problem"
	"vigil/internal/profile"
	"vigil/internal/store"
)

// Action is what a subject asks to do with video or a camera.
type Action string

// The actions the gate decides.
const (
	ViewLive Action = "live"     // 实时调阅
	Playback Action = "playback" // 回放
	Snapshot Action = "snapshot" // 抓图
	Export   Action = "export"   // 复制、导出
	PTZ      Action = "ptz"      // 云台控制
)

// permissionFor maps actions to the permission they need.
var permissionFor = map[Action]Permission{
	ViewLive: CameraLive, Playback: CameraPlay, Snapshot: CameraLive, Export: CameraExport, PTZ: CameraPTZ,
}

// readsVideo reports whether the action reads footage, and so is registered
// in the access registry (调用登记).
func (a Action) readsVideo() bool { return a != PTZ }

// Camera is what the gate needs to know of a camera.
type Camera struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	UnitID   string `json:"unit_id"`
	UnitPath string `json:"-"`
}

// Request is one question to the gate.
type Request struct {
	Subject  *Subject
	Action   Action
	Cameras  []Camera
	From, To time.Time // the footage's time range; zero for live
	Purpose  string    // 调用事由
	Method   string    // how: "webrtc", "fmp4", "mp4", "rtsp", "api", …
	CopiesTo string    // where copies go (exports)
}

// Effect is the gate's answer.
type Effect string

const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
)

// Obligation is a condition attached to an allow, from the profile.
type Obligation struct {
	Kind  string   `json:"kind"`  // approval_required, second_person_required, review_afterwards
	Value string   `json:"value"` // e.g. the approval level "police_head"
	Cite  []string `json:"cite"`  // the articles it comes from
}

// Decision is the gate's answer and the access record that registers it.
type Decision struct {
	ID          string       `json:"id"` // access record id ("" when nothing was registered)
	Effect      Effect       `json:"effect"`
	Obligations []Obligation `json:"obligations"`
	Purpose     string       `json:"purpose"`
	At          time.Time    `json:"at"`
}

// Gate decides and registers. It is the only way to a media read.
type Gate struct {
	db      *store.DB
	log     *audit.Log
	profile *profile.Profile
	now     func() time.Time
}

// NewGate returns the gate over db, auditing to log, with the rules of p.
func NewGate(db *store.DB, log *audit.Log, p *profile.Profile) *Gate {
	return &Gate{db: db, log: log, profile: p, now: time.Now}
}

// SetClock replaces the gate's clock (tests).
func (g *Gate) SetClock(now func() time.Time) { g.now = now }

// Decide answers req. A denial returns a *DeniedError (or a *problem.Error
// when the request itself is incomplete, e.g. no purpose) after auditing it;
// an allow returns the Decision whose access record and audit entry were
// committed together.
func (g *Gate) Decide(ctx context.Context, req Request) (Decision, error) {
	s := req.Subject
	act := audit.Actor{Remote: ""}
	if s != nil {
		act = audit.Actor{ID: s.UserID, Name: s.Name, Unit: s.UnitName, Remote: s.Remote}
	}
	deny := func(err error) (Decision, error) {
		_, aerr := g.log.Append(ctx, audit.Entry{Actor: act, Action: "gate.decide", Object: cameraObject(req.Cameras),
			Outcome: audit.Denied, Details: map[string]any{"action": string(req.Action), "reason": err.Error(), "method": req.Method}})
		if aerr != nil {
			return Decision{}, fmt.Errorf("audit denial: %w", aerr)
		}
		return Decision{Effect: Deny}, err
	}
	perm, ok := permissionFor[req.Action]
	if !ok {
		return Decision{}, fmt.Errorf("gate: unknown action %q", req.Action)
	}
	if s == nil || s.UserID == "" {
		return deny(problem.Unauthorized("auth.required", nil))
	}
	if len(req.Cameras) == 0 {
		return Decision{}, fmt.Errorf("gate: request for %s names no camera", req.Action)
	}
	for _, c := range req.Cameras {
		if err := Check(s, perm, c.UnitPath, "camera "+cameraLabel(c)); err != nil {
			return deny(err)
		}
	}
	if !req.From.IsZero() && !req.To.IsZero() && req.To.Before(req.From) {
		return Decision{}, problem.BadRequest("policy.bad_range", problem.P{"from": req.From.Format(time.RFC3339), "to": req.To.Format(time.RFC3339)})
	}
	purpose := strings.TrimSpace(req.Purpose)
	if purpose == "" && (req.Action == ViewLive || req.Action == Playback || req.Action == Snapshot) {
		purpose = s.StandingPurpose // a duty officer on shift works under a standing purpose
	}
	if purpose == "" && req.Action.readsVideo() {
		return deny(problem.BadRequest("policy.purpose_required", nil))
	}
	if len([]rune(purpose)) > 500 {
		return Decision{}, problem.Invalid("policy.purpose_too_long", "purpose", problem.P{"max": 500})
	}

	d := Decision{Effect: Allow, Purpose: purpose, At: g.now().UTC().Truncate(time.Microsecond), Obligations: g.obligations(s, req.Action)}
	err := g.db.InTx(ctx, func(tx *store.Tx) error {
		e, err := g.log.AppendTx(ctx, tx, audit.Entry{Actor: act, Action: "gate.decide", Object: cameraObject(req.Cameras),
			Outcome: audit.OK, Details: map[string]any{"action": string(req.Action), "purpose": purpose, "method": req.Method,
				"from": timeOrEmpty(req.From), "to": timeOrEmpty(req.To), "obligations": d.Obligations}})
		if err != nil {
			return err
		}
		if !req.Action.readsVideo() {
			return nil
		}
		d.ID = keyring.RandomToken(12)
		cams, _ := json.Marshal(req.Cameras)
		obl, _ := json.Marshal(d.Obligations)
		_, err = tx.Exec(ctx, `INSERT INTO access_records (id, at, user_id, user_name, unit_id, unit_name, action, method, cameras,
			range_start, range_end, purpose, decision, obligations, copies_to, remote, audit_seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, store.Micros(d.At), s.UserID, s.Name, s.UnitID, s.UnitName, string(req.Action), req.Method, string(cams),
			store.Micros(req.From), store.Micros(req.To), purpose, string(Allow), string(obl), req.CopiesTo, s.Remote, e.Seq)
		return err
	})
	if err != nil {
		return Decision{}, fmt.Errorf("gate: register access: %w", err)
	}
	return d, nil
}

// End records the end of an access that lasts (a live view), in the
// registry and the audit chain.
func (g *Gate) End(ctx context.Context, s *Subject, id string) error {
	return g.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE access_records SET ended_at = ? WHERE id = ? AND user_id = ? AND ended_at = 0`,
			store.Micros(g.now()), id, s.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFound("policy.access_not_found", problem.P{"id": id})
		}
		_, err = g.log.AppendTx(ctx, tx, audit.Entry{Actor: audit.Actor{ID: s.UserID, Name: s.Name, Unit: s.UnitName, Remote: s.Remote},
			Action: "gate.end", Object: "access:" + id})
		return err
	})
}

// obligations are the profile's conditions on an allowed action for this
// kind of requester (the subject's unit kind).
func (g *Gate) obligations(s *Subject, a Action) []Obligation {
	out := []Obligation{}
	if g.profile == nil || a != Export {
		return out
	}
	if appr, cite := g.profile.RetrievalApproval(s.UnitKind); appr != "" && appr != "none" {
		out = append(out, Obligation{Kind: "approval_required", Value: appr, Cite: cite})
	}
	if two, cite := g.profile.TwoPersonRetrieval(); two {
		out = append(out, Obligation{Kind: "second_person_required", Cite: cite})
	}
	return out
}

func cameraLabel(c Camera) string {
	if c.Name != "" {
		return c.Name + " (" + c.ID + ")"
	}
	return c.ID
}

func cameraObject(cs []Camera) string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return "camera:" + strings.Join(ids, ",")
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
