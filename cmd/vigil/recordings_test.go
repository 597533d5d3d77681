package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigil/internal/record"
	"vigil/internal/record/recordtest"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestRecordingsVerifyNamesTheBadSegment: `vigil recordings verify` exits
// 0 on an intact chain and 1 naming the first altered segment. // RET-4
func TestRecordingsVerifyNamesTheBadSegment(t *testing.T) {
	for _, d := range storetest.Engines {
		t.Run(d.String(), func(t *testing.T) { verifyCLI(t, d) })
	}
}

func verifyCLI(t *testing.T, d store.Dialect) {
	ctx := context.Background()
	dsn := storetest.DSN(t, d)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	st, err := storage.NewLocal([]string{filepath.Join(data, "recordings")}, -1)
	if err != nil {
		t.Fatal(err)
	}
	x := record.NewIndex(db, nil)
	segs := recordtest.Segments(t, x, st, "cam7", time.Now().Add(-time.Hour), time.Minute, 4, 2000)
	args := []string{"recordings", "verify", "--data", data, "--database", dsn}
	code, out, errs := runVigil(t, ctx, args...)
	if code != 0 || !strings.Contains(out, "camera cam7: OK, 4 segments") {
		t.Fatalf("intact: exit %d\n%s%s", code, out, errs)
	}
	f := filepath.Join(data, "recordings", segs[2].Key)
	b, _ := os.ReadFile(f)
	b[len(b)-1] ^= 1
	os.WriteFile(f, b, 0o640)
	code, out, _ = runVigil(t, ctx, append(args, "--camera", "cam7")...)
	if code != 1 || !strings.Contains(out, "segment 3") || !strings.Contains(out, record.BadFileAltered) {
		t.Fatalf("altered: exit %d\n%s", code, out)
	}
}
