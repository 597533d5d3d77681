package live_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigil/internal/live"
	"vigil/internal/media"
	"vigil/internal/testutil/browser"
)

// pageResult is what testPage leaves in window.result.
type pageResult struct {
	Width        int     `json:"width"`
	Height       int     `json:"height"`
	Frames       int     `json:"frames"`
	FirstFrameMs float64 `json:"firstFrameMs"`
	Error        string  `json:"error"`
}

// newBrowser starts Chromium with the flags autoplaying video needs.
func newBrowser(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(browser.New(t), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// play opens testPage in a new tab and waits for its result.
func play(t *testing.T, bctx context.Context, url string) pageResult {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	res, err := chromedp.Run(ctx, chromedp.Poll[pageResult](`window.result || false`,
		chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting for the page: %v", err)
	}
	return res
}

// TestChromiumPlaysLive: Chromium plays a simulated camera over WHEP and
// over the fMP4/MSE fallback with player.js: frames decode (videoWidth >
// 0) and requestVideoFrameCallback fires ≥ 25 times in 2 s; the WHEP
// start-up time over 5 starts is logged. MED-2
func TestChromiumPlaysLive(t *testing.T) {
	f := newFixture(t, 1, media.PCMA, live.Options{WebRTC: live.WebRTCOptions{Interfaces: []string{}, IncludeLoopback: true}})
	srv := whepServer(t, f)
	ctx := newBrowser(t)
	for _, mode := range []string{"whep", "mse"} {
		t.Run(mode, func(t *testing.T) {
			r := play(t, ctx, fmt.Sprintf("%s/?cam=cam1&mode=%s&close=1", srv.URL, mode))
			if r.Error != "" || r.Width != 1280 || r.Height != 720 || r.Frames < 25 {
				t.Fatalf("chromium %s: %+v", mode, r)
			}
			t.Logf("%s: %d frames in 2 s, first frame %.0f ms after the request", mode, r.Frames, r.FirstFrameMs)
		})
	}
	var starts []float64
	for range 5 {
		r := play(t, ctx, srv.URL+"/?cam=cam1&mode=whep&close=1")
		if r.Error != "" || r.Width == 0 {
			t.Fatalf("start: %+v", r)
		}
		starts = append(starts, r.FirstFrameMs)
	}
	slices.Sort(starts)
	t.Logf("WHEP POST → first decoded frame in Chromium over 5 starts: min %.0f ms, median %.0f ms, max %.0f ms", starts[0], starts[2], starts[4])
	deadline := time.Now().Add(10 * time.Second)
	for len(f.svc.Sessions()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	recs := f.access(t, "cam1")
	if len(recs) != 7 {
		t.Fatalf("%d access records, want 7 (2 views + 5 starts)", len(recs))
	}
	for _, r := range recs {
		if r.Purpose != "浏览器测试" || r.EndedAt == nil {
			t.Fatalf("record %+v", r)
		}
	}
}
