package policy

import (
	"context"
	"encoding/json"
	"errors"
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

// Decision is the gate's answer: an unforgeable capability naming who may
// do what, on which cameras, over which range. Its fields are unexported,
// so only the gate constructs one; every function that reads footage or
// subscribes to a camera's stream takes a Decision and checks with Covers
// that it covers what is read (ACC-3). The zero Decision covers nothing.
type Decision struct {
	id          string // access record id ("" when nothing was registered)
	effect      Effect
	subject     string // the subject's user id
	action      Action
	cameras     []string
	from, to    time.Time // the footage's range; zero for live
	purpose     string
	method      string
	obligations []Obligation
	at          time.Time
	reused      bool
}

// ID is the access record's id ("" when nothing was registered).
func (d Decision) ID() string { return d.id }

// Effect is allow or deny.
func (d Decision) Effect() Effect { return d.effect }

// Subject is the user id of the person the decision was made for.
func (d Decision) Subject() string { return d.subject }

// Action is the action decided.
func (d Decision) Action() Action { return d.action }

// Cameras are the ids of the cameras decided on.
func (d Decision) Cameras() []string { return append([]string(nil), d.cameras...) }

// From is the start of the footage range decided on (zero for live).
func (d Decision) From() time.Time { return d.from }

// To is the end of the footage range decided on (zero for live).
func (d Decision) To() time.Time { return d.to }

// Purpose is the stated purpose (调用事由).
func (d Decision) Purpose() string { return d.purpose }

// Method is how the footage is read ("webrtc", "fmp4", "mp4", …).
func (d Decision) Method() string { return d.method }

// Obligations are the profile's conditions on the allow.
func (d Decision) Obligations() []Obligation { return append([]Obligation{}, d.obligations...) }

// At is when the access was decided (for a reused one: first decided).
func (d Decision) At() time.Time { return d.at }

// Reused reports whether the decision reuses a recent identical access
// (ReuseWindow) instead of registering a new one.
func (d Decision) Reused() bool { return d.reused }

// MarshalJSON shows the decision to clients.
func (d Decision) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID          string       `json:"id"`
		Effect      Effect       `json:"effect"`
		Action      Action       `json:"action"`
		Cameras     []string     `json:"cameras"`
		From        string       `json:"from,omitempty"`
		To          string       `json:"to,omitempty"`
		Obligations []Obligation `json:"obligations"`
		Purpose     string       `json:"purpose"`
		At          time.Time    `json:"at"`
	}{d.id, d.effect, d.action, d.cameras, timeOrEmpty(d.from), timeOrEmpty(d.to), d.Obligations(), d.purpose, d.at})
}

// ErrNotCovered is wrapped by Covers' errors.
var ErrNotCovered = errors.New("policy: the decision does not cover this read")

// Covers returns nil when d allows act on camera over [from, to) (both
// zero for live video), and an error wrapping ErrNotCovered otherwise. An
// export decision covers a playback read of its range (the read that
// makes the copy); nothing else stands in for another action.
func (d Decision) Covers(act Action, camera string, from, to time.Time) error {
	fail := func(why string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrNotCovered, fmt.Sprintf(why, a...))
	}
	if d.effect != Allow || d.subject == "" {
		return fail("no allow from the gate")
	}
	if act.readsVideo() && d.id == "" {
		return fail("the access was not registered")
	}
	if d.action != act && !(act == Playback && d.action == Export) {
		return fail("decided for %s, not %s", d.action, act)
	}
	found := false
	for _, c := range d.cameras {
		found = found || c == camera
	}
	if !found {
		return fail("camera %s was not decided on", camera)
	}
	if act.readsFootage() {
		if from.IsZero() || to.IsZero() || !to.After(from) {
			return fail("no range to read")
		}
		if from.Before(d.from) || to.After(d.to) {
			return fail("%s–%s lies outside the decided %s–%s", timeOrEmpty(from), timeOrEmpty(to), timeOrEmpty(d.from), timeOrEmpty(d.to))
		}
	}
	return nil
}

// readsFootage reports whether the action reads recorded footage (a time
// range) rather than the live stream.
func (a Action) readsFootage() bool { return a == Playback || a == Export }

// ReuseWindow is how long a playback's access record covers the same
// request again: a <video> element fetches one clip in several Range
// requests, which are one access, registered once.
const ReuseWindow = 10 * time.Minute

