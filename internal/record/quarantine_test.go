package record

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestRecoverQuarantinesAnUnreadableSegment: a segment without a complete
// fragment is not deleted by the repair (only the retention engine
// deletes footage): it is moved under quarantine/, kept byte for byte,
// audited, and counted by Verify. // RET-4
func TestRecoverQuarantinesAnUnreadableSegment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := newRig(t, db, Options{})
		key := segmentKey("camQ", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), 1)
		junk := []byte("\x00\x00\x00\x10ftypisom\x00\x00\x00\x00 not a segment")
		w, err := g.store.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(junk)
		w.Close()
		n, err := g.rec.Recover(ctx, "camQ")
		if err != nil || n != 0 {
			t.Fatalf("recover: %d, %v", n, err)
		}
		if _, err := g.store.Stat(ctx, key); err == nil {
			t.Error("the unreadable segment is still where recovery would retry it")
		}
		b, err := os.ReadFile(filepath.Join(g.dir, filepath.FromSlash(storage.QuarantinePrefix+key)))
		if err != nil || string(b) != string(junk) {
			t.Fatalf("the segment was not kept in quarantine: %v", err)
		}
		es, err := g.log.List(ctx, audit.Filter{Action: "record.quarantine"})
		if err != nil || len(es) != 1 || es[0].Object != "segment:"+key {
			t.Fatalf("quarantine audited: %+v %v", es, err)
		}
		rep, err := Verify(ctx, g.index, g.store, "camQ")
		if err != nil || rep.Quarantined != 1 {
			t.Fatalf("verify counts %+v, %v", rep, err)
		}
		// A second recovery finds nothing to do.
		if n, err := g.rec.Recover(ctx, "camQ"); err != nil || n != 0 {
			t.Fatalf("second recover: %d %v", n, err)
		}
	})
}
