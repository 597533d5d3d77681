// Package e2e holds Vigil's end-to-end tests: a whole Vigil started with
// internal/app on a temporary data directory, driven from outside the way a
// person or a peer would — the web console through Debian's Chromium
// (chromedp), never through fakes.
//
// Invariants: every test starts its own Vigil on 127.0.0.1:0 and its own
// browser, waits on conditions rather than sleeping, and fails (never skips)
// when a peer or the built console is missing.
package e2e
