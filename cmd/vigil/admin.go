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
	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/store"
)

var storeFlags = []configFlag{
	{name: "data", key: "data", help: "data directory"},
	{name: "database", key: "database", help: "database DSN (default DATA/vigil.db)"},
	{name: "crypto", key: "crypto", help: "crypto suite: standard or sm"},
	{name: "profile", key: "profile", help: "jurisdiction profile"},
}

func user(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: vigil user create|reset-password|disable [flags]")
		return 2
	}
	sub := args[0]
	var username, name, unit, roles string
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "account name")
		if sub == "create" {
			fs.StringVar(&name, "name", "", "real name (实名)")
			fs.StringVar(&unit, "unit", "", "unit id (default: the root unit)")
			fs.StringVar(&roles, "roles", "", "comma-separated role names, granted over the unit")
		}
	}
	cfg, _, err := loadConfig("user "+sub, args[1:], storeFlags, stderr, extra)
	if err != nil {
		return fail(stderr, err)
	}
	if username == "" {
		return fail(stderr, usageError("--username is required"))
	}
	// Passwords come from the environment, never from flags (which show in ps).
	password := os.Getenv("VIGIL_USER_PASSWORD")
	if (sub == "create" || sub == "reset-password") && password == "" {
		return fail(stderr, usageError("set the new password in VIGIL_USER_PASSWORD"))
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return fail(stderr, err)
	}
	defer a.Close()
	switch sub {
	case "create":
		if name == "" {
			return fail(stderr, usageError("--name is required: users are real-name people"))
		}
		var rs []string
		if roles != "" {
			rs = strings.Split(roles, ",")
		}
		err = a.Identity.CreateUserCLI(ctx, username, name, unit, password, rs)
	case "reset-password":
		err = a.Identity.ResetPasswordCLI(ctx, username, password)
	case "disable":
		err = a.Identity.DisableUserCLI(ctx, username)
	default:
		return fail(stderr, usageError(fmt.Sprintf("unknown user command %q: use create, reset-password or disable", sub)))
	}
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "user %s: %s done\n", username, sub)
	return 0
}

// auditCmd: `vigil audit verify` recomputes the chain with only the public
// key, so it runs on a stopped or running store, or on a copy.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: vigil audit verify [--data DIR] [--database DSN]")
		return 2
	}
	cfg, _, err := loadConfig("audit verify", args[1:], storeFlags, stderr, nil)
	if err != nil {
		return fail(stderr, err)
	}
	pub, err := os.ReadFile(filepath.Join(cfg.Data, "keys", "sign.pub"))
	if err != nil {
		return fail(stderr, fmt.Errorf("read the signing public key: %w (is --data the server's data directory?)", err))
	}
	suiteName, err := os.ReadFile(filepath.Join(cfg.Data, "keys", "suite"))
	if err != nil {
		return fail(stderr, fmt.Errorf("read the crypto suite: %w", err))
	}
	suite, err := keyring.ParseSuite(strings.TrimSpace(string(suiteName)))
	if err != nil {
		return fail(stderr, err)
	}
	db, err := store.Open(ctx, app.DSN(cfg))
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	rep, err := audit.Verify(ctx, db, suite, strings.TrimSpace(string(pub)))
	if err != nil {
		return fail(stderr, err)
	}
	if !rep.OK {
		fmt.Fprintf(stdout, "audit chain BROKEN: %v\n", rep.Problem)
		return 1
	}
	fmt.Fprintf(stdout, "audit chain OK: %d entries verified (head %d, from checkpoint %d)\n", rep.Checked, rep.HeadSeq, rep.Checkpoint)
	return 0
}
