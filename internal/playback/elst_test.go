package playback

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/mp4"
)

func initSegment(t testing.TB) []byte {
	sps, _ := hex.DecodeString("674d401fd9005005bb011000000300100000030320f1832480")
	pps, _ := hex.DecodeString("68ebccb2")
	b, err := mp4.InitSegment([]media.Track{{Codec: media.H264, ClockRate: 90000, SPS: sps, PPS: pps}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPatchInitAddsEditList: the patched init segment reads back with the
// edit list's media time.
func TestPatchInitAddsEditList(t *testing.T) {
	out, err := patchInit(initSegment(t), []int64{4680}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	f, err := mp4.ReadFile(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	if tr := f.Tracks[0]; tr.EditStart != 4680 || tr.EditDuration != 2000 {
		t.Fatalf("edit list read back: start %d duration %d", tr.EditStart, tr.EditDuration)
	}
}

// FuzzPatchInit: whatever the bytes, patchInit returns an error or a
// result, never panics.
func FuzzPatchInit(f *testing.F) {
	f.Add(initSegment(f))
	f.Add([]byte{0, 0, 0, 8, 'm', 'o', 'o', 'v'})
	f.Add([]byte{0, 0, 0, 16, 'm', 'o', 'o', 'v', 0, 0, 0, 8, 't', 'r', 'a', 'k'})
	f.Add([]byte{0, 0, 0, 4, 'f'})
	f.Fuzz(func(t *testing.T, b []byte) {
		patchInit(b, []int64{1, 2}, time.Second)
	})
}
