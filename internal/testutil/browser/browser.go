// Package browser starts Debian's Chromium for tests that check what a
// person's browser does with Vigil's output: playing MP4 and fMP4, WHEP, the
// console. One place holds the flags this machine needs (no sandbox as
// root, no GPU, no QUIC, no background networking, autoplay allowed).
package browser

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"vigil/internal/testutil"
)

// Options are the Chromium flags Vigil's tests run with.
func Options(tb testing.TB) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testutil.Chromium(tb)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 800))
}

// Start starts a headless Chromium and returns a chromedp context for one
// tab and the function that closes the browser.
func Start(tb testing.TB, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	tb.Helper()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(Options(tb), extra...)...)
	ctx, cancel := chromedp.NewContext(actx)
	return ctx, func() { cancel(); cancelAlloc() }
}

// New is Start with the browser closed when the test ends.
func New(tb testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	tb.Helper()
	ctx, cancel := Start(tb, extra...)
	tb.Cleanup(cancel)
	return ctx
}
