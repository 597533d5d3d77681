package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

func appendN(t *testing.T, l *audit.Log, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := l.Append(context.Background(), audit.Entry{
			Actor:  audit.Actor{ID: "u1", Name: "张三", Unit: "普陀分局"},
			Action: "test.action", Object: fmt.Sprintf("thing:%d", i),
			Details: map[string]any{"i": i},
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, l *audit.Log) audit.Report {
	t.Helper()
	rep, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestVerifyCatchesTampering edits the database behind Vigil's back in each
// of the three ways AUD-1 names and expects verification to name the entry.
func TestVerifyCatchesTampering(t *testing.T) { // AUD-1
	for _, suite := range []keyring.Suite{keyring.Standard, keyring.SM} {
		t.Run(string(suite), func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				kr := storetest.Keyring(t, suite)
				cases := []struct {
					name   string
					tamper string
					seq    int64
					kind   string
				}{
					{"alter", `UPDATE audit_entries SET actor_name = '李四' WHERE seq = 5`, 5, audit.Altered},
					{"alter-details", `UPDATE audit_entries SET details = '{"i":99}' WHERE seq = 7`, 7, audit.Altered},
					{"remove", `DELETE FROM audit_entries WHERE seq = 4`, 4, audit.Removed},
					{"remove-newest", `DELETE FROM audit_entries WHERE seq = 10`, 10, audit.Removed},
					{"insert", `INSERT INTO audit_entries (seq, at, actor_id, actor_name, actor_unit, action, object, outcome, remote, details, prev_hash, hash)
						SELECT 11, at, actor_id, actor_name, actor_unit, action, object, outcome, remote, details, hash, hash FROM audit_entries WHERE seq = 10`, 11, audit.Inserted},
				}
				for _, c := range cases {
					t.Run(c.name, func(t *testing.T) {
						if _, err := db.Exec(ctx, `DELETE FROM audit_entries`); err != nil {
							t.Fatal(err)
						}
						db.Exec(ctx, `DELETE FROM audit_head`)
						l := audit.New(db, kr)
						defer l.Close()
						appendN(t, l, 10)
						if rep := verify(t, l); !rep.OK || rep.Checked != 10 {
							t.Fatalf("untouched chain: %+v", rep)
						}
						if _, err := db.Exec(ctx, c.tamper); err != nil {
							t.Fatal(err)
						}
						rep := verify(t, l)
						if rep.OK || rep.Problem == nil {
							t.Fatalf("tampering not caught: %+v", rep)
						}
						if rep.Problem.Seq != c.seq || rep.Problem.Kind != c.kind {
							t.Fatalf("got problem %+v, want seq %d kind %s", rep.Problem, c.seq, c.kind)
						}
					})
				}
			})
		})
	}
}

// A chain rewritten from some entry on, with hashes recomputed by an
// attacker who has no signing key, fails at the signed head.
func TestVerifyCatchesRewrittenChain(t *testing.T) { // AUD-1
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kr := storetest.Keyring(t, keyring.Standard)
		l := audit.New(db, kr)
		defer l.Close()
		appendN(t, l, 3)
		// Re-create the chain under another keyring: hashes link, but the head
		// signature was made by a key the verifier does not trust.
		other := storetest.Keyring(t, keyring.Standard)
		db.Exec(ctx, `DELETE FROM audit_entries`)
		db.Exec(ctx, `DELETE FROM audit_head`)
		l2 := audit.New(db, other)
		appendN(t, l2, 3)
		l2.Close()
		rep := verify(t, l)
		if rep.OK || rep.Problem == nil || rep.Problem.Kind != audit.Head {
			t.Fatalf("forged chain not caught: %+v", rep)
		}
	})
}

func TestAppendTxRollsBackWithStateChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := audit.New(db, storetest.Keyring(t, keyring.Standard))
		defer l.Close()
		appendN(t, l, 1)
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := l.AppendTx(ctx, tx, audit.Entry{Actor: audit.System, Action: "x.change"}); err != nil {
				return err
			}
			return fmt.Errorf("the state change failed")
		})
		if err == nil {
			t.Fatal("expected the transaction's error")
		}
		es, err := l.List(ctx, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 {
			t.Fatalf("rolled-back entry is visible: %d entries", len(es))
		}
		appendN(t, l, 1)
		if rep := verify(t, l); !rep.OK || rep.Checked != 2 {
			t.Fatalf("chain after rollback: %+v", rep)
		}
	})
}

func TestConcurrentAppendsChainInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := audit.New(db, storetest.Keyring(t, keyring.Standard))
		defer l.Close()
		var wg sync.WaitGroup
		seqs := make(chan int64, 400)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					e, err := l.Append(context.Background(), audit.Entry{Actor: audit.System, Action: "load"})
					if err != nil {
						t.Error(err)
						return
					}
					seqs <- e.Seq
				}
			}()
		}
		wg.Wait()
		close(seqs)
		seen := map[int64]bool{}
		for s := range seqs {
			if seen[s] {
				t.Fatalf("seq %d handed out twice", s)
			}
			seen[s] = true
		}
		if rep := verify(t, l); !rep.OK || rep.Checked != 400 {
			t.Fatalf("after concurrent appends: %+v", rep)
		}
	})
}

// Pruning keeps a signed checkpoint so the remaining chain verifies, and
// refuses a retention below the profile's minimum.
func TestPruneKeepsVerifiableChain(t *testing.T) { // AUD-1
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := audit.New(db, storetest.Keyring(t, keyring.Standard))
		defer l.Close()
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		l.SetClock(func() time.Time { return now })
		appendN(t, l, 5)
		now = now.AddDate(0, 0, 200)
		appendN(t, l, 3)
		if _, err := l.Prune(ctx, 100*24*time.Hour, 180*24*time.Hour); err == nil {
			t.Fatal("a retention below the minimum was accepted")
		}
		n, err := l.Prune(ctx, 180*24*time.Hour, 180*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Fatalf("pruned %d entries, want 5", n)
		}
		rep := verify(t, l)
		if !rep.OK || rep.Checkpoint != 5 || rep.Checked != 4 {
			t.Fatalf("after prune: %+v", rep)
		}
		// Tampering with the checkpoint is caught.
		db.Exec(ctx, `UPDATE audit_checkpoints SET hash = 'x'`)
		if rep := verify(t, l); rep.OK {
			t.Fatal("altered checkpoint not caught")
		}
	})
}
