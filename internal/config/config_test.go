package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vigil.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnknownKeysAreNamed(t *testing.T) {
	cases := []struct{ yaml, key string }{
		{"listn: 127.0.0.1:9000\n", "listen"},
		{"tls:\n  certt: x\n", "tls.certt"},
		{"session:\n  idle: 5m\n", "session.idle"},
	}
	for _, c := range cases {
		cfg := Default()
		err := cfg.LoadFile(writeFile(t, c.yaml))
		e, ok := AsError(err)
		if !ok {
			t.Fatalf("%q: got %v, want a config error", c.yaml, err)
		}
		want := strings.Split(c.yaml, ":")[0]
		if c.key != "listen" {
			want = c.key
		}
		if e.Key != want {
			t.Errorf("%q: error names key %q, want %q (%v)", c.yaml, e.Key, want, err)
		}
	}
}

func TestBadValuesAreNamed(t *testing.T) {
	cases := []struct {
		mutate func(*Config)
		key    string
	}{
		{func(c *Config) { c.Listen = "8080" }, "listen"},
		{func(c *Config) { c.Listen = "127.0.0.1:99999" }, "listen"},
		{func(c *Config) { c.Crypto = "gost" }, "crypto"},
		{func(c *Config) { c.Profile = "atlantis" }, "profile"},
		{func(c *Config) { c.LogLevel = "loud" }, "log_level"},
		{func(c *Config) { c.TLS.Cert = "/nonexistent.crt" }, "tls.cert"},
		{func(c *Config) { c.Password.MinLength = 4 }, "password.min_length"},
		{func(c *Config) { c.Password.MaxAgeDays = -1 }, "password.max_age_days"}, // AUD-2
		{func(c *Config) { c.Password.History = 100 }, "password.history"},        // AUD-2
		{func(c *Config) { c.OIDC.Issuer = "https://idp.example" }, "oidc.client_id"},
	}
	for _, c := range cases {
		cfg := Default()
		c.mutate(&cfg)
		e, ok := AsError(cfg.Validate())
		if !ok || e.Key != c.key {
			t.Errorf("want error naming %s, got %v", c.key, cfg.Validate())
		}
	}
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestPrecedenceFileEnvFlag(t *testing.T) {
	cfg := Default()
	if err := cfg.LoadFile(writeFile(t, "listen: 127.0.0.1:9001\ndata: /from-file\nsession:\n  idle_timeout: 10m\n")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VIGIL_LISTEN": "127.0.0.1:9002", "VIGIL_TLS_SELF_SIGNED": "true"}
	if err := cfg.LoadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Set("listen", "127.0.0.1:9003"); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9003" || cfg.Data != "/from-file" || !cfg.TLS.SelfSigned || cfg.Session.IdleTimeout.Minutes() != 10 {
		t.Fatalf("precedence wrong: %+v", cfg)
	}
	err := cfg.LoadEnv(func(k string) (string, bool) {
		if k == "VIGIL_TLS_SELF_SIGNED" {
			return "maybe", true
		}
		return "", false
	})
	if e, ok := AsError(err); !ok || e.Key != "VIGIL_TLS_SELF_SIGNED" {
		t.Fatalf("bad env value: %v", err)
	}
}