// ReauthWindow is how recent the subject's authentication must be for an
// export (ACC-4): a copy that leaves the system is confirmed by the person.
const ReauthWindow = 15 * time.Minute

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
// committed together. A playback asked again with the same camera, range,
// purpose and method within ReuseWindow of the subject's earlier allow
// reuses that access record (after the permission is checked again):
// nothing new is registered, and the Decision's range is the record's
// (see recent for a range cut at the newest footage).
//
// An export needs an authentication within ReauthWindow
// (auth.reauth_required), and is refused while the profile attaches
// obligations (approval, a second person) that nothing can meet yet
// (policy.obligations_unmet, naming them).
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
		return Decision{effect: Deny}, err
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
	if req.Action.readsFootage() && (req.From.IsZero() || !req.To.After(req.From)) {
		return Decision{}, fmt.Errorf("gate: request for %s names no range", req.Action)
	}
	now := g.now()
	if req.Action == Export && (s.AuthenticatedAt.IsZero() || now.Sub(s.AuthenticatedAt) > ReauthWindow) {
		return deny(problem.Forbidden("auth.reauth_required", problem.P{"minutes": int(ReauthWindow.Minutes())}))
	}
	obligations := g.obligations(s, req.Action)
	if req.Action == Export && len(obligations) > 0 {
		var names []string
		for _, o := range obligations {
			n := o.Kind
			if o.Value != "" {
				n += " (" + o.Value + ")"
			}
			if len(o.Cite) > 0 {
				n += " [" + strings.Join(o.Cite, "; ") + "]"
			}
			names = append(names, n)
		}
		return deny(problem.Forbidden("policy.obligations_unmet", problem.P{"obligations": strings.Join(names, ", ")}))
	}

	ids := make([]string, len(req.Cameras))
	for i, c := range req.Cameras {
		ids[i] = c.ID
	}
	d := Decision{effect: Allow, subject: s.UserID, action: req.Action, cameras: ids, from: req.From, to: req.To,
		purpose: purpose, method: req.Method, at: now.UTC().Truncate(time.Microsecond), obligations: obligations}
	if req.Action == Playback {
		if id, at, end, ok := g.recent(ctx, s, req, purpose, now); ok {
			d.id, d.at, d.to, d.reused = id, at, end, true
			return d, nil
		}
	}
	err := g.db.InTx(ctx, func(tx *store.Tx) error {
		e, err := g.log.AppendTx(ctx, tx, audit.Entry{Actor: act, Action: "gate.decide", Object: cameraObject(req.Cameras),
			Outcome: audit.OK, Details: map[string]any{"action": string(req.Action), "purpose": purpose, "method": req.Method,
				"from": timeOrEmpty(req.From), "to": timeOrEmpty(req.To), "obligations": d.obligations}})
		if err != nil {
			return err
		}
		if !req.Action.readsVideo() {
			return nil
		}
		d.id = keyring.RandomToken(12)
		cams, _ := json.Marshal(req.Cameras)
		obl, _ := json.Marshal(d.obligations)
		_, err = tx.Exec(ctx, `INSERT INTO access_records (id, at, user_id, user_name, unit_id, unit_name, action, method, cameras,
			range_start, range_end, purpose, decision, obligations, copies_to, remote, audit_seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.id, store.Micros(d.at), s.UserID, s.Name, s.UnitID, s.UnitName, string(req.Action), req.Method, string(cams),
			store.Micros(req.From), store.Micros(req.To), purpose, string(Allow), string(obl), req.CopiesTo, s.Remote, e.Seq)
		return err
	})
	if err != nil {
		return Decision{}, fmt.Errorf("gate: register access: %w", err)
	}
	return d, nil
}

// LiveEdge is how close to its decision an access's range may end for
// the access to count as cut at the newest footage: a later request for
// the same start reuses it (and is served the same bytes) although more
// has been recorded since.
const LiveEdge = 5 * time.Second

// recent finds the subject's allowed access record for this request
// (action, method, cameras, start, purpose) registered within ReuseWindow
// of now: with the same end, or — when the record was cut at the newest
// footage (its end within LiveEdge of its decision) — ending before the
// asked end. It returns the record's id, time and end. The access
// registry is policy's table: no other package reads it.
func (g *Gate) recent(ctx context.Context, s *Subject, req Request, purpose string, now time.Time) (string, time.Time, time.Time, bool) {
	cams, _ := json.Marshal(req.Cameras)
	var id string
	var at, end int64
	err := g.db.QueryRow(ctx, `SELECT id, at, range_end FROM access_records WHERE user_id = ? AND at > ? AND at <= ? AND action = ? AND method = ?
		AND cameras = ? AND range_start = ? AND purpose = ? AND decision = 'allow'
		AND (range_end = ? OR (range_end > range_start AND range_end < ? AND range_end >= at - ?)) ORDER BY at DESC LIMIT 1`,
		s.UserID, store.Micros(now.Add(-ReuseWindow)), store.Micros(now), string(req.Action), req.Method, string(cams),
		store.Micros(req.From), purpose, store.Micros(req.To), store.Micros(req.To), LiveEdge.Microseconds()).Scan(&id, &at, &end)
	if err != nil {
		return "", time.Time{}, time.Time{}, false
	}
	return id, store.Time(at), store.Time(end), true
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
