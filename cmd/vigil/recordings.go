package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"vigil/internal/app"
	"vigil/internal/keyring"
	"vigil/internal/record"
	"vigil/internal/storage"
	"vigil/internal/store"
)

func init() { extraCommands["recordings"] = recordingsCmd }

// recordingsCmd: `vigil recordings verify` re-hashes every kept segment
// and checks each camera's index chain and its audit anchor (RET-4); it
// exits 1 naming the first bad segment.
func recordingsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: vigil recordings verify [--data DIR] [--database DSN] [--recordings DIR,DIR] [--camera ID]")
		return 2
	}
	var camera, dirs string
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&camera, "camera", "", "verify only this camera")
		fs.StringVar(&dirs, "recordings", "", "comma-separated recording directories (default DATA/recordings)")
	}
	cfg, _, err := loadConfig("recordings verify", args[1:], storeFlags, stderr, extra)
	if err != nil {
		return fail(stderr, err)
	}
	suite := keyring.Standard
	if b, err := os.ReadFile(filepath.Join(cfg.Data, "keys", "suite")); err == nil {
		if suite, err = keyring.ParseSuite(strings.TrimSpace(string(b))); err != nil {
			return fail(stderr, err)
		}
	}
	roots := []string{filepath.Join(cfg.Data, "recordings")}
	if dirs != "" {
		roots = strings.Split(dirs, ",")
	}
	st, err := storage.NewLocal(roots, -1)
	if err != nil {
		return fail(stderr, err)
	}
	db, err := store.Open(ctx, app.DSN(cfg))
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	x := record.NewIndexSuite(db, suite)
	cams := []string{camera}
	if camera == "" {
		if cams, err = x.Cameras(ctx); err != nil {
			return fail(stderr, err)
		}
	}
	bad := 0
	for _, c := range cams {
		rep, err := record.Verify(ctx, x, st, c)
		if err != nil {
			return fail(stderr, err)
		}
		if rep.OK() {
			fmt.Fprintf(stdout, "camera %s: OK, %d segments (%d deleted by retention), anchored to %d\n", c, rep.Segments, rep.Deleted, rep.Anchored)
			continue
		}
		bad++
		fmt.Fprintf(stdout, "camera %s: BROKEN at %s\n", c, rep.First())
		for _, p := range rep.Problems[1:] {
			fmt.Fprintf(stdout, "  also %s\n", p)
		}
	}
	if bad > 0 {
		return 1
	}
	return 0
}
