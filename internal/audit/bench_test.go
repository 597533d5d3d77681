package audit_test

import (
	"context"
	"testing"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// BenchmarkAppendSQLite measures durable appends per second on SQLite
// (WAL, synchronous=FULL) with concurrent callers batched into group
// commits: every Append returns only after its batch committed.
func BenchmarkAppendSQLite(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	l := audit.New(db, storetest.Keyring(b, keyring.Standard))
	defer l.Close()
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(context.Background(), audit.Entry{
				Actor: audit.Actor{ID: "u", Name: "值班员", Unit: "指挥中心"}, Action: "gate.decide", Object: "camera:1",
				Details: map[string]any{"purpose": "巡查"},
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}
