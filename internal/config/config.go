// Package config loads Vigil's configuration from, in rising precedence,
// defaults, an optional YAML file, VIGIL_* environment variables and
// command-line flags, and validates it. Every error names the key at fault
// (e.g. `tls.cert: file not found`) so that an operator can fix it at once.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"vigil/internal/keyring"
	"vigil/internal/profile"
)

// Config is the whole configuration. The yaml tag is the key in the file;
// the env tag the environment variable.
type Config struct {
	Data        string    `yaml:"data" env:"VIGIL_DATA"`         // data directory (database, keys, recordings)
	Listen      string    `yaml:"listen" env:"VIGIL_LISTEN"`     // HTTP(S) address
	Database    string    `yaml:"database" env:"VIGIL_DATABASE"` // DSN: postgres://… or an SQLite path; default DATA/vigil.db
	Profile     string    `yaml:"profile" env:"VIGIL_PROFILE"`   // jurisdiction profile name
	ProfileFile string    `yaml:"profile_file" env:"VIGIL_PROFILE_FILE"`
	Crypto      string    `yaml:"crypto" env:"VIGIL_CRYPTO"` // "standard" or "sm"
	LogLevel    string    `yaml:"log_level" env:"VIGIL_LOG_LEVEL"`
	Demo        int       `yaml:"demo" env:"VIGIL_DEMO"` // simulated cameras started and recorded in the process
	TLS         TLS       `yaml:"tls"`
	Recording   Recording `yaml:"recording"`
	Live        Live      `yaml:"live"`
	Session     Session   `yaml:"session"`
	Password    Password  `yaml:"password"`
	OIDC        OIDC      `yaml:"oidc"`
}

// TLS configures HTTPS.
type TLS struct {
	Cert       string `yaml:"cert" env:"VIGIL_TLS_CERT"`
	Key        string `yaml:"key" env:"VIGIL_TLS_KEY"`
	SelfSigned bool   `yaml:"self_signed" env:"VIGIL_TLS_SELF_SIGNED"`
}

// Recording configures where and how footage is recorded.
type Recording struct {
	Dirs          string        `yaml:"dirs" env:"VIGIL_RECORDING_DIRS"` // comma-separated directories; default DATA/recordings
	SegmentLength time.Duration `yaml:"segment_length" env:"VIGIL_RECORDING_SEGMENT_LENGTH"`
	ReserveMB     int           `yaml:"reserve_mb" env:"VIGIL_RECORDING_RESERVE_MB"` // free space kept on each directory
}

// RecordingDirs returns the recording directories.
func (c *Config) RecordingDirs() []string {
	if strings.TrimSpace(c.Recording.Dirs) == "" {
		return []string{filepath.Join(c.Data, "recordings")}
	}
	return SplitList(c.Recording.Dirs)
}

// SplitList splits a comma-separated configuration value, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, d := range strings.Split(s, ",") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// Live configures live view over WebRTC (WHEP).
type Live struct {
	Interfaces      string `yaml:"interfaces" env:"VIGIL_LIVE_INTERFACES"`             // comma-separated network interfaces for host candidates; default all
	IncludeLoopback bool   `yaml:"include_loopback" env:"VIGIL_LIVE_INCLUDE_LOOPBACK"` // also offer 127.0.0.1 (on by itself when listen is a loopback address)
	NATIPs          string `yaml:"nat_ips" env:"VIGIL_LIVE_NAT_IPS"`                   // comma-separated public addresses of a static NAT
	UDPPort         int    `yaml:"udp_port" env:"VIGIL_LIVE_UDP_PORT"`                 // one UDP port for all sessions (ICE UDP mux); 0 = ephemeral ports
	TCPPort         int    `yaml:"tcp_port" env:"VIGIL_LIVE_TCP_PORT"`                 // ICE-TCP port for networks that block UDP; 0 = off
}

// Session configures sign-in sessions.
type Session struct {
	IdleTimeout time.Duration `yaml:"idle_timeout" env:"VIGIL_SESSION_IDLE_TIMEOUT"`
	Lifetime    time.Duration `yaml:"lifetime" env:"VIGIL_SESSION_LIFETIME"`
}

