// Package recordbench measures the recording index and export (issue 4):
//
//	go test ./bench/record/ -run '^$' -bench . -benchtime 20x
//
// BenchmarkList30Days lists 30 days of 5-minute segments of one camera
// (target < 20 ms); BenchmarkOpenRandom looks up a random 1-minute range
// in an index of 30 days × 100 cameras; BenchmarkExportMP4 writes a plain
// MP4 of 1 hour of 3 Mbit/s video from recorded segments (target
// > 300 MB/s; disk-bound).
package recordbench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"vigil/internal/keyring"
	"vigil/internal/media"
	"vigil/internal/media/mp4"
	"vigil/internal/playback"
	"vigil/internal/record"
	"vigil/internal/record/recordtest"
	"vigil/internal/sim"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// bulkRows inserts n 5-minute segment rows per camera in one transaction
// (index rows only; chain hashes are not computed: listing does not read
// them).
func bulkRows(b *testing.B, db *store.DB, cameras, n int) {
	b.Helper()
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for c := 0; c < cameras; c++ {
			cam := fmt.Sprintf("cam%03d", c)
			for i := 0; i < n; i++ {
				st := epoch.Add(time.Duration(i) * 5 * time.Minute)
				_, err := tx.Exec(ctx, `INSERT INTO segments (camera_id, seq, stream_id, start_us, end_us, bytes, codec, width, height,
					storage_key, hash, prev_hash, chain_hash, created_at) VALUES (?, ?, 's', ?, ?, 112500000, 'H264', 1920, 1080, ?, 'h', 'p', 'c', 1)`,
					cam, i+1, st.UnixMicro(), st.Add(5*time.Minute).UnixMicro(), cam+"/"+strconv.Itoa(i)+".mp4")
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func engines(b *testing.B, fn func(b *testing.B, d store.Dialect)) {
	for _, d := range storetest.Engines {
		b.Run(d.String(), func(b *testing.B) { fn(b, d) })
	}
}

func BenchmarkList30Days(b *testing.B) {
	engines(b, func(b *testing.B, d store.Dialect) {
		db := storetest.Open(b, d)
		bulkRows(b, db, 1, 30*288)
		x := record.NewIndex(db, nil)
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			segs, err := x.List(ctx, "cam000", epoch, epoch.AddDate(0, 0, 30))
			if err != nil || len(segs) != 30*288 {
				b.Fatalf("%d segments, %v", len(segs), err)
			}
		}
	})
}

// BenchmarkCoverage30Days is what GET …/recordings answers for 30 days:
// the rows read for spans and gaps, merged.
func BenchmarkCoverage30Days(b *testing.B) {
	engines(b, func(b *testing.B, d store.Dialect) {
		db := storetest.Open(b, d)
		bulkRows(b, db, 1, 30*288)
		x := record.NewIndex(db, nil)
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c, err := x.Coverage(ctx, "cam000", epoch, epoch.AddDate(0, 0, 30))
			if err != nil || len(c.Spans) != 1 || c.Spans[0].Segments != 30*288 {
				b.Fatalf("%+v, %v", c, err)
			}
		}
	})
}

func BenchmarkOpenRandom(b *testing.B) {
	engines(b, func(b *testing.B, d store.Dialect) {
		db := storetest.Open(b, d)
		bulkRows(b, db, 100, 30*288)
		x := record.NewIndex(db, nil)
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			cam := fmt.Sprintf("cam%03d", rand.IntN(100))
			at := epoch.Add(time.Duration(rand.Int64N(int64(30*24*time.Hour - time.Minute))))
			segs, err := x.List(ctx, cam, at, at.Add(time.Minute))
			if err != nil || len(segs) == 0 {
				b.Fatalf("%d segments, %v", len(segs), err)
			}
		}
	})
}

