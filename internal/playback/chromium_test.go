package playback

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
	"vigil/internal/testutil/browser"
)

// browserReport is what the <video> element said.
type browserReport struct {
	Duration  float64 `json:"duration"`
	StartTime float64 `json:"startTime"` // currentTime once metadata loaded
	SeekedTo  float64 `json:"seekedTo"`
	Played    float64 `json:"played"` // currentTime after playing on from the seek
	Width     int     `json:"width"`
	Error     string  `json:"error"`
}

// chromiumSeek loads file into <video>, checks where it starts and how long
// it says it is, seeks to `to` seconds and plays on for a second.
func chromiumSeek(t *testing.T, file []byte, to float64) browserReport {
	t.Helper()
	page := fmt.Sprintf(`<!doctype html><video id=v muted preload=auto src="/clip.mp4"></video><script>
const v = document.getElementById('v'); window.report = null;
const fail = (e) => { window.report = {error: String(e)}; };
v.addEventListener('error', () => fail('media error ' + v.error.code + ': ' + v.error.message));
v.addEventListener('loadedmetadata', async () => {
  const r = {duration: v.duration, startTime: v.currentTime, width: v.videoWidth};
  try {
    await new Promise((ok) => { v.addEventListener('seeked', ok, {once: true}); v.currentTime = %g; });
    r.seekedTo = v.currentTime;
    await v.play();
    await new Promise((ok) => setTimeout(ok, 1000));
    v.pause();
    r.played = v.currentTime;
    window.report = r;
  } catch (e) { fail(e); }
}, {once: true});
</script>`, to)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, page)
		case "/clip.mp4":
			w.Header().Set("Content-Type", "video/mp4")
			http.ServeContent(w, r, "clip.mp4", time.Time{}, bytes.NewReader(file))
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
	res, err := chromedp.Run(ctx, chromedp.Poll[browserReport](`window.report || false`,
		chromedp.WithPollingTimeout(40*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return res
}

// TestChromiumPlaysAndSeeksFromMidGOP: Chromium plays the playback output
// for a mid-GOP start, starting at 0 with the requested duration, and
// seeks within it.
func TestChromiumPlaysAndSeeksFromMidGOP(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	g := recorded(t, db, 8*time.Second)
	start := g.segs[0].Start.Add(1520 * time.Millisecond)
	for _, format := range []string{FormatFMP4, FormatMP4} {
		t.Run(format, func(t *testing.T) {
			clip, err := Open(context.Background(), g.decide(t, start, 4*time.Second), g.x, g.st, "cam1", start, 4*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer clip.Close()
			var b bytes.Buffer
			if format == FormatMP4 {
				err = clip.WriteMP4(&b, nil)
			} else {
				err = clip.WriteFMP4(&b, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			r := chromiumSeek(t, b.Bytes(), 2.5)
			t.Logf("chromium %s: %+v", format, r)
			if r.Error != "" || r.Width != 1280 {
				t.Fatalf("chromium: %+v", r)
			}
			if r.StartTime != 0 || r.Duration < 3.96 || r.Duration > 4.05 {
				t.Errorf("starts at %.3f s and lasts %.3f s; want 0 and 4 s", r.StartTime, r.Duration)
			}
			if r.SeekedTo < 2.45 || r.SeekedTo > 2.55 || r.Played < r.SeekedTo+0.2 {
				t.Errorf("seek to 2.5 s landed at %.3f s, played on to %.3f s", r.SeekedTo, r.Played)
			}
		})
	}
}
