package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/profile"
	"vigil/internal/record"
	"vigil/internal/record/recordtest"
	"vigil/internal/retention"
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

// TestRecordingsVerifyProvesEveryDeletion: a deletion is valid only when a
// retention.delete audit entry proves it and the segment was past its
// retention and unheld at that moment — for any date. A segment hidden with
// an old deleted_at (before the oldest audit entry) once passed as
// "deleted by retention". // RET-4
func TestRecordingsVerifyProvesEveryDeletion_RET4(t *testing.T) {
	for _, d := range storetest.Engines {
		t.Run(d.String(), func(t *testing.T) { verifyDeletions(t, d) })
	}
}

func verifyDeletions(t *testing.T, d store.Dialect) {
	{
		ctx := context.Background()
		data := t.TempDir()
		dsn := storetest.DSN(t, d)
		cdb, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer cdb.Close()
		if _, err := cdb.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := storage.NewLocal([]string{filepath.Join(data, "recordings")}, -1)
		if err != nil {
			t.Fatal(err)
		}
		kr := storetest.Keyring(t, keyring.Standard)
		lg := audit.New(cdb, kr)
		defer lg.Close()
		x := record.NewIndex(cdb, nil)
		recordtest.Camera(t, cdb, "cam8", "metro", false)
		now := time.Now().UTC()
		old := recordtest.Segments(t, x, st, "cam8", now.AddDate(0, 0, -60), time.Minute, 4, 2000)
		recent := recordtest.Segments(t, x, st, "cam8", now.Add(-time.Hour), time.Minute, 4, 2000)
		p, err := profile.Load("national-baseline")
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := retention.New(x, st, lg, p).Run(ctx); err != nil || rep.Deleted != 4 {
			t.Fatalf("retention run: %+v %v", rep, err)
		}
		args := []string{"recordings", "verify", "--data", data, "--database", dsn, "--camera", "cam8"}
		code, out, errs := runVigil(t, ctx, args...)
		if code != 0 || !strings.Contains(out, "OK, 8 segments (4 deleted by retention)") {
			t.Fatalf("honest deletions: exit %d\n%s%s", code, out, errs)
		}

		exec := func(q string, a ...any) {
			t.Helper()
			if _, err := cdb.Exec(ctx, q, a...); err != nil {
				t.Fatal(err)
			}
		}
		// Hidden: a recent segment marked deleted years ago, its file removed.
		exec(`UPDATE segments SET deleted_at = ? WHERE camera_id = 'cam8' AND seq = ?`, store.Micros(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)), recent[2].Seq)
		hidden := filepath.Join(data, "recordings", recent[2].Key)
		if err := os.Rename(hidden, hidden+".away"); err != nil {
			t.Fatal(err)
		}
		code, out, _ = runVigil(t, ctx, args...)
		if code != 1 || !strings.Contains(out, "segment 7") || !strings.Contains(out, record.BadUnaudited) {
			t.Fatalf("hidden deletion with an old date: exit %d\n%s", code, out)
		}
		exec(`UPDATE segments SET deleted_at = 0 WHERE camera_id = 'cam8' AND seq = ?`, recent[2].Seq)
		os.Rename(hidden+".away", hidden)

		// Early: an audited deletion of a segment still inside its retention.
		if _, err := lg.Append(ctx, audit.Entry{Actor: audit.System, Action: "retention.delete", Object: "camera:cam8", Outcome: audit.OK,
			Details: map[string]any{"seq": recent[1].Seq, "hash": recent[1].Hash, "retention_days": 30,
				"cutoff": now.AddDate(0, 0, -30).Format(time.RFC3339)}}); err != nil {
			t.Fatal(err)
		}
		exec(`UPDATE segments SET deleted_at = ? WHERE camera_id = 'cam8' AND seq = ?`, store.Micros(now), recent[1].Seq)
		code, out, _ = runVigil(t, ctx, args...)
		if code != 1 || !strings.Contains(out, "segment 6") || !strings.Contains(out, record.BadDeletedEarly) {
			t.Fatalf("deletion inside retention: exit %d\n%s", code, out)
		}
		exec(`UPDATE segments SET deleted_at = 0 WHERE camera_id = 'cam8' AND seq = ?`, recent[1].Seq)

		// Held: an evidence hold over segment 2 was in force when it went.
		exec(`INSERT INTO evidence_holds (id, camera_id, start_us, end_us, reason, case_number, until_us, created_by, created_at)
			VALUES ('h1', 'cam8', ?, ?, 'case', 'x', ?, 'u', ?)`, store.Micros(old[1].Start), store.Micros(old[1].End),
			store.Micros(now.AddDate(2, 0, 0)), store.Micros(now.AddDate(0, 0, -59)))
		code, out, _ = runVigil(t, ctx, args...)
		if code != 1 || !strings.Contains(out, "segment 2") || !strings.Contains(out, record.BadDeletedHeld) {
			t.Fatalf("deletion under a hold: exit %d\n%s", code, out)
		}
	}
}
