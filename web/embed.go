// Package web embeds Vigil's console — the TypeScript/React single-page
// application built by `npm run build` into web/dist — and serves it.
//
// Invariants: files under /assets/ carry a content hash in their names and
// are served with a year-long immutable cache; every other GET that names no
// file answers index.html with no-cache, so client-side routes load the
// application and a new release is picked up on the next load. When the
// console has not been built (dist holds only .gitkeep, as in a fresh
// checkout built with plain `go build`), every page answers a short
// plain-text note telling the developer how to build it.
package web

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// notBuilt is shown when the console was not built into the binary.
const notBuilt = "Vigil's web console is not built into this binary.\n\n" +
	"Build it with `make run` (or `cd web && npm ci && npm run build`, then `go build` again).\n" +
	"The HTTP API is available under /api/v1.\n\n" +
	"Vigil 的网页控制台未编译进本程序。请运行 `make run` 构建。\n"

// Handler serves the embedded console.
func Handler() http.Handler {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees dist exists
	}
	return handler(root)
}

// handler serves the console held in root (the contents of dist).
func handler(root fs.FS) http.Handler {
	index, err := fs.ReadFile(root, "index.html")
	if err != nil {
		index = nil
	}
	files := http.FileServer(http.FS(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if index == nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(notBuilt))
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name != "" && name != "index.html" && !strings.HasPrefix(name, ".") {
			if st, err := fs.Stat(root, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				} else {
					w.Header().Set("Cache-Control", "no-cache")
				}
				files.ServeHTTP(w, r)
				return
			}
			if strings.HasPrefix(name, "assets/") {
				// A hashed asset from another release: a 404, not the page,
				// so the browser does not parse HTML as script.
				http.NotFound(w, r)
				return
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
	})
}
