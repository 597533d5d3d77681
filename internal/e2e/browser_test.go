package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vigil/internal/testutil"
)

// browser is one headless Chromium tab driven by chromedp, with the
// helpers the console tests share: waits on conditions (never sleeps),
// clicks and typing by data-testid, screenshots, and the page's uncaught
// exceptions collected for the report.
type browser struct {
	t    *testing.T
	ctx  context.Context
	shot string // screenshot directory

	mu         sync.Mutex
	exceptions []string
}

// newBrowser starts Chromium with the flags verified on Debian (see
// the shared PEERS.md) in the given UI language; it stops with the test.
func newBrowser(t *testing.T, lang string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testutil.Chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", lang),
		chromedp.Flag("accept-lang", lang),
		chromedp.Env("LANGUAGE="+strings.ReplaceAll(lang, "-", "_")),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx, shot: os.Getenv("VIGIL_SCREENSHOTS")}
	if b.shot == "" {
		b.shot = t.TempDir()
	} else if err := os.MkdirAll(b.shot, 0o755); err != nil {
		t.Fatalf("screenshot directory: %v", err)
	}
	// Start the browser now, so that console messages are collected from
	// the first page on.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.IsException() {
				b.mu.Lock()
				b.exceptions = append(b.exceptions, m.String())
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot("failure")
		}
	})
	return b
}

// stepTimeout bounds one step (a wait and a click, say), so that a step
// that cannot succeed fails with its name while there is time to take a
// screenshot of the page.
const stepTimeout = 20 * time.Second

// do runs actions, failing the test with what was being done.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\npage exceptions: %v", what, err, b.pageExceptions())
	}
}

// tid selects the element with data-testid=id.
func tid(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`[data-testid=%q]`, id)) }

// click waits until the element with data-testid=id is visible and clicks it.
func (b *browser) click(id string) {
	b.t.Helper()
	b.do("click "+id, chromedp.WaitVisible(tid(id)), chromedp.Click(tid(id), chromedp.NodeVisible))
}

// typeInto types text into the input with data-testid=id.
func (b *browser) typeInto(id, text string) {
	b.t.Helper()
	b.do("type into "+id, chromedp.WaitVisible(tid(id)), chromedp.SendKeys(tid(id), text, chromedp.NodeVisible))
}

// byText selects the visible elements matching css whose whole text is text.
func byText(css, text string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(
		`[...document.querySelectorAll(%s)].filter(e => e.textContent.trim() === %s && e.offsetParent !== null)`,
		jsString(css), jsString(text)))
}

// waitFor polls a JavaScript condition until it is true.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(stepTimeout))); err != nil {
		b.t.Fatalf("waiting for %s: %v\n(condition: %s)\npage exceptions: %v", what, err, expr, b.pageExceptions())
	}
}

// waitText waits until the element with data-testid=id shows exactly text.
func (b *browser) waitText(id, text string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("%s to read %q", id, text), fmt.Sprintf(
		`(() => { const e = document.querySelector(%s); return !!e && e.textContent.trim() === %s; })()`,
		jsString(fmt.Sprintf(`[data-testid=%q]`, id)), jsString(text)))
}

// waitModalsClosed waits until no dialog or its mask is on the screen: a
// click during a dialog's closing animation lands on the mask.
func (b *browser) waitModalsClosed() {
	b.t.Helper()
	b.waitFor("the dialog to close",
		`[...document.querySelectorAll('.ant-modal-wrap, .ant-modal-mask')].every(e => e.getClientRects().length === 0)`)
}

// waitStill waits until no finite CSS animation or transition runs: antd
// slides dropdowns and fades dialogs in, and a click on a moving element
// misses it.
func (b *browser) waitStill() {
	b.t.Helper()
	b.waitFor("the animations to end",
		`document.getAnimations().filter(a => a.effect && a.effect.getComputedTiming().iterations !== Infinity && a.playState === 'running').length === 0`)
}

// replaceText selects the text of the input with data-testid=id and
// types text over it (setting the value directly would bypass React).
func (b *browser) replaceText(id, text string) {
	b.t.Helper()
	b.do("select the text of "+id, chromedp.WaitVisible(tid(id)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('[data-testid=%q]').select()`, id)))
	b.typeInto(id, text)
}

// eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its value.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot saves the viewport as name.png in the screenshot directory.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(b.shot, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		b.t.Fatalf("write screenshot: %v", err)
	}
	b.t.Logf("screenshot: %s", p)
	return p
}

func (b *browser) pageExceptions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.exceptions...)
}

func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}