// Password configures the password policy and lockout.
type Password struct {
	MinLength       int           `yaml:"min_length" env:"VIGIL_PASSWORD_MIN_LENGTH"`
	LockoutAttempts int           `yaml:"lockout_attempts" env:"VIGIL_PASSWORD_LOCKOUT_ATTEMPTS"`
	LockoutDuration time.Duration `yaml:"lockout_duration" env:"VIGIL_PASSWORD_LOCKOUT_DURATION"`
	MaxAgeDays      int           `yaml:"max_age_days" env:"VIGIL_PASSWORD_MAX_AGE_DAYS"` // a password older than this must be changed at sign-in; 0 = never (AUD-2)
	History         int           `yaml:"history" env:"VIGIL_PASSWORD_HISTORY"`           // a new password may not be any of the last this many; 0 = only not the current one (AUD-2)
}

// OIDC configures sign-in through the government identity platform.
type OIDC struct {
	Issuer        string `yaml:"issuer" env:"VIGIL_OIDC_ISSUER"`
	ClientID      string `yaml:"client_id" env:"VIGIL_OIDC_CLIENT_ID"`
	ClientSecret  string `yaml:"client_secret" env:"VIGIL_OIDC_CLIENT_SECRET"`
	RedirectURL   string `yaml:"redirect_url" env:"VIGIL_OIDC_REDIRECT_URL"`
	UsernameClaim string `yaml:"username_claim" env:"VIGIL_OIDC_USERNAME_CLAIM"`
	ProvisionUnit string `yaml:"provision_unit" env:"VIGIL_OIDC_PROVISION_UNIT"` // unit id for first-time users; "" refuses unknown users
}

// Default returns the configuration Vigil runs with when nothing is set.
func Default() Config {
	return Config{
		Data:      "./data",
		Listen:    "127.0.0.1:8080",
		Profile:   profile.Default(),
		Crypto:    "standard",
		LogLevel:  "info",
		Session:   Session{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour},
		Password:  Password{MinLength: 10, LockoutAttempts: 5, LockoutDuration: 15 * time.Minute, MaxAgeDays: 90, History: 5},
		OIDC:      OIDC{UsernameClaim: "preferred_username"},
		Recording: Recording{SegmentLength: 5 * time.Minute, ReserveMB: 1024},
	}
}

// Error is a configuration error naming its key.
type Error struct {
	Key    string // e.g. "tls.cert" or "VIGIL_LISTEN"
	Source string // "file", "environment", "flag", or ""
	Msg    string
}

func (e *Error) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("config %s %s: %s", e.Source, e.Key, e.Msg)
	}
	return fmt.Sprintf("config %s: %s", e.Key, e.Msg)
}

// LoadFile decodes a YAML file over c. Unknown keys are errors naming the
// key and listing the known ones beside it.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return &Error{Key: "--config", Msg: err.Error()}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return &Error{Key: path, Source: "file", Msg: err.Error()}
	}
	if len(root.Content) == 0 {
		return nil
	}
	if err := checkKeys(root.Content[0], reflect.TypeOf(*c), ""); err != nil {
		return err
	}
	if err := root.Content[0].Decode(c); err != nil {
		return &Error{Key: path, Source: "file", Msg: err.Error()}
	}
	return nil
}

func checkKeys(n *yaml.Node, t reflect.Type, prefix string) error {
	if n.Kind != yaml.MappingNode {
		if prefix == "" {
			return &Error{Key: "(top level)", Source: "file", Msg: "expected a mapping of keys to values"}
		}
		return nil
	}
	known := map[string]reflect.StructField{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		k := strings.Split(f.Tag.Get("yaml"), ",")[0]
		known[k] = f
		names = append(names, k)
	}
	sort.Strings(names)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		f, ok := known[k]
		if !ok {
			return &Error{Key: prefix + k, Source: "file", Msg: fmt.Sprintf("unknown key (line %d); known keys here: %s",
				n.Content[i].Line, strings.Join(names, ", "))}
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			if err := checkKeys(n.Content[i+1], f.Type, prefix+k+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoadEnv applies VIGIL_* variables found by lookup (os.LookupEnv).
func (c *Config) LoadEnv(lookup func(string) (string, bool)) error {
	return walkEnv(reflect.ValueOf(c).Elem(), lookup)
}

func walkEnv(v reflect.Value, lookup func(string) (string, bool)) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			if err := walkEnv(fv, lookup); err != nil {
				return err
			}
			continue
		}
		name := f.Tag.Get("env")
		if name == "" {
			continue
		}
		val, ok := lookup(name)
		if !ok {
			continue
		}
		if err := setValue(fv, val); err != nil {
			return &Error{Key: name, Source: "environment", Msg: err.Error()}
		}
	}
	return nil
}

