package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigil/internal/app"
	"vigil/internal/config"
	"vigil/internal/sim"
)

// startVigilRecording starts a Vigil with 2-second segments, so that
// recordings are indexed soon after they are made.
func startVigilRecording(t *testing.T) *app.App {
	t.Helper()
	consoleBuilt(t)
	cfg := config.Default()
	cfg.Recording.SegmentLength = 2 * time.Second
	return startWith(t, &cfg)
}

// simulate publishes a simulated camera into the hub under the camera's id
// (the stream name live and the recorder use) and records it, until the
// test ends.
func simulate(t *testing.T, a *app.App, cameraID string, record bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { sim.Publish(ctx, a.Hub, cameraID, sim.Options{}); done <- struct{}{} }()
	n := 1
	if record {
		n = 2
		go func() { a.Recorder.Record(ctx, cameraID, cameraID); done <- struct{}{} }()
	}
	t.Cleanup(func() {
		cancel()
		for range n {
			<-done
		}
	})
}

type span struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// recorded waits until camera has a recorded span of at least d and returns it.
func recorded(t *testing.T, c *apiClient, camera string, d time.Duration) span {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		var cov struct {
			Spans []span `json:"spans"`
		}
		c.do("GET", fmt.Sprintf("/api/v1/cameras/%s/recordings", camera), nil, &cov)
		for _, s := range cov.Spans {
			if s.End.Sub(s.Start) >= d {
				return s
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("camera %s: no recorded span of %v within 45 s", camera, d)
	return span{}
}

// TestPlaybackConsole plays two recorded cameras in step from a chosen
// time: the playback clock agrees with the video within 1 s, a click on
// the timeline seeks, 4× plays four seconds a second; every tile carries
// the identity watermark (EXP-3), and the access registry lists each
// camera's view with the stated purpose (ACC-3, MED-4).
func TestPlaybackConsole(t *testing.T) {
	a := startVigilRecording(t)
	admin := signInAPI(t, a.URL(), "admin", adminPassword)
	unit := admin.id("/api/v1/units", map[string]any{"name": "回放测试单位", "kind": "building_unit", "parent_id": admin.rootUnit(), "division": "420102"})
	var ids, codes []string
	for i := 1; i <= 2; i++ {
		code := fmt.Sprintf("420102000013200%05d", i)
		id := admin.id("/api/v1/cameras", map[string]any{"code": code, "unit_id": unit, "name": fmt.Sprintf("回放通道%d", i)})
		simulate(t, a, id, true)
		ids, codes = append(ids, id), append(codes, code)
	}
	// 20 s: the seek lands 8 s in and 4× then plays 8 s more, all inside
	// what was recorded when the clip opened.
	sp := recorded(t, admin, ids[0], 20*time.Second)
	recorded(t, admin, ids[1], 20*time.Second)
	at := sp.Start.Add(3 * time.Second).Truncate(time.Second).Local()

	b := newBrowser(t, "zh-CN")
	signInAs(b, a.URL(), "admin", adminPassword, "nav-playback")
	b.click("nav-playback")
	for _, c := range codes {
		b.click("tree-camera-" + c)
	}
	// Jump to the chosen time.
	input := chromedp.CSS(`input[data-testid="playback-datetime"], [data-testid="playback-datetime"] input`)
	b.do("jump to "+at.Format(time.DateTime), chromedp.WaitVisible(input), chromedp.Click(input, chromedp.NodeVisible),
		chromedp.Evaluate[chromedp.Void](`document.activeElement.select()`), chromedp.SendKeys(input, at.Format(time.DateTime)+"\r"))
	b.waitFor("the cursor at the chosen time", fmt.Sprintf(`(document.querySelector('[data-testid="playback-clock"]')?.textContent ?? '').includes(%q)`, at.Format("15:04:05")))
	b.click("playback-go")
	b.typeInto("purpose-input", "核查 3 号门禁报警")
	b.click("purpose-submit")
	b.waitModalsClosed()
	b.waitFor("both videos playing", `[0, 1].every(i => { const v = document.querySelector('[data-testid="playback-video-' + i + '"]'); return v && v.videoWidth > 0 && v.currentTime > 1; })`)

	// The clock shown is where the video is.
	type clock struct {
		Clock string  `json:"clock"`
		Now   float64 `json:"now"`
	}
	readClock := func() (time.Time, float64) {
		c := eval[clock](b, `({clock: document.querySelector('[data-testid="playback"]').dataset.clock, now: document.querySelector('[data-testid="playback-video-0"]').currentTime})`)
		ct, err := time.Parse(time.RFC3339Nano, c.Clock)
		if err != nil {
			t.Fatalf("playback clock %q: %v", c.Clock, err)
		}
		return ct, c.Now
	}
	ct, now := readClock()
	if want := at.Add(time.Duration(now * float64(time.Second))); ct.Sub(want).Abs() > time.Second {
		t.Errorf("the timeline says %v while the video is at %v", ct, want)
	}
	// The second camera keeps step with the first.
	if d := eval[float64](b, `Math.abs(document.querySelector('[data-testid="playback-video-0"]').currentTime - document.querySelector('[data-testid="playback-video-1"]').currentTime)`); d > 1 {
		t.Errorf("the two cameras are %.2f s apart", d)
	}
	if got := eval[string](b, watermarkCheck(`[data-testid^="playback-tile-"]`, "系统管理员")); got != "" {
		t.Errorf("watermark: %s", got)
	}
	b.screenshot("playback")

	// Seek: 1-minute zoom, click 5 s after the chosen time on the first timeline.
	b.pick("playback-zoom", "", "1 分钟")
	target := at.Add(5 * time.Second)
	b.do("click the timeline", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector('[data-testid="timeline-%s"]');
		const from = Date.parse(s.dataset.from), to = Date.parse(s.dataset.to), r = s.getBoundingClientRect();
		const x = r.left + (Date.parse(%q) - from) / (to - from) * r.width;
		s.dispatchEvent(new MouseEvent('mousedown', {clientX: x, clientY: r.top + 10, bubbles: true, buttons: 1}));
	})()`, codes[0], target.UTC().Format(time.RFC3339))))
	b.waitFor("the seek", `Math.abs(document.querySelector('[data-testid="playback-video-0"]').currentTime - 5) < 1`)

	// 4×: about four seconds of video a second.
	b.pick("playback-speed", "", "4×")
	_, t0 := readClock()
	time.Sleep(2 * time.Second)
	_, t1 := readClock()
	if rate := (t1 - t0) / 2; rate < 3 || rate > 5 {
		t.Errorf("at 4× the video advanced %.2f s per second", rate)
	}
	b.screenshot("playback-4x")

	var acc map[string]any
	admin.do("GET", "/api/v1/access-records?action=playback", nil, &acc)
	body := fmt.Sprint(acc)
	for _, id := range ids {
		if !strings.Contains(body, id) {
			t.Errorf("the access registry has no playback of camera %s", id)
		}
	}
	if !strings.Contains(body, "核查 3 号门禁报警") {
		t.Errorf("the access registry does not give the purpose: %.500s", body)
	}
	if ex := b.pageExceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page:\n%s", strings.Join(ex, "\n"))
	}
}
