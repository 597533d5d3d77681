package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"vigil/internal/keyring"
	"vigil/internal/store"
)

// Problem kinds found by Verify.
const (
	Altered  = "altered"  // an entry's fields no longer match its hash
	Removed  = "removed"  // entries are missing from the sequence
	Inserted = "inserted" // an entry that the chain does not link to
	Head     = "head"     // the signed head does not match the entries
)

// Problem is the first inconsistency Verify found.
type Problem struct {
	Seq    int64  `json:"seq"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

func (p *Problem) Error() string {
	return fmt.Sprintf("audit entry %d %s: %s", p.Seq, p.Kind, p.Detail)
}

// Report is the result of a verification.
type Report struct {
	OK         bool     `json:"ok"`
	Checked    int64    `json:"checked"`    // entries recomputed
	FirstSeq   int64    `json:"first_seq"`  // first entry present (after any checkpoint)
	HeadSeq    int64    `json:"head_seq"`   // the signed head
	Checkpoint int64    `json:"checkpoint"` // seq of the checkpoint verification started from (0: genesis)
	Problem    *Problem `json:"problem,omitempty"`
}

// Verify recomputes the whole chain with the log's keys.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	return Verify(ctx, l.db, l.kr.Suite(), l.kr.PublicKey())
}

// Verify recomputes the chain in db with the given suite and signing public
// key; it needs no private key, so an auditor can run it on a copy of the
// database. It reports the first problem; err is for failures to read.
func Verify(ctx context.Context, db *store.DB, suite keyring.Suite, publicKey string) (Report, error) {
	var rep Report
	fail := func(seq int64, kind, format string, args ...any) (Report, error) {
		rep.Problem = &Problem{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)}
		return rep, nil
	}

	// Start from the newest valid checkpoint, if pruning left one.
	expect, prev := int64(1), Genesis
	var cpSeq, cpAt int64
	var cpHash, cpSig string
	err := db.QueryRow(ctx, `SELECT seq, hash, at, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).
		Scan(&cpSeq, &cpHash, &cpAt, &cpSig)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return rep, fmt.Errorf("read checkpoints: %w", err)
	default:
		if !keyring.Verify(publicKey, checkpointMessage(cpSeq, cpHash, cpAt), cpSig) {
			return fail(cpSeq, Altered, "checkpoint signature does not verify")
		}
		rep.Checkpoint = cpSeq
		expect, prev = cpSeq+1, cpHash
	}

	var headSeq int64
	var headHash, headSig string
	err = db.QueryRow(ctx, `SELECT seq, hash, signature FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash, &headSig)
	if errors.Is(err, sql.ErrNoRows) {
		headSeq, headHash = 0, Genesis
	} else if err != nil {
		return rep, fmt.Errorf("read audit head: %w", err)
	} else if headSeq > 0 && !keyring.Verify(publicKey, headMessage(headSeq, headHash), headSig) {
		return fail(headSeq, Head, "the signature of the chain head does not verify: the head was rewritten")
	}
	rep.HeadSeq = headSeq

	rows, err := db.Query(ctx, `SELECT seq, at, actor_id, actor_name, actor_unit, action, object, outcome, remote, details, prev_hash, hash
		FROM audit_entries WHERE seq >= ? ORDER BY seq`, expect)
	if err != nil {
		return rep, fmt.Errorf("read audit entries: %w", err)
	}
	defer rows.Close()
	h := keyring.NewHash(suite)
	var last int64 = expect - 1
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor.ID, &e.Actor.Name, &e.Actor.Unit, &e.Action, &e.Object, &e.Outcome,
			&e.Actor.Remote, &e.details, &e.PrevHash, &e.Hash); err != nil {
			return rep, fmt.Errorf("read audit entry: %w", err)
		}
		e.At = store.Time(at)
		if rep.FirstSeq == 0 {
			rep.FirstSeq = e.Seq
		}
		if e.Seq > headSeq {
			return fail(e.Seq, Inserted, "entry lies beyond the signed head (%d): it was added outside Vigil", headSeq)
		}
		h.Reset()
		if hashEntry(h, &e) != e.Hash {
			return fail(e.Seq, Altered, "its contents do not match its hash (action %q, actor %q)", e.Action, e.Actor.Name)
		}
		if e.Seq != expect {
			return fail(expect, Removed, "entries %d to %d are missing", expect, e.Seq-1)
		}
		if e.PrevHash != prev {
			return fail(e.Seq, Inserted, "it does not link to entry %d: it was inserted, or the entries before it were rewritten", e.Seq-1)
		}
		prev = e.Hash
		expect++
		last = e.Seq
		rep.Checked++
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("read audit entries: %w", err)
	}
	if last < headSeq {
		return fail(last+1, Removed, "entries %d to %d (the newest) are missing", last+1, headSeq)
	}
	if prev != headHash {
		return fail(headSeq, Head, "the last entry's hash does not match the signed head: the chain was rewritten")
	}
	rep.OK = true
	return rep, nil
}