// Set assigns a value by its YAML key path (e.g. "tls.cert"), for flags.
func (c *Config) Set(key, val string) error {
	v := reflect.ValueOf(c).Elem()
	parts := strings.Split(key, ".")
	for i, p := range parts {
		t := v.Type()
		found := false
		for j := 0; j < t.NumField(); j++ {
			if strings.Split(t.Field(j).Tag.Get("yaml"), ",")[0] == p {
				v = v.Field(j)
				found = true
				break
			}
		}
		if !found {
			return &Error{Key: strings.Join(parts[:i+1], "."), Msg: "unknown key"}
		}
	}
	if err := setValue(v, val); err != nil {
		return &Error{Key: key, Source: "flag", Msg: err.Error()}
	}
	return nil
}

func setValue(v reflect.Value, s string) error {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30m or 12h", s)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(int64(n))
	default:
		return fmt.Errorf("cannot set a %s", v.Kind())
	}
	return nil
}

// Validate checks every value, naming the first bad key.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(c.Data) == "" {
		return bad("data", "must name a directory")
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		return bad("listen", "%q is not host:port (e.g. 127.0.0.1:8080)", c.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return bad("listen", "port %q is not a number from 0 to 65535", port)
	}
	if _, err := keyring.ParseSuite(c.Crypto); err != nil {
		return bad("crypto", "%v", err)
	}
	if c.ProfileFile == "" {
		if _, err := profile.Load(c.Profile); err != nil {
			return bad("profile", "%v", err)
		}
	} else if _, err := os.Stat(c.ProfileFile); err != nil {
		return bad("profile_file", "%v", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return bad("tls.cert", "tls.cert and tls.key go together: give both or neither")
	}
	if c.TLS.Cert != "" && c.TLS.SelfSigned {
		return bad("tls.self_signed", "cannot be combined with tls.cert/tls.key")
	}
	for _, f := range []struct{ key, path string }{{"tls.cert", c.TLS.Cert}, {"tls.key", c.TLS.Key}} {
		if f.path != "" {
			if _, err := os.Stat(f.path); err != nil {
				return bad(f.key, "%v", err)
			}
		}
	}
	if c.Demo < 0 || c.Demo > 64 {
		return bad("demo", "must be from 0 to 64 simulated cameras")
	}
	if c.Recording.SegmentLength < 2*time.Second || c.Recording.SegmentLength > time.Hour {
		return bad("recording.segment_length", "must be from 2s to 1h")
	}
	if c.Recording.ReserveMB < 0 {
		return bad("recording.reserve_mb", "must not be negative")
	}
	for _, p := range []struct {
		key  string
		port int
	}{{"live.udp_port", c.Live.UDPPort}, {"live.tcp_port", c.Live.TCPPort}} {
		if p.port < 0 || p.port > 65535 {
			return bad(p.key, "must be a port from 1 to 65535, or 0 for off")
		}
	}
	for _, ip := range SplitList(c.Live.NATIPs) {
		if net.ParseIP(ip) == nil {
			return bad("live.nat_ips", "%q is not an IP address", ip)
		}
	}
	if c.Session.IdleTimeout < time.Minute {
		return bad("session.idle_timeout", "must be at least 1m")
	}
	if c.Session.Lifetime < c.Session.IdleTimeout {
		return bad("session.lifetime", "must be at least session.idle_timeout")
	}
	if c.Password.MinLength < 8 || c.Password.MinLength > 128 {
		return bad("password.min_length", "must be from 8 to 128")
	}
	if c.Password.LockoutAttempts < 1 {
		return bad("password.lockout_attempts", "must be at least 1")
	}
	if c.Password.LockoutDuration < time.Minute {
		return bad("password.lockout_duration", "must be at least 1m")
	}
	if c.Password.MaxAgeDays < 0 || c.Password.MaxAgeDays > 3650 {
		return bad("password.max_age_days", "must be from 0 (never) to 3650")
	}
	if c.Password.History < 0 || c.Password.History > 24 {
		return bad("password.history", "must be from 0 to 24")
	}
	if c.OIDC.Issuer != "" {
		if c.OIDC.ClientID == "" {
			return bad("oidc.client_id", "is required when oidc.issuer is set")
		}
		if c.OIDC.RedirectURL == "" {
			return bad("oidc.redirect_url", "is required when oidc.issuer is set")
		}
	}
	return nil
}

// AsError reports whether err is a configuration error.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
