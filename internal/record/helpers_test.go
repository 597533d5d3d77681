package record

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/media"
	"vigil/internal/sim"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
	"vigil/internal/testutil"
)

// rig is a recorder over a fresh database and data directory.
type rig struct {
	db    *store.DB
	kr    *keyring.Keyring
	log   *audit.Log
	store *storage.Local
	dir   string
	index *Index
	rec   *Recorder
	hub   *media.Hub
}

func newRig(t *testing.T, db *store.DB, opts Options) *rig {
	t.Helper()
	kr := storetest.Keyring(t, keyring.Standard)
	dir := t.TempDir()
	return newRigAt(t, db, kr, dir, opts)
}

func newRigAt(t *testing.T, db *store.DB, kr *keyring.Keyring, dir string, opts Options) *rig {
	t.Helper()
	st, err := storage.NewLocal([]string{dir}, -1)
	if err != nil {
		t.Fatal(err)
	}
	lg := audit.New(db, kr)
	t.Cleanup(lg.Close)
	x := NewIndex(db, kr)
	hub := media.NewHub()
	return &rig{db: db, kr: kr, log: lg, store: st, dir: dir, index: x, hub: hub, rec: New(hub, st, x, lg, opts)}
}

// record runs a simulated camera into the hub and records it for d.
func (g *rig) record(t *testing.T, camera string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Publish(ctx, g.hub, camera, sim.Options{Audio: media.AAC}) }()
	recDone := make(chan error, 1)
	go func() { recDone <- g.rec.Record(ctx, camera, camera) }()
	time.Sleep(d)
	cancel()
	if err := <-recDone; err != nil {
		t.Fatalf("record: %v", err)
	}
	if err := <-simDone; err != nil {
		t.Fatalf("sim: %v", err)
	}
}

// probe is what ffprobe says of a file's video stream.
type probe struct {
	Codec      string
	Width      int
	Height     int
	Frames     int
	Duration   float64
	StartTime  float64
	FirstPTS   float64
	AudioCodec string
}

func ffprobe(t *testing.T, file string) probe {
	t.Helper()
	bin := testutil.Tool(t, "ffprobe")
	out, err := exec.Command(bin, "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_type,codec_name,width,height,nb_read_frames,duration,start_time:format=duration,start_time",
		"-of", "json", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", file, err, out)
	}
	var doc struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			CodecName string `json:"codec_name"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
			Frames    string `json:"nb_read_frames"`
			Duration  string `json:"duration"`
			StartTime string `json:"start_time"`
		} `json:"streams"`
		Format struct {
			Duration  string `json:"duration"`
			StartTime string `json:"start_time"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", file, err, out)
	}
	var p probe
	for _, s := range doc.Streams {
		switch s.CodecType {
		case "video":
			p.Codec, p.Width, p.Height = s.CodecName, s.Width, s.Height
			p.Frames, _ = strconv.Atoi(s.Frames)
		case "audio":
			p.AudioCodec = s.CodecName
		}
	}
	p.Duration, _ = strconv.ParseFloat(doc.Format.Duration, 64)
	p.StartTime, _ = strconv.ParseFloat(doc.Format.StartTime, 64)
	return p
}

// decodeErrors decodes a file fully with ffmpeg and returns what it
// complained about.
func decodeErrors(t *testing.T, file string) string {
	t.Helper()
	bin := testutil.Tool(t, "ffmpeg")
	out, _ := exec.Command(bin, "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput()
	return strings.TrimSpace(string(out))
}

// registryCamera inserts a unit, a site and a continuous, enabled camera.
func registryCamera(t *testing.T, db *store.DB, id string) {
	t.Helper()
	ctx := context.Background()
	unit := "u-" + id
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO units (id, parent_id, path, name, kind, created_at, updated_at) VALUES (?, NULL, ?, ?, 'police', 1, 1)`, []any{unit, "/" + unit + "/", "Unit"}},
		{`INSERT INTO sites (id, unit_id, name, category, created_at, updated_at) VALUES (?, ?, 'Site', 'school', 1, 1)`, []any{"s-" + id, unit}},
		{`INSERT INTO cameras (id, code, unit_id, name, site_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 1)`, []any{id, fmt.Sprintf("4401000000131%07d", crc32.ChecksumIEEE([]byte(id))%10000000), unit, "Camera " + id, "s-" + id}},
	} {
		if _, err := db.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
}
