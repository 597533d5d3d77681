package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// framesJS counts, for 2 s, the frames each wall tile's video presents
// (requestVideoFrameCallback); it answers [{width, frames}] per tile.
const framesJS = `Promise.all([...document.querySelectorAll('[data-testid="wall-grid"] > .wall-tile')].map((tile) => new Promise((ok) => {
	const v = tile.querySelector('video');
	let n = 0, stop = false;
	const tick = () => { n++; if (!stop) v.requestVideoFrameCallback(tick); };
	v.requestVideoFrameCallback(tick);
	setTimeout(() => { stop = true; ok({width: v.videoWidth, frames: n}); }, 2000);
})))`

type tileFrames struct {
	Width  int `json:"width"`
	Frames int `json:"frames"`
}

// bestFrames measures up to 5 windows of 2 s and returns, per tile, the
// most frames presented in one window: Chromium decoding four 720p streams
// on a shared 2-core machine stalls now and then, and a tile passes once it
// has shown 25 frames in one 2-second window.
func bestFrames(t *testing.T, b *browser, transport string, min int) []tileFrames {
	t.Helper()
	var best []tileFrames
	for try := 1; try <= 5; try++ {
		got := eval[[]tileFrames](b, framesJS)
		if best == nil {
			best = make([]tileFrames, len(got))
		}
		ok := true
		for i, g := range got {
			if g.Frames > best[i].Frames {
				best[i] = g
			}
			ok = ok && best[i].Width > 0 && best[i].Frames >= min
		}
		t.Logf("%s: window %d: %v", transport, try, got)
		if ok {
			break
		}
	}
	return best
}

// TestWallLive plays four simulated cameras on the wall over WebRTC (WHEP),
// then over the fMP4/MSE fallback: every tile shows a picture at 25 fps
// (≥ 25 frames presented in 2 s) under the identity watermark (EXP-3), and
// the access registry lists each view with its method and purpose (ACC-3,
// MED-2, MED-3).
func TestWallLive(t *testing.T) {
	a := startVigil(t)
	admin := signInAPI(t, a.URL(), "admin", adminPassword)
	unit := admin.id("/api/v1/units", map[string]any{"name": "实况测试单位", "kind": "building_unit", "parent_id": admin.rootUnit(), "division": "420102"})
	var ids, codes []string
	for i := 1; i <= 4; i++ {
		code := fmt.Sprintf("420102000013200%05d", 10+i)
		id := admin.id("/api/v1/cameras", map[string]any{"code": code, "unit_id": unit, "name": fmt.Sprintf("实况通道%d", i)})
		simulate(t, a, id, false)
		ids, codes = append(ids, id), append(codes, code)
	}
	const purpose = "值班巡查实况画面"
	b := newBrowser(t, "zh-CN")
	signInAs(b, a.URL(), "admin", adminPassword, "nav-wall")
	b.click("nav-wall")
	b.click("wall-layout-4")
	b.click("tree-camera-" + codes[0])
	b.typeInto("purpose-input", purpose)
	b.click("purpose-submit")
	b.waitModalsClosed()
	for _, c := range codes[1:] {
		b.click("tree-camera-" + c)
	}
	for _, transport := range []string{"webrtc", "fmp4"} {
		start := time.Now()
		if transport == "fmp4" {
			b.pick("wall-transport", "", "fMP4（MSE）")
		}
		b.waitFor("four tiles playing over "+transport, fmt.Sprintf(
			`[...document.querySelectorAll('[data-testid="wall-grid"] > .wall-tile')].filter(e => e.dataset.state === 'playing' && e.dataset.transport === %q).length === 4`, transport))
		t.Logf("%s: four tiles playing after %v", transport, time.Since(start).Round(time.Millisecond))
		for i, f := range bestFrames(t, b, transport, 25) {
			if f.Width == 0 || f.Frames < 25 {
				t.Errorf("%s: tile %d: %d px wide, at most %d frames in 2 s, want at least 25", transport, i, f.Width, f.Frames)
			}
		}
		if got := eval[string](b, watermarkCheck(`[data-testid="wall-grid"] > .wall-tile`, "系统管理员")); got != "" {
			t.Errorf("%s: watermark: %s", transport, got)
		}
		b.screenshot("wall-" + transport)
	}
	var acc map[string]any
	admin.do("GET", "/api/v1/access-records?action=live", nil, &acc)
	body := fmt.Sprint(acc)
	for _, id := range ids {
		if !strings.Contains(body, id) {
			t.Errorf("the access registry has no live view of camera %s", id)
		}
	}
	for _, want := range []string{purpose, "webrtc", "fmp4"} {
		if !strings.Contains(body, want) {
			t.Errorf("the access registry does not mention %q: %.500s", want, body)
		}
	}
	if ex := b.pageExceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page:\n%s", strings.Join(ex, "\n"))
	}
}
