// Package recordtest gives tests of recording, retention and playback
// their fixtures: registry rows for a camera (unit, site, camera) and
// indexed segments without a real recording.
package recordtest

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/media"
	"vigil/internal/media/mp4"
	"vigil/internal/policy"
	"vigil/internal/record"
	"vigil/internal/sim"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// Camera inserts a unit, a site and a camera into the registry tables.
func Camera(t testing.TB, db *store.DB, id, category string, antiTerror bool) {
	t.Helper()
	ctx := context.Background()
	unit := "u-" + id
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO units (id, parent_id, path, name, kind, created_at, updated_at) VALUES (?, NULL, ?, ?, 'police', 1, 1)`,
			[]any{unit, "/" + unit + "/", "Unit of " + id}},
		{`INSERT INTO sites (id, unit_id, name, category, anti_terror, security_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, FALSE, 1, 1)`,
			[]any{"s-" + id, unit, "Site of " + id, category, antiTerror}},
		{`INSERT INTO cameras (id, code, unit_id, name, site_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 1)`,
			[]any{id, fmt.Sprintf("%020d", len(id)*7919+int(id[len(id)-1])), unit, "Camera " + id, "s-" + id}},
	} {
		if _, err := db.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("fixture %s: %v", q.sql, err)
		}
	}
}

// The parameter sets of the simulator's H.264 clip (1280x720 Main).
var (
	sps, _ = hex.DecodeString("674d401fd9005005bb011000000300100000030320f1832480")
	pps, _ = hex.DecodeString("68ebccb2")
)

// Track is an H.264 track description for fixtures.
func Track() media.Track {
	return media.Track{Codec: media.H264, ClockRate: 90000, SPS: sps, PPS: pps, Width: 1280, Height: 720}
}

// object returns a segment file of size bytes: the init segment with the
// segment's user data, padded with a free box. It has no samples.
func object(s *record.Segment, size int) []byte {
	init, err := mp4.InitSegment([]media.Track{Track()}, map[string]string{"vigil.camera": s.CameraID,
		"vigil.stream": s.StreamID, "vigil.seq": strconv.FormatInt(s.Seq, 10), "vigil.start": strconv.FormatInt(s.Start.UnixMicro(), 10)})
	if err != nil {
		panic(err)
	}
	pad := max(size-len(init), 8)
	b := make([]byte, len(init)+pad)
	copy(b, init)
	binary.BigEndian.PutUint32(b[len(init):], uint32(pad))
	copy(b[len(init)+4:], "free")
	return b
}

// Segments indexes n segments of camera, each d long, from start, with
// objects of about size bytes in st (an init segment with the segment's
// user data and padding; no samples). st may be nil: rows only.
func Segments(t testing.TB, x *record.Index, st storage.Store, camera string, start time.Time, d time.Duration, n int, size int) []record.Segment {
	t.Helper()
	ctx := context.Background()
	last, _, err := x.Last(ctx, camera)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]record.Segment, 0, n)
	for i := 0; i < n; i++ {
		s := record.Segment{CameraID: camera, Seq: last.Seq + int64(i) + 1, StreamID: "fixture",
			Start: start.Add(time.Duration(i) * d).UTC().Truncate(time.Microsecond), Codec: "H264", Width: 1280, Height: 720}
		s.End = s.Start.Add(d)
		s.Key = fmt.Sprintf("%s/%s/%d-%08d.mp4", camera, s.Start.Format("20060102"), s.Start.UnixMicro(), s.Seq)
		buf := object(&s, size)
		s.Bytes = int64(len(buf))
		if st != nil {
			w, err := st.Create(ctx, s.Key)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(buf)
			w.Close()
		}
		h := x.NewHash()
		h.Write(buf)
		s.Hash = fmt.Sprintf("%x", h.Sum(nil))
		if err := x.Append(ctx, &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// Simulate publishes a simulated camera (H.264 with AAC) into hub under
// camera and records it with rec for d.
func Simulate(t testing.TB, rec *record.Recorder, hub *media.Hub, camera string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Publish(ctx, hub, camera, sim.Options{Audio: media.AAC}) }()
	recDone := make(chan error, 1)
	go func() { recDone <- rec.Record(ctx, camera, camera) }()
	time.Sleep(d)
	cancel()
	if err := <-recDone; err != nil {
		t.Fatalf("record: %v", err)
	}
	if err := <-simDone; err != nil {
		t.Fatalf("sim: %v", err)
	}
}

// Decision asks a gate over db (no profile obligations) for a playback of
// camera over [from, to) by a subject holding every permission everywhere,
// and returns its allow: for tests and benchmarks that read footage
// without a person.
func Decision(t testing.TB, db *store.DB, camera string, from, to time.Time) policy.Decision {
	t.Helper()
	l := audit.New(db, storetest.Keyring(t, keyring.Standard))
	t.Cleanup(l.Close)
	g := policy.NewGate(db, l, nil)
	s := &policy.Subject{UserID: "test", Name: "test", Grants: []policy.Grant{{Role: "test", Permissions: policy.AllPermissions, ScopePath: "/"}}}
	d, err := g.Decide(context.Background(), policy.Request{Subject: s, Action: policy.Playback,
		Cameras: []policy.Camera{{ID: camera, UnitPath: "/"}}, From: from, To: to, Purpose: "test", Method: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
