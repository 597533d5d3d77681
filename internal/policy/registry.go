package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"vigil/internal/store"
)

// AccessRecord is one entry of the access registry (调用登记): who, of
// which unit, when, which cameras and time range, how, why, and where
// copies went (ACC-3).
type AccessRecord struct {
	ID          string       `json:"id"`
	At          time.Time    `json:"at"`
	UserID      string       `json:"user_id"`
	UserName    string       `json:"user_name"`
	UnitID      string       `json:"unit_id"`
	UnitName    string       `json:"unit_name"`
	Action      Action       `json:"action"`
	Method      string       `json:"method"`
	Cameras     []Camera     `json:"cameras"`
	RangeStart  *time.Time   `json:"range_start,omitempty"`
	RangeEnd    *time.Time   `json:"range_end,omitempty"`
	Purpose     string       `json:"purpose"`
	Decision    Effect       `json:"decision"`
	Obligations []Obligation `json:"obligations"`
	CopiesTo    string       `json:"copies_to,omitempty"`
	Remote      string       `json:"remote,omitempty"`
	EndedAt     *time.Time   `json:"ended_at,omitempty"`
	AuditSeq    int64        `json:"audit_seq"`
}

// AccessFilter selects registry entries. Scopes limits them to users of
// units under the given paths (nil: no limit).
type AccessFilter struct {
	From, To time.Time
	UserID   string
	Action   string
	Camera   string
	BeforeAt time.Time
	Limit    int
	Scopes   []string
}

// ListAccessFor returns to subj the registry entries it may read: those of
// users of units under its access.read grants (ACC-3). Without the
// permission anywhere it is a *DeniedError.
func (g *Gate) ListAccessFor(ctx context.Context, subj *Subject, f AccessFilter) ([]AccessRecord, error) {
	scopes := subj.Scopes(AccessRead)
	if len(scopes) == 0 {
		return nil, &DeniedError{Permission: AccessRead, Target: "the access registry"}
	}
	f.Scopes = scopes
	return g.ListAccess(ctx, f)
}

// ListAccess returns registry entries, newest first (f.Scopes limits
// them; callers on behalf of a person use ListAccessFor).
func (g *Gate) ListAccess(ctx context.Context, f AccessFilter) ([]AccessRecord, error) {
	var where []string
	var args []any
	add := func(c string, v ...any) { where = append(where, c); args = append(args, v...) }
	if !f.From.IsZero() {
		add("a.at >= ?", store.Micros(f.From))
	}
	if !f.To.IsZero() {
		add("a.at < ?", store.Micros(f.To))
	}
	if !f.BeforeAt.IsZero() {
		add("a.at < ?", store.Micros(f.BeforeAt))
	}
	if f.UserID != "" {
		add("a.user_id = ?", f.UserID)
	}
	if f.Action != "" {
		add("a.action = ?", f.Action)
	}
	if f.Camera != "" {
		add("a.cameras LIKE ?", `%"id":"`+f.Camera+`"%`)
	}
	if f.Scopes != nil {
		if len(f.Scopes) == 0 {
			return nil, nil
		}
		var or []string
		for _, p := range f.Scopes {
			or = append(or, "u.path LIKE ?")
			args = append(args, p+"%")
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	q := `SELECT a.id, a.at, a.user_id, a.user_name, a.unit_id, a.unit_name, a.action, a.method, a.cameras, a.range_start, a.range_end,
		a.purpose, a.decision, a.obligations, a.copies_to, a.remote, a.ended_at, a.audit_seq
		FROM access_records a LEFT JOIN units u ON u.id = a.unit_id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY a.at DESC LIMIT %d", limit)
	rows, err := g.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list access records: %w", err)
	}
	defer rows.Close()
	out := []AccessRecord{}
	for rows.Next() {
		var r AccessRecord
		var at, rs, re, ended int64
		var cams, obl string
		if err := rows.Scan(&r.ID, &at, &r.UserID, &r.UserName, &r.UnitID, &r.UnitName, &r.Action, &r.Method, &cams, &rs, &re,
			&r.Purpose, &r.Decision, &obl, &r.CopiesTo, &r.Remote, &ended, &r.AuditSeq); err != nil {
			return nil, err
		}
		r.At = store.Time(at)
		r.RangeStart, r.RangeEnd, r.EndedAt = optTime(rs), optTime(re), optTime(ended)
		json.Unmarshal([]byte(cams), &r.Cameras)
		json.Unmarshal([]byte(obl), &r.Obligations)
		out = append(out, r)
	}
	return out, rows.Err()
}

func optTime(us int64) *time.Time {
	if us == 0 {
		return nil
	}
	t := store.Time(us)
	return &t
}
