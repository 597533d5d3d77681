package main

import (
	"context"
	"fmt"
	"io"

	"vigil/internal/app"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, _, err := loadConfig("serve", args, serverFlags, stderr, nil)
	if err != nil {
		return fail(stderr, err)
	}
	stopPprof, err := startPprof(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	defer stopPprof()
	a, err := app.Start(ctx, app.Options{Config: &cfg, Stdout: stdout})
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "Vigil is serving at %s — sign in as admin. Stop with Ctrl-C.\n", a.URL())
	select {
	case <-ctx.Done():
		a.Close()
		return 0
	case err := <-waitErr(a):
		a.Close()
		if err != nil {
			return fail(stderr, err)
		}
		return 0
	}
}

func waitErr(a *app.App) <-chan error {
	c := make(chan error, 1)
	go func() { c <- a.Wait() }()
	return c
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, _, err := loadConfig("migrate", args, serverFlags, stderr, nil)
	if err != nil {
		return fail(stderr, err)
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return fail(stderr, err)
	}
	defer a.Close()
	v, err := a.DB.SchemaVersion(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "database %s is at schema version %d\n", a.DB.Dialect, v)
	return 0
}
