// Package audit is Vigil's tamper-evident log (AUD-1): every sign-in, every
// change of state and every gate decision is appended to a hash chain.
//
// Invariants:
//   - Entries are numbered 1, 2, 3, … without gaps. Entry n stores the hash
//     of entry n-1 (prev_hash) and its own hash over that and all its
//     fields, with the suite's hash (SHA-256, or SM3 under `crypto: sm`).
//   - audit_head holds the latest (seq, hash), signed with the data
//     directory's key; it moves in the same transaction as the entries, so
//     rows forged past the head, or a chain rewritten from some point on,
//     fail verification even though anyone can compute a hash.
//   - A state change and its entry commit together (AppendTx inside the
//     caller's transaction). Entries without a state change (a failed
//     sign-in) go through Append, which batches concurrent callers into one
//     transaction and returns only once the batch is durable.
//   - Denials are entries too (Outcome Denied): a domain that refuses
//     audits its refusal, or the HTTP layer does, once (TrackDenials).
//   - Reading is scoped (Filter.Scopes) like the access registry.
//   - Pruning removes a prefix of the chain older than the profile's
//     retention and leaves a signed checkpoint (seq, hash) from which the
//     rest still verifies.
package audit

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"sync"
	"time"

	"vigil/internal/keyring"
	"vigil/internal/store"
)

// Outcomes of an audited action.
const (
	OK     = "ok"
	Denied = "denied"
	Failed = "failed"
)

// Actor is who did something: a user, a token, or the system itself.
type Actor struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Unit   string `json:"unit"`
	Remote string `json:"remote,omitempty"`
}

// System is the actor for what Vigil does by itself.
var System = Actor{ID: "system", Name: "system", Unit: ""}

// Entry is one record of the chain.
type Entry struct {
	Seq      int64          `json:"seq"`
	At       time.Time      `json:"at"`
	Actor    Actor          `json:"actor"`
	Action   string         `json:"action"`  // e.g. "session.signin", "unit.create", "gate.decide"
	Object   string         `json:"object"`  // e.g. "user:ab12…", "camera:3402…"
	Outcome  string         `json:"outcome"` // OK, Denied, Failed
	Details  map[string]any `json:"details,omitempty"`
	PrevHash string         `json:"prev_hash"`
	Hash     string         `json:"hash"`

	details string // the exact JSON that was hashed
}

// Genesis is the prev_hash of entry 1.
const Genesis = "genesis"

// Log appends to and reads the chain.
type Log struct {
	db  *store.DB
	kr  *keyring.Keyring
	now func() time.Time

	reqs     chan appendReq
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

type appendReq struct {
	e    Entry
	resp chan appendResp
}

type appendResp struct {
	e   Entry
	err error
}

// New returns a Log over db, hashing and signing with kr. Close stops its
// batching writer.
func New(db *store.DB, kr *keyring.Keyring) *Log {
	l := &Log{db: db, kr: kr, now: time.Now,
		reqs: make(chan appendReq, 4096), stop: make(chan struct{}), done: make(chan struct{})}
	go l.writer()
	return l
}

// SetClock replaces the log's clock (tests).
func (l *Log) SetClock(now func() time.Time) { l.now = now }

// Close stops the batching writer after the pending appends are written.
func (l *Log) Close() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

// AppendTx appends e inside the caller's transaction, so that it commits or
// rolls back with the state change it records.
func (l *Log) AppendTx(ctx context.Context, tx *store.Tx, e Entry) (Entry, error) {
	out, err := l.appendRows(ctx, tx, []Entry{e})
	if err != nil {
		return Entry{}, err
	}
	markDenial(ctx, e)
	return out[0], nil
}

// Append appends e in a transaction of its own, batched with concurrent
// appends; it returns once the entry is durable.
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	r := appendReq{e: e, resp: make(chan appendResp, 1)}
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		return Entry{}, ctx.Err()
	case <-l.stop:
		return Entry{}, errors.New("audit log closed")
	}
	// Once queued the entry will be written; wait for durability even if the
	// caller's context ends, so a reported failure is a real one.
	resp := <-r.resp
	if resp.err == nil {
		markDenial(ctx, e)
	}
	return resp.e, resp.err
}

