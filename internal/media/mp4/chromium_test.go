package mp4

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigil/internal/media"
	"vigil/internal/testutil/browser"
)

// playResult is what a <video> element reported.
type playResult struct {
	Ended        bool    `json:"ended"`
	CurrentTime  float64 `json:"currentTime"`
	VideoWidth   int     `json:"videoWidth"`
	AudioDecoded int     `json:"audioDecoded"` // webkitAudioDecodedByteCount
	VideoDecoded int     `json:"videoDecoded"` // webkitVideoDecodedByteCount
	Error        string  `json:"error"`
}

// chromiumPlay serves file as /media.mp4 and a page playing it with
// <video muted autoplay>, either by src= or through Media Source
// Extensions (mseType non-empty), and returns what the element reports
// once it ended, played for 3 s or failed.
func chromiumPlay(t *testing.T, file []byte, mseType string) playResult {
	t.Helper()
	page := `<!doctype html><video id=v muted autoplay src="/media.mp4"></video>`
	if mseType != "" {
		page = fmt.Sprintf(`<!doctype html><video id=v muted autoplay></video><script>
const v = document.getElementById('v');
if (!MediaSource.isTypeSupported(%[1]q)) { v.dataset.err = 'unsupported type %[1]s'; }
else {
  const ms = new MediaSource();
  v.src = URL.createObjectURL(ms);
  ms.addEventListener('sourceopen', async () => {
    const sb = ms.addSourceBuffer(%[1]q);
    sb.addEventListener('error', () => { v.dataset.err = 'sourcebuffer error'; });
    const b = await (await fetch('/media.mp4')).arrayBuffer();
    sb.appendBuffer(b);
    sb.addEventListener('updateend', () => { if (ms.readyState === 'open') ms.endOfStream(); }, {once: true});
  });
}
</script>`, mseType)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, page)
		case "/media.mp4":
			w.Header().Set("Content-Type", "video/mp4")
			http.ServeContent(w, r, "media.mp4", time.Time{}, bytes.NewReader(file))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	ctx, cancel := browser.Start(t)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("chromium navigate: %v", err)
	}
	res, err := chromedp.Run(ctx, chromedp.Poll[playResult](`(() => {
  const v = document.getElementById('v');
  const err = v.dataset.err || (v.error ? ('media error ' + v.error.code + ': ' + v.error.message) : '');
  if (!(v.ended || v.currentTime >= 3 || err)) return false;
  return {ended: v.ended, currentTime: v.currentTime, videoWidth: v.videoWidth,
          audioDecoded: v.webkitAudioDecodedByteCount || 0, videoDecoded: v.webkitVideoDecodedByteCount || 0, error: err};
})()`, chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		t.Fatalf("chromium: waiting for the video to end: %v", err)
	}
	return res
}

// TestChromiumPlays: Chromium plays the fragmented and the plain MP4 of an
// H.264+AAC source, by src= and (fMP4) through MSE, as a live view would.
// MED-2 EXP-1
func TestChromiumPlays(t *testing.T) {
	tracks, units := demux(t, clipH264BF(t))
	frag, _ := writeFragmented(t, tracks, units, FragmentOptions{})
	var plain bytes.Buffer
	if err := WriteMP4(&plain, tracks, perTrack(len(tracks), units), MP4Options{}); err != nil {
		t.Fatal(err)
	}
	mse := fmt.Sprintf(`video/mp4; codecs="%s,%s"`, CodecString(tracks[0]), CodecString(tracks[1]))
	if !regexp.MustCompile(`^video/mp4; codecs="avc1\.4d40[0-9a-f]{2},mp4a\.40\.2"$`).MatchString(mse) { // Main profile (x264 with B-frames), AAC-LC
		t.Fatalf("codec string %s", mse)
	}
	tests := []struct {
		name string
		file []byte
		mse  string
	}{
		{"fmp4 src", frag, ""},
		{"fmp4 mse", frag, mse},
		{"mp4 src", plain.Bytes(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := chromiumPlay(t, tt.file, tt.mse)
			if r.Error != "" || !(r.Ended || r.CurrentTime >= 3) || r.VideoWidth != 1280 {
				t.Fatalf("chromium: %+v", r)
			}
			if r.CurrentTime < 1.9 || r.AudioDecoded == 0 {
				t.Fatalf("chromium stopped early or decoded no audio: %+v", r)
			}
		})
	}
}

// TestChromiumG711 records which G.711 paths Chromium accepts in MP4: by
// <video src>, the A-law sample entry as recorded and its LPCM ("sowt")
// and FLAC conversions all play with sound; through Media Source
// Extensions (the live view) only FLAC does — isTypeSupported refuses
// alaw, ulaw, sowt and ipcm. MED-1 MED-2
func TestChromiumG711(t *testing.T) {
	tracks, units := g711Source(t)
	lpcmTracks, lpcmUnits, err := G711ToLPCM(tracks, units)
	if err != nil {
		t.Fatal(err)
	}
	flacTracks, flacUnits, err := G711ToFLAC(tracks, units)
	if err != nil {
		t.Fatal(err)
	}
	flacMSE := fmt.Sprintf(`video/mp4; codecs="%s,flac"`, CodecString(tracks[0]))
	alawMSE := fmt.Sprintf(`video/mp4; codecs="%s,alaw"`, CodecString(tracks[0]))
	tests := []struct {
		name     string
		tracks   []media.Track
		units    []media.Unit
		kind     string // fmp4 or mp4
		mse      string
		wantFail bool
	}{
		{"alaw", tracks, units, "fmp4", "", false},
		{"alaw", tracks, units, "mp4", "", false},
		{"alaw mse", tracks, units, "fmp4", alawMSE, true},
		{"lpcm", lpcmTracks, lpcmUnits, "fmp4", "", false},
		{"lpcm", lpcmTracks, lpcmUnits, "mp4", "", false},
		{"flac", flacTracks, flacUnits, "fmp4", "", false},
		{"flac mse", flacTracks, flacUnits, "fmp4", flacMSE, false},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.kind, func(t *testing.T) {
			var b []byte
			if tt.kind == "fmp4" {
				b, _ = writeFragmented(t, tt.tracks, tt.units, FragmentOptions{})
			} else {
				var buf bytes.Buffer
				if err := WriteMP4(&buf, tt.tracks, perTrack(2, tt.units), MP4Options{}); err != nil {
					t.Fatal(err)
				}
				b = buf.Bytes()
			}
			r := chromiumPlay(t, b, tt.mse)
			t.Logf("chromium %s %s: %+v", tt.name, tt.kind, r)
			if tt.wantFail {
				if r.Error == "" {
					t.Fatalf("chromium played it; update the doc of CodecFLAC: %+v", r)
				}
				return
			}
			if r.Error != "" || r.VideoWidth != 1280 || !r.Ended || r.AudioDecoded == 0 {
				t.Fatalf("chromium: %+v", r)
			}
		})
	}
}

// g711Source is the H.264 clip with an A-law track.
func g711Source(t *testing.T) ([]media.Track, []media.Unit) {
	tracks, units := demux(t, clipH264(t))
	var vid []media.Unit
	for _, u := range units {
		if u.Track == 0 {
			vid = append(vid, u)
		}
	}
	tracks = []media.Track{tracks[0], {Codec: media.PCMA, ClockRate: 8000, SampleRate: 8000, Channels: 1}}
	return tracks, interleave(tracks, vid, g711Units(t, clipALaw(t), 1))
}
