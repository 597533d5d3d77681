package record

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestRecordSegmentsVerifyAndTamper records a simulated camera across
// several segments, checks every segment with ffprobe and the chain with
// Verify, then tampers in each way RET-4 names and expects Verify to name
// the segment. // RET-3, RET-4, RET-5
func TestRecordSegmentsVerifyAndTamper(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		ctx := context.Background()
		g := newRig(t, db, Options{SegmentLength: 3 * time.Second})
		began := time.Now()
		g.record(t, "cam1", 12*time.Second)

		segs, err := g.index.List(ctx, "cam1", began.Add(-time.Minute), time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) < 3 {
			t.Fatalf("%d segments in 12 s at 3 s each", len(segs))
		}
		frames := 0
		for i, s := range segs {
			if s.Seq != int64(i+1) {
				t.Fatalf("segment %d has seq %d", i, s.Seq)
			}
			if i > 0 && !s.Start.Equal(segs[i-1].End) {
				t.Errorf("segment %d starts at %s, the previous ends at %s: consecutive segments of a stream must abut", s.Seq, s.Start, segs[i-1].End)
			}
			file := filepath.Join(g.dir, s.Key)
			p := ffprobe(t, file)
			if p.Codec != "h264" || p.Width != 1280 || p.Height != 720 || p.AudioCodec != "aac" {
				t.Errorf("segment %d: %+v", s.Seq, p)
			}
			if s.Codec != "H264" || s.Width != 1280 || s.Height != 720 {
				t.Errorf("segment %d row: %s %dx%d", s.Seq, s.Codec, s.Width, s.Height)
			}
			want := int(s.Duration().Seconds()*25 + 0.5)
			if p.Frames != want {
				t.Errorf("segment %d: %d frames for %v (want %d at 25 fps)", s.Seq, p.Frames, s.Duration(), want)
			}
			if i < len(segs)-1 && (s.Duration() < 3*time.Second || s.Duration() > 4*time.Second+100*time.Millisecond) {
				t.Errorf("segment %d lasts %v: cut at the first keyframe after 3 s", s.Seq, s.Duration())
			}
			if e := decodeErrors(t, file); e != "" {
				t.Errorf("segment %d does not decode cleanly: %s", s.Seq, e)
			}
			frames += p.Frames
		}
		if frames < 11*25 {
			t.Errorf("%d frames recorded in 12 s", frames)
		}
		rep, err := Verify(ctx, g.index, g.store, "cam1")
		if err != nil || !rep.OK() || rep.Anchored == 0 {
			t.Fatalf("verify of an untouched recording: %+v %v", rep, err)
		}
		// A gap with cause recorder_stopped is open after the stop.
		cov, err := g.index.Coverage(ctx, "cam1", segs[0].Start, segs[len(segs)-1].End.Add(time.Minute))
		if err != nil || len(cov.Spans) != 1 || len(cov.Gaps) != 1 || cov.Gaps[0].Cause != CauseStopped {
			t.Fatalf("coverage: %+v %v", cov, err)
		}

		tamperings := []struct {
			name    string
			seq     int64
			kind    string
			tamper  func(t *testing.T)
			restore func(t *testing.T)
		}{
			{"one byte changed", 2, BadFileAltered, func(t *testing.T) { flipByte(t, filepath.Join(g.dir, segs[1].Key), 3000) },
				func(t *testing.T) { flipByte(t, filepath.Join(g.dir, segs[1].Key), 3000) }},
			{"file deleted", 3, BadFileMissing, func(t *testing.T) {
				os.Rename(filepath.Join(g.dir, segs[2].Key), filepath.Join(g.dir, "moved"))
			}, func(t *testing.T) { os.Rename(filepath.Join(g.dir, "moved"), filepath.Join(g.dir, segs[2].Key)) }},
			{"index row deleted", 2, BadMissingRow, func(t *testing.T) {
				execSQL(t, db, `DELETE FROM segments WHERE camera_id = 'cam1' AND seq = 2`)
			}, func(t *testing.T) { reinsert(t, g.index, segs[1]) }},
			{"segment hidden as if deleted by retention", 2, BadUnaudited, func(t *testing.T) {
				execSQL(t, db, fmt.Sprintf(`UPDATE segments SET deleted_at = %d WHERE camera_id = 'cam1' AND seq = 2`, time.Now().UnixMicro()))
			}, func(t *testing.T) {
				execSQL(t, db, `UPDATE segments SET deleted_at = 0 WHERE camera_id = 'cam1' AND seq = 2`)
			}},
			{"rows reordered", 2, BadChain, func(t *testing.T) { swapRows(t, db, 2, 3) }, func(t *testing.T) { swapRows(t, db, 2, 3) }},
			{"chain rewritten consistently after a file change", int64(len(segs)), BadAnchor, func(t *testing.T) {
				// Whoever rewrites a file, its row and every later chain hash
				// is caught by the head anchored in the audit log.
				flipByte(t, filepath.Join(g.dir, segs[1].Key), 3000)
				rows, _ := g.index.Chain(ctx, "cam1")
				prev := rows[0].ChainHash
				for i := 1; i < len(rows); i++ {
					r := rows[i]
					if i == 1 {
						r.Hash, _ = hashObject(ctx, g.store, g.index, r.Key)
					}
					r.PrevHash = prev
					r.ChainHash = g.index.chainHash(&r)
					prev = r.ChainHash
					if _, err := db.Exec(ctx, `UPDATE segments SET hash = ?, prev_hash = ?, chain_hash = ? WHERE camera_id = 'cam1' AND seq = ?`,
						r.Hash, r.PrevHash, r.ChainHash, r.Seq); err != nil {
						t.Fatal(err)
					}
				}
			}, nil},
			{"row inserted", 3, BadChain, func(t *testing.T) {
				// Make room after row 2 and insert a forged copy of it.
				execSQL(t, db, `UPDATE segments SET seq = seq + 1000 WHERE camera_id = 'cam1' AND seq >= 3`)
				execSQL(t, db, `UPDATE segments SET seq = seq - 999 WHERE camera_id = 'cam1' AND seq >= 1000`)
				forged := segs[1]
				forged.Seq = 3
				reinsert(t, g.index, forged)
			}, nil},
		}
		for _, tc := range tamperings {
			tc.tamper(t)
			rep, err := Verify(ctx, g.index, g.store, "cam1")
			if err != nil {
				t.Fatal(err)
			}
			first := rep.First()
			if first == nil || first.Seq != tc.seq || first.Kind != tc.kind {
				t.Errorf("%s: first problem %+v, want segment %d %s (all: %+v)", tc.name, first, tc.seq, tc.kind, rep.Problems)
			}
			if tc.restore != nil {
				tc.restore(t)
				if rep, _ := Verify(ctx, g.index, g.store, "cam1"); !rep.OK() {
					t.Fatalf("%s: restored, still %+v", tc.name, rep.Problems)
				}
			}
		}
	})
}

