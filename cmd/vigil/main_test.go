package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

func runVigil(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigErrorsExit2NamingTheKey(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("data: "+dir+"\nlisten: 127.0.0.1:0\ntls:\n  self_sign: true\n"), 0o600)
	code, _, stderr := runVigil(t, context.Background(), "serve", "--config", bad)
	if code != 2 || !strings.Contains(stderr, "tls.self_sign") {
		t.Fatalf("unknown key: exit %d, stderr %q", code, stderr)
	}
	t.Setenv("VIGIL_LISTEN", "nonsense")
	code, _, stderr = runVigil(t, context.Background(), "serve", "--data", dir)
	if code != 2 || !strings.Contains(stderr, "listen") {
		t.Fatalf("bad listen: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runVigil(t, context.Background(), "serve", "--data", dir, "--listen", "127.0.0.1:0", "--profile", "atlantis")
	if code != 2 || !strings.Contains(stderr, "profile") {
		t.Fatalf("bad profile: exit %d, stderr %q", code, stderr)
	}
}

func TestUnreachableDatabaseRefusesToStart(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	code, _, stderr := runVigil(t, context.Background(), "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0",
		"--database", "postgres://vigil@"+addr+"/vigil?sslmode=disable&connect_timeout=2")
	if code != 1 || !strings.Contains(stderr, "unreachable") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// The first start with no configuration creates the data directory, the
// database and the three accounts of separated duties — admin, secadmin,
// auditor (AUD-2), each password printed once and different — and serves
// /healthz; a restart reuses them and prints no password.
func TestServeFromNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	port := freePort(t)
	for _, u := range []string{"ADMIN", "SECADMIN", "AUDITOR"} {
		t.Setenv("VIGIL_"+u+"_PASSWORD", "")
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve", "--data", dir, "--listen", port}, out, out) }()
	waitHealthy(t, "http://"+port+"/healthz", nil)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, out.String())
	}
	pws := map[string]string{}
	for _, m := range regexp.MustCompile(`user: +(\S+)\s+password: (\S+)`).FindAllStringSubmatch(out.String(), -1) {
		pws[m[1]] = m[2]
	}
	if len(pws) != 3 || pws["admin"] == "" || pws["secadmin"] == "" || pws["auditor"] == "" ||
		pws["admin"] == pws["secadmin"] || pws["admin"] == pws["auditor"] || pws["secadmin"] == pws["auditor"] {
		t.Fatalf("want three different passwords printed for admin, secadmin and auditor:\n%s", out.String())
	}
	for _, f := range []string{"vigil.db", "keys/sign.pub", "keys/data.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not created: %v", f, err)
		}
	}
	// Restart: no new password.
	ctx, cancel = context.WithCancel(context.Background())
	out2 := &syncBuffer{}
	go func() { done <- run(ctx, []string{"serve", "--data", dir, "--listen", port}, out2, out2) }()
	waitHealthy(t, "http://"+port+"/healthz", nil)
	cancel()
	<-done
	if strings.Contains(out2.String(), "password:") {
		t.Fatalf("restart printed a password again:\n%s", out2.String())
	}
	// The audit chain of that data directory verifies offline.
	code, stdout, stderr := runVigil(t, context.Background(), "audit", "verify", "--data", dir)
	if code != 0 || !strings.Contains(stdout, "OK") {
		t.Fatalf("audit verify: exit %d %s %s", code, stdout, stderr)
	}
	// CLI errors for people come from the translation files, not codes.
	t.Setenv("LANG", "en_US.UTF-8")
	code, _, stderr = runVigil(t, context.Background(), "user", "disable", "--data", dir, "--username", "nobody")
	if code != 1 || !strings.Contains(stderr, "There is no user nobody") {
		t.Fatalf("unknown user: exit %d, stderr %q", code, stderr)
	}
	// And an edit behind Vigil's back is named.
	db, err := store.Open(context.Background(), filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(context.Background(), `UPDATE audit_entries SET actor_name = 'mallory' WHERE seq = 1`)
	db.Close()
	code, stdout, _ = runVigil(t, context.Background(), "audit", "verify", "--data", dir)
	if code != 1 || !strings.Contains(stdout, "audit entry 1 altered") {
		t.Fatalf("tampered chain: exit %d, %s", code, stdout)
	}
}

func TestSelfSignedTLS(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	t.Setenv("VIGIL_ADMIN_PASSWORD", "Initial-Passw0rd!")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--listen", port, "--tls-self-signed"}, out, out)
	}()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	waitHealthy(t, "https://"+port+"/healthz", client)
	cancel()
	<-done
	if _, err := os.Stat(filepath.Join(dir, "tls", "self-signed.crt")); err != nil {
		t.Fatalf("certificate not kept in the data directory: %v", err)
	}
}

func TestMigrateOnBothEngines(t *testing.T) {
	for _, d := range storetest.Engines {
		dsn := storetest.DSN(t, d)
		code, stdout, stderr := runVigil(t, context.Background(), "migrate", "--data", t.TempDir(), "--database", dsn)
		if code != 0 || !strings.Contains(stdout, "schema version") {
			t.Fatalf("%s: exit %d %s %s", d, code, stdout, stderr)
		}
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(t *testing.T, url string, c *http.Client) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", url)
}

// `vigil help` names every command the binary runs, with its
// subcommands (the sub-command of recordings was once missing).
func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := runVigil(t, context.Background(), "help")
	if code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	want := []string{"serve", "migrate", "user create", "audit verify", "profile list", "version", "help"}
	for name := range extraCommands {
		want = append(want, name)
	}
	want = append(want, "recordings verify")
	for _, w := range want {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(w)).MatchString(out) {
			t.Errorf("vigil help does not list %q:\n%s", w, out)
		}
	}
}

// RET-1: `serve --profile-file` refuses, at start, a profile below the
// legal floors, naming the key and the article; and a shipped name.
func TestServeRefusesProfileBelowFloor_RET1(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runVigil(t, context.Background(), "profile", "show", "national-baseline", "--yaml")
	if code != 0 {
		t.Fatalf("profile show: %d %s", code, errs)
	}
	low := strings.Replace(strings.Replace(out, "name: national-baseline", "name: acme-city", 1), "min_days: {value: 30,", "min_days: {value: 1,", 1)
	if low == out || !strings.Contains(low, "min_days: {value: 1,") {
		t.Fatalf("test setup: the YAML has changed form:\n%s", out)
	}
	for name, yaml := range map[string]string{"floor": low, "shipped name": strings.Replace(low, "name: acme-city", "name: national-baseline", 1)} {
		f := filepath.Join(dir, "own.yaml")
		os.WriteFile(f, []byte(yaml), 0o600)
		code, _, stderr := runVigil(t, context.Background(), "serve", "--data", dir, "--listen", "127.0.0.1:0", "--profile-file", f)
		want := []string{"retention.min_days", "000 §29"}
		if name == "shipped name" {
			want = []string{"national-baseline", "shipped"}
		}
		if code != 2 {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q does not name %q", name, stderr, w)
			}
		}
	}
}