// clipUnits collects 2 s of the simulator's units (H.264 at ~3 Mbit/s).
func clipUnits(b *testing.B) ([]media.Track, []media.Unit) {
	b.Helper()
	hub := media.NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sim.Publish(ctx, hub, "c", sim.Options{})
	rd, err := hub.SubscribeWait(ctx, "c", media.ReaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var us []media.Unit
	for len(us) < 76 {
		u, err := rd.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(us) == 0 && !u.Key {
			continue
		}
		us = append(us, u)
	}
	return rd.Tracks(), us[:75] // 3 s: three whole GOPs
}

// hourOfSegments writes and indexes 1 hour of 5-minute segments.
func hourOfSegments(b *testing.B, x *record.Index, st storage.Store, cam string) {
	b.Helper()
	ctx := context.Background()
	tracks, units := clipUnits(b)
	const perSeg = 5 * 60 * 25
	for seg := 0; seg < 12; seg++ {
		start := epoch.Add(time.Duration(seg) * 5 * time.Minute)
		key := fmt.Sprintf("%s/%d.mp4", cam, seg+1)
		w, err := st.Create(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		h := x.NewHash()
		cw := &counter{w: io.MultiWriter(w, h)}
		fw, err := mp4.NewFragmentWriter(cw, tracks, mp4.FragmentOptions{UserData: map[string]string{
			"vigil.camera": cam, "vigil.stream": "bench", "vigil.seq": strconv.Itoa(seg + 1), "vigil.start": strconv.FormatInt(start.UnixMicro(), 10)}})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < perSeg; i++ {
			u := units[i%len(units)]
			u.PTS = int64(seg*perSeg+i) * 3600
			u.DTS = u.PTS
			if err := fw.WriteUnit(u); err != nil {
				b.Fatal(err)
			}
		}
		if err := fw.Flush(); err != nil {
			b.Fatal(err)
		}
		w.Close()
		s := &record.Segment{CameraID: cam, Seq: int64(seg + 1), StreamID: "bench", Start: start, End: start.Add(5 * time.Minute),
			Bytes: cw.n, Codec: "H264", Width: 1280, Height: 720, Key: key, Hash: fmt.Sprintf("%x", h.Sum(nil))}
		if err := x.Append(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// BenchmarkPlaybackOpen is the time to the first byte of a 10-second
// fMP4 playback at a random moment of a recorded hour: index lookup, the
// segments' moov/moof parsed, the clip written (the HTTP handler serves it
// from a temporary file once written).
func BenchmarkPlaybackOpen(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	st, err := storage.NewLocal([]string{b.TempDir()}, -1)
	if err != nil {
		b.Fatal(err)
	}
	x := record.NewIndex(db, nil)
	hourOfSegments(b, x, st, "cam1")
	ctx := context.Background()
	dec := recordtest.Decision(b, db, "cam1", epoch, epoch.Add(time.Hour))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at := epoch.Add(time.Duration(rand.Int64N(int64(59 * time.Minute))))
		clip, err := playback.Open(ctx, dec, x, st, "cam1", at, 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if err := clip.WriteFMP4(io.Discard, nil); err != nil {
			b.Fatal(err)
		}
		clip.Close()
	}
}

func BenchmarkExportMP4(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	st, err := storage.NewLocal([]string{b.TempDir()}, -1)
	if err != nil {
		b.Fatal(err)
	}
	x := record.NewIndex(db, storetest.Keyring(b, keyring.Standard))
	hourOfSegments(b, x, st, "cam1")
	ctx := context.Background()
	dec := recordtest.Decision(b, db, "cam1", epoch, epoch.Add(time.Hour))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clip, err := playback.Open(ctx, dec, x, st, "cam1", epoch.Add(90*time.Second+20*time.Millisecond), time.Hour-2*time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		cw := &counter{w: io.Discard}
		if err := clip.WriteMP4(cw, nil); err != nil {
			b.Fatal(err)
		}
		clip.Close()
		b.SetBytes(cw.n)
	}
}
