package audit

import (
	"context"
	"database/sql"
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

	// Scopes, when not nil, limits the entries to those of the unit
	// subtrees at these paths (an auditor's audit.read scopes), as the
	// access registry is limited: an entry is shown when its actor is a
	// user of a unit in scope or its object belongs to one; and never when
	// its object — a camera, unit, user, system, filing or site — belongs
	// to a unit outside the scopes. Entries tied
	// to no unit (the system about itself) are for scopes over the root.
	Scopes []string
}

// The unit path of an entry's actor (a user) and of its object.
const (
	actorPathSQL = `(SELECT n.path FROM users u JOIN units n ON n.id = u.unit_id WHERE u.id = e.actor_id)`
	objPathSQL   = `COALESCE(
		(SELECT n.path FROM cameras c JOIN units n ON n.id = c.unit_id WHERE e.object LIKE 'camera:%' AND c.id = substr(e.object, 8)),
		(SELECT n.path FROM cameras c JOIN units n ON n.id = c.unit_id WHERE e.object LIKE 'camera:%' AND c.code = substr(e.object, 8)),
		(SELECT n.path FROM units n WHERE e.object LIKE 'unit:%' AND n.id = substr(e.object, 6)),
		(SELECT n.path FROM users u JOIN units n ON n.id = u.unit_id WHERE e.object LIKE 'user:%' AND u.id = substr(e.object, 6)),
		(SELECT n.path FROM systems y JOIN units n ON n.id = y.unit_id WHERE e.object LIKE 'system:%' AND y.id = substr(e.object, 8)),
		(SELECT n.path FROM filings f JOIN units n ON n.id = f.unit_id WHERE e.object LIKE 'filing:%' AND f.id = substr(e.object, 8)),
		(SELECT n.path FROM sites si JOIN units n ON n.id = si.unit_id WHERE e.object LIKE 'site:%' AND si.id = substr(e.object, 6)))`
)

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
	if f.Scopes != nil {
		if len(f.Scopes) == 0 {
			return nil, nil
		}
		// Shown when its object belongs to a unit in scope, or, for an
		// object tied to no unit, when its actor does: the object's unit
		// decides first, so nothing about another unit's objects shows.
		var or []string
		for _, p := range f.Scopes {
			or = append(or, `scope_path LIKE ? ESCAPE '\'`)
			args = append(args, likeEscape(p)+"%")
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		limit = 1000
	}
	q := `SELECT seq, at, actor_id, actor_name, actor_unit, action, object, outcome, remote, details, prev_hash, hash FROM audit_entries`
	if f.Scopes != nil {
		q = `SELECT seq, at, actor_id, actor_name, actor_unit, action, object, outcome, remote, details, prev_hash, hash FROM
			(SELECT e.*, COALESCE(` + objPathSQL + `, ` + actorPathSQL + `) AS scope_path FROM audit_entries e) scoped`
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY seq DESC LIMIT %d", limit)
	var rows *sql.Rows
	var err error
	if f.Scopes != nil && l.db.Dialect == store.Postgres {
		// The planner prices the per-row unit lookups as if every entry
		// were read and would JIT-compile them (seconds); the index scan
		// stops at the limit, so plain execution is fast.
		tx, terr := l.db.SQL().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if terr != nil {
			return nil, fmt.Errorf("list audit entries: %w", terr)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SET LOCAL jit = off"); err != nil {
			return nil, fmt.Errorf("list audit entries: %w", err)
		}
		rows, err = tx.QueryContext(ctx, l.db.Rebind(q), args...)
	} else {
		rows, err = l.db.Query(ctx, q, args...)
	}
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
