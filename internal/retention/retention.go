// Package retention keeps recorded footage exactly as long as the law and
// the configuration say, and not a moment less (RET-1, RET-2, RET-4, RET-5,
// RET-6): each camera's retention from its site class and the active
// profile's minimums, evidence holds (证据保全), the only deleter of
// footage, the capacity forecast and the gap report.
//
// Invariants:
//   - A camera's retention is never below the profile's minimum for its
//     site (MinRetentionDays); a configured value below it is refused with
//     the article cited.
//   - The engine (Run) is the only code that deletes segments. It deletes
//     a segment only when the segment ended before now − retention and no
//     evidence hold in force overlaps it; each deletion is written to the
//     audit log in the transaction that marks the index row, before the
//     object is removed.
//   - Any other request to delete footage is refused and audited
//     (RefuseDelete): there is no API that deletes footage.
//   - An evidence hold lasts at least the profile's important-footage
//     period (2 years) and can be released only after it has run out.
//   - The clock is injectable (SetClock), so expiry is tested, not waited
//     for.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/profile"
	"vigil/internal/record"
	"vigil/internal/storage"
	"vigil/internal/store"
)

// Engine applies retention.
type Engine struct {
	db      *store.DB
	index   *record.Index
	store   storage.Store
	audit   *audit.Log
	profile *profile.Profile
	now     func() time.Time
	log     *slog.Logger

	mu   sync.Mutex
	last *Forecast
}

// New returns the engine.
func New(index *record.Index, st storage.Store, log *audit.Log, p *profile.Profile) *Engine {
	return &Engine{db: index.DB(), index: index, store: st, audit: log, profile: p, now: time.Now, log: slog.Default()}
}

// SetClock replaces the engine's clock (tests).
func (e *Engine) SetClock(now func() time.Time) { e.now = now }

// SetLogger sets where the engine logs.
func (e *Engine) SetLogger(l *slog.Logger) { e.log = l }

// Retention is a camera's retention and where it comes from.
type Retention struct {
	CameraID   string   `json:"camera_id"`
	Days       int      `json:"days"`       // in force: max(configured, minimum)
	Configured int      `json:"configured"` // set for the camera (or its system); 0 = none
	MinDays    int      `json:"min_days"`   // the profile's minimum for the camera's site
	Cite       []string `json:"cite"`       // the article of the minimum
	Site       string   `json:"site_category"`
}

// info reads a camera's registry entry; a camera the registry does not
// know (a demo camera) gets the profile's general minimum.
func (e *Engine) info(ctx context.Context, camera string) (record.CameraInfo, error) {
	c, err := record.LookupCamera(ctx, e.db, camera)
	if errors.Is(err, store.ErrNotFound) {
		return record.CameraInfo{ID: camera}, nil
	}
	return c, err
}

// Retention returns the camera's retention in force.
func (e *Engine) Retention(ctx context.Context, camera string) (Retention, error) {
	c, err := e.info(ctx, camera)
	if err != nil {
		return Retention{}, err
	}
	r := Retention{CameraID: camera, Site: c.SiteCategory, Configured: c.SystemDays, Cite: []string{}}
	if e.profile != nil {
		r.MinDays, r.Cite = e.profile.MinRetentionDays(c.SiteCategory, c.AntiTerror, c.SecurityKey)
	}
	var days int
	err = e.db.QueryRow(ctx, `SELECT days FROM camera_retention WHERE camera_id = ?`, camera).Scan(&days)
	if err == nil {
		r.Configured = days
	} else if !isNoRows(err) {
		return Retention{}, fmt.Errorf("retention of %s: %w", camera, err)
	}
	r.Days = max(r.Configured, r.MinDays)
	if r.Days <= 0 {
		r.Days = 30 // no profile: the national floor (RET-1)
	}
	return r, nil
}

// MaxRetentionDays is the longest retention a camera can be set to
// (100 years).
const MaxRetentionDays = 36500

// SetRetention configures a camera's retention, for a subject holding
// camera.admin on it. A value below the profile's minimum for the
// camera's site is refused, naming the article (RET-1); one above
// MaxRetentionDays is refused as such; the change is audited.
func (e *Engine) SetRetention(ctx context.Context, subj *policy.Subject, camera string, days int) (Retention, error) {
	if _, err := e.authorize(ctx, subj, policy.CameraAdmin, camera); err != nil {
		return Retention{}, err
	}
	by := actorOf(subj)
	cur, err := e.Retention(ctx, camera)
	if err != nil {
		return Retention{}, err
	}
	if days < cur.MinDays || days <= 0 || days > MaxRetentionDays {
		e.audit.Append(ctx, audit.Entry{Actor: by, Action: "retention.set", Object: "camera:" + camera, Outcome: audit.Denied,
			Details: map[string]any{"days": days, "min": cur.MinDays, "max": MaxRetentionDays, "cite": cur.Cite}})
		if days > MaxRetentionDays {
			return Retention{}, problem.Unprocessable("retention.above_maximum", problem.P{"days": days, "max": MaxRetentionDays})
		}
		return Retention{}, problem.Unprocessable("retention.below_minimum",
			problem.P{"days": days, "min": cur.MinDays, "cite": strings.Join(cur.Cite, "; ")})
	}
	now := store.Micros(e.now())
	err = e.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE camera_retention SET days = ?, set_by = ?, set_at = ? WHERE camera_id = ?`, days, by.ID, now, camera)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO camera_retention (camera_id, days, set_by, set_at) VALUES (?, ?, ?, ?)`, camera, days, by.ID, now); err != nil {
				return err
			}
		}
		_, err = e.audit.AppendTx(ctx, tx, audit.Entry{Actor: by, Action: "retention.set", Object: "camera:" + camera, Outcome: audit.OK,
			Details: map[string]any{"days": days, "previous": cur.Configured, "min": cur.MinDays}})
		return err
	})
	if err != nil {
		return Retention{}, fmt.Errorf("set retention of %s: %w", camera, err)
	}
	return e.Retention(ctx, camera)
}

// refuseDelete refuses and audits a request to delete footage.
func (e *Engine) refuseDelete(ctx context.Context, by audit.Actor, camera string, from, to time.Time) error {
	r, err := e.Retention(ctx, camera)
	if err != nil {
		return err
	}
	if _, err := e.audit.Append(ctx, audit.Entry{Actor: by, Action: "recording.delete", Object: "camera:" + camera, Outcome: audit.Denied,
		Details: map[string]any{"from": timeText(from), "to": timeText(to), "retention_days": r.Days,
			"reason": "only the retention engine deletes footage, and only after its retention"}}); err != nil {
		return fmt.Errorf("audit refused deletion: %w", err)
	}
	return problem.Forbidden("retention.delete_refused", problem.P{"camera": camera, "days": r.Days, "cite": strings.Join(r.Cite, "; ")})
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func isNoRows(err error) bool { return err != nil && strings.Contains(err.Error(), "no rows") }