func flipByte(t *testing.T, file string, off int64) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func execSQL(t *testing.T, db *store.DB, q string) {
	t.Helper()
	if _, err := db.Exec(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func reinsert(t *testing.T, x *Index, s Segment) {
	t.Helper()
	_, err := x.db.Exec(context.Background(), `INSERT INTO segments (`+segmentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
		s.CameraID, s.Seq, s.StreamID, store.Micros(s.Start), store.Micros(s.End), s.Bytes, s.Codec, s.Width, s.Height,
		s.Key, s.Hash, s.PrevHash, s.ChainHash, store.Micros(s.CreatedAt))
	if err != nil {
		t.Fatal(err)
	}
}

// swapRows exchanges the sequence numbers of two index rows.
func swapRows(t *testing.T, db *store.DB, a, b int64) {
	t.Helper()
	for _, q := range []string{
		fmt.Sprintf(`UPDATE segments SET seq = 999 WHERE camera_id = 'cam1' AND seq = %d`, a),
		fmt.Sprintf(`UPDATE segments SET seq = %d WHERE camera_id = 'cam1' AND seq = %d`, a, b),
		fmt.Sprintf(`UPDATE segments SET seq = %d WHERE camera_id = 'cam1' AND seq = 999`, b),
	} {
		execSQL(t, db, q)
	}
}