const maxBatch = 512

func (l *Log) writer() {
	defer close(l.done)
	for {
		var first appendReq
		select {
		case first = <-l.reqs:
		case <-l.stop:
			// Drain what was queued before Close.
			for {
				select {
				case r := <-l.reqs:
					l.writeBatch([]appendReq{r})
				default:
					return
				}
			}
		}
		batch := []appendReq{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		l.writeBatch(batch)
	}
}

func (l *Log) writeBatch(batch []appendReq) {
	es := make([]Entry, len(batch))
	for i, r := range batch {
		es[i] = r.e
	}
	var out []Entry
	err := l.db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = l.appendRows(context.Background(), tx, es)
		return err
	})
	for i, r := range batch {
		if err != nil {
			r.resp <- appendResp{err: err}
		} else {
			r.resp <- appendResp{e: out[i]}
		}
	}
}

func (l *Log) appendRows(ctx context.Context, tx *store.Tx, es []Entry) ([]Entry, error) {
	var seq int64
	var prev string
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+tx.ForUpdate()).Scan(&seq, &prev)
	if errors.Is(err, sql.ErrNoRows) {
		seq, prev = 0, Genesis
		if _, err := tx.Exec(ctx, `INSERT INTO audit_head (id, seq, hash, signature, updated_at) VALUES (1, 0, ?, '', 0)`, Genesis); err != nil {
			return nil, fmt.Errorf("audit: create head: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("audit: read head: %w", err)
	}
	now := l.now().UTC().Truncate(time.Microsecond)
	out := make([]Entry, len(es))
	for i, e := range es {
		seq++
		e.Seq = seq
		if e.At.IsZero() {
			e.At = now
		}
		e.At = e.At.UTC().Truncate(time.Microsecond)
		if e.Outcome == "" {
			e.Outcome = OK
		}
		if e.Details == nil {
			e.details = "{}"
		} else {
			b, err := json.Marshal(e.Details)
			if err != nil {
				return nil, fmt.Errorf("audit: details of %s: %w", e.Action, err)
			}
			e.details = string(b)
		}
		e.PrevHash = prev
		e.Hash = hashEntry(l.kr.NewHash(), &e)
		if _, err := tx.Exec(ctx, `INSERT INTO audit_entries
			(seq, at, actor_id, actor_name, actor_unit, action, object, outcome, remote, details, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, store.Micros(e.At), e.Actor.ID, e.Actor.Name, e.Actor.Unit, e.Action, e.Object, e.Outcome,
			e.Actor.Remote, e.details, e.PrevHash, e.Hash); err != nil {
			return nil, fmt.Errorf("audit: insert entry %d: %w", e.Seq, err)
		}
		prev = e.Hash
		out[i] = e
	}
	sig, err := l.kr.Sign(headMessage(seq, prev))
	if err != nil {
		return nil, fmt.Errorf("audit: sign head: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = ?, hash = ?, signature = ?, updated_at = ? WHERE id = 1`,
		seq, prev, sig, store.Micros(now)); err != nil {
		return nil, fmt.Errorf("audit: move head: %w", err)
	}
	return out, nil
}

// hashEntry computes an entry's hash: every field length-prefixed, so no
// two different entries share an input.
func hashEntry(h hash.Hash, e *Entry) string {
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field("vigil-audit-v1")
	field(e.PrevHash)
	field(strconv.FormatInt(e.Seq, 10))
	field(strconv.FormatInt(store.Micros(e.At), 10))
	field(e.Actor.ID)
	field(e.Actor.Name)
	field(e.Actor.Unit)
	field(e.Actor.Remote)
	field(e.Action)
	field(e.Object)
	field(e.Outcome)
	field(e.details)
	return hex.EncodeToString(h.Sum(nil))
}

func headMessage(seq int64, hash string) []byte {
	return []byte("vigil-audit-head\n" + strconv.FormatInt(seq, 10) + "\n" + hash)
}

func checkpointMessage(seq int64, hash string, at int64) []byte {
	return []byte("vigil-audit-checkpoint\n" + strconv.FormatInt(seq, 10) + "\n" + hash + "\n" + strconv.FormatInt(at, 10))
}
