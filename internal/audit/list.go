package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"vigil/internal/store"
)

// Filter selects entries for List. Zero fields do not filter.
type Filter struct {
	From, To  time.Time
	ActorID   string
	Actor     string // substring of the actor's name
	Action    string // exact, or a prefix ending in "." (e.g. "user.")
	Object    string
	Outcome   string
	BeforeSeq int64 // page backwards: entries with seq < BeforeSeq
	Limit     int   // default 100, at most 1000
}

// List returns entries, newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if !f.From.IsZero() {
		add("at >= ?", store.Micros(f.From))
	}
	if !f.To.IsZero() {
		add("at < ?", store.Micros(f.To))
	}
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if f.Actor != "" {
		add(`actor_name LIKE ? ESCAPE '\'`, "%"+likeEscape(f.Actor)+"%")
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			add(`action LIKE ? ESCAPE '\'`, likeEscape(f.Action)+"%")
		} else {
			add("action = ?", f.Action)
		}
	}
	if f.Object != "" {
		add("object = ?", f.Object)
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if f.BeforeSeq > 0 {
		add("seq < ?", f.BeforeSeq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		limit = 1000
	}
	q := `SELECT seq, at, actor_id, actor_name, actor_unit, action, object, outcome, remote, details, prev_hash, hash FROM audit_entries`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY seq DESC LIMIT %d", limit)
	rows, err := l.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor.ID, &e.Actor.Name, &e.Actor.Unit, &e.Action, &e.Object, &e.Outcome,
			&e.Actor.Remote, &e.details, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = store.Time(at)
		if e.details != "" && e.details != "{}" {
			_ = json.Unmarshal([]byte(e.details), &e.Details)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// likeEscape makes s match itself literally in a LIKE pattern with
// ESCAPE '\': % and _ are wildcards otherwise.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
