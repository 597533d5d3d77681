// Package app assembles a running Vigil from its configuration: data
// directory, keys, database and migrations, profile, audit log, identity,
// the gate and the HTTP server. cmd/vigil and the end-to-end tests start
// Vigil through it, so both run the same wiring.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"vigil/internal/audit"
	"vigil/internal/config"
	"vigil/internal/httpapi"
	"vigil/internal/identity"
	"vigil/internal/keyring"
	"vigil/internal/live"
	"vigil/internal/media"
	"vigil/internal/playback"
	"vigil/internal/policy"
	"vigil/internal/profile"
	"vigil/internal/record"
	"vigil/internal/registry"
	"vigil/internal/retention"
	"vigil/internal/storage"
	"vigil/internal/store"
	"vigil/web"
)

// Version is set at build time (-ldflags "-X vigil/internal/app.Version=…").
var Version = "dev"

// Options start an App. Zero fields take config.Default's values.
type Options struct {
	Config        *config.Config // full configuration; nil means defaults
	DataDir       string         // overrides Config.Data
	Listen        string         // overrides Config.Listen; "127.0.0.1:0" picks a free port
	AdminPassword string         // password of the first accounts (admin, secadmin, auditor; tests); "" generates one each and prints it to Stdout
	Stdout        io.Writer      // where the one-time passwords are printed
	Log           *slog.Logger
}

// App is a running Vigil.
type App struct {
	cfg       config.Config
	DB        *store.DB
	Keyring   *keyring.Keyring
	Audit     *audit.Log
	Profile   *profile.Profile
	Identity  *identity.Service
	Gate      *policy.Gate
	Registry  *registry.Service
	Hub       *media.Hub // every camera's live stream, one source each
	Storage   storage.Store
	Index     *record.Index
	Recorder  *record.Recorder
	Retention *retention.Engine
	Playback  *playback.Service
	Live      *live.Service
	log       *slog.Logger

	bg     context.Context
	stopBG context.CancelFunc

	ln     net.Listener
	srv    *http.Server
	api    *httpapi.Server // for flushing coalesced denials at shutdown
	scheme string
	ready  atomic.Bool
	served chan error
	bgDone sync.WaitGroup
}

// Start brings Vigil up and serves until Close.
func Start(ctx context.Context, o Options) (*App, error) {
	cfg := config.Default()
	if o.Config != nil {
		cfg = *o.Config
	}
	if o.DataDir != "" {
		cfg.Data = o.DataDir
	}
	if o.Listen != "" {
		cfg.Listen = o.Listen
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: parseLevel(cfg.LogLevel)}))
	}
	a := &App{cfg: cfg, log: log, served: make(chan error, 1)}
	if err := a.open(ctx); err != nil {
		a.closeStores()
		return nil, err
	}
	created, err := a.Identity.Bootstrap(ctx, func(username string) string {
		return firstPassword(username, o.AdminPassword, o.Stdout)
	})
	if err != nil {
		a.closeStores()
		return nil, fmt.Errorf("create the first accounts: %w", err)
	}
	for _, u := range created {
		log.Info("created user", "username", u)
	}
	if err := a.serve(); err != nil {
		a.closeStores()
		return nil, err
	}
	a.ready.Store(true)
	a.bg, a.stopBG = context.WithCancel(context.Background())
	a.bgDone.Add(1)
	go func() { defer a.bgDone.Done(); a.pruneAudit() }()
	if err := a.startRecording(ctx); err != nil {
		a.Close()
		return nil, err
	}
	log.Info("vigil serving", "url", a.URL(), "profile", a.Profile.Name, "database", a.DB.Dialect.String(), "crypto", string(a.Keyring.Suite()))
	return a, nil
}

// firstPassword is the password of a first account (AUD-2: the system
// administrator admin, the security administrator secadmin, the security
// auditor auditor): given, from VIGIL_<USERNAME>_PASSWORD, or generated
// and printed once to out (never logged).
func firstPassword(username, given string, out io.Writer) string {
	if given != "" {
		return given
	}
	if env := os.Getenv("VIGIL_" + strings.ToUpper(username) + "_PASSWORD"); env != "" {
		return env
	}
	p := "Vg-" + keyring.RandomToken(9)
	fmt.Fprintf(out, "\n  Vigil created the account %s.\n    user:     %s\n    password: %s\n  It is shown only this once: sign in and change it.\n\n", username, username, p)
	return p
}

// Open opens the data directory's keys, database, profile and services
// without serving HTTP — for the CLI subcommands.
func Open(ctx context.Context, cfg config.Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	if err := a.open(ctx); err != nil {
		a.closeStores()
		return nil, err
	}
	return a, nil
}

func (a *App) open(ctx context.Context) error {
	cfg := a.cfg
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return &config.Error{Key: "data", Msg: err.Error()}
	}
	suite, _ := keyring.ParseSuite(cfg.Crypto)
	kr, err := keyring.Open(cfg.Data, suite)
	if err != nil {
		return err
	}
	a.Keyring = kr
	if cfg.ProfileFile != "" {
		a.Profile, err = profile.LoadFile(cfg.ProfileFile)
	} else {
		a.Profile, err = profile.Load(cfg.Profile)
	}
	if err != nil {
		return &config.Error{Key: "profile", Msg: err.Error()}
	}
	a.DB, err = store.Open(ctx, DSN(cfg))
	if err != nil {
		return err
	}
	if _, err := a.DB.Migrate(ctx); err != nil {
		return err
	}
	a.Audit = audit.New(a.DB, kr)
	a.Identity = identity.New(a.DB, a.Audit, kr, identityOptions(cfg))
	a.Gate = policy.NewGate(a.DB, a.Audit, a.Profile)
	a.Registry = registry.New(a.DB, a.Audit, a.Profile, a.Keyring, registry.DirStore{Dir: filepath.Join(cfg.Data, "attachments")})
	a.Storage, err = storage.NewLocal(cfg.RecordingDirs(), int64(cfg.Recording.ReserveMB)<<20)
	if err != nil {
		return &config.Error{Key: "recording.dirs", Msg: err.Error()}
	}
	a.Hub = media.NewHub()
	a.Index = record.NewIndex(a.DB, kr)
	a.Recorder = record.New(a.Hub, a.Storage, a.Index, a.Audit, record.Options{SegmentLength: cfg.Recording.SegmentLength, Log: a.log,
		CameraTransport: a.Registry.Transport,
		OnIngest: func(ctx context.Context, camera string, streaming bool) {
			a.Registry.SetOnline(ctx, camera, streaming) // admitted cameras only; others keep their state
		}})
	a.Retention = retention.New(a.Index, a.Storage, a.Audit, a.Profile)
	a.Playback = playback.NewService(a.Index, a.Storage, a.Gate)
	return nil
}

// openLive starts the live-view service (WHEP, fMP4 live, snapshots, PTZ).
func (a *App) openLive() error {
	cfg := a.cfg
	includeLoopback := cfg.Live.IncludeLoopback
	if host, _, err := net.SplitHostPort(cfg.Listen); err == nil {
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			includeLoopback = true
		}
	}
	var err error
	a.Live, err = live.New(a.Hub, a.Gate, live.CamerasFunc(a.gateCamera), live.Options{Log: a.log, PTZ: newPTZResolver(a.Registry), WebRTC: live.WebRTCOptions{
		Interfaces: config.SplitList(cfg.Live.Interfaces), IncludeLoopback: includeLoopback,
		NAT1To1IPs: config.SplitList(cfg.Live.NATIPs), UDPPort: cfg.Live.UDPPort, TCPPort: cfg.Live.TCPPort,
	}})
	if err != nil {
		return &config.Error{Key: "live", Msg: err.Error()}
	}
	return nil
}

// gateCamera is what the gate needs to know of a camera: its unit's place
// in the tree.
func (a *App) gateCamera(ctx context.Context, id string) (policy.Camera, error) {
	c, err := record.LookupCamera(ctx, a.DB, id)
	if err != nil {
		return policy.Camera{}, err
	}
	return policy.Camera{ID: c.ID, Name: c.Name, UnitID: c.UnitID, UnitPath: c.UnitPath}, nil
}

// DSN is the database the configuration selects.
func DSN(cfg config.Config) string {
	if cfg.Database != "" {
		return cfg.Database
	}
	return filepath.Join(cfg.Data, "vigil.db")
}

func (a *App) serve() error {
	if err := a.openLive(); err != nil {
		return err
	}
	handler := httpapi.New(httpapi.Deps{
		Ping: a.DB.SQL().PingContext, Audit: a.Audit, Identity: a.Identity, Gate: a.Gate, Registry: a.Registry,
		Recordings: httpapi.RecordingDeps{Playback: a.Playback, Retention: a.Retention},
		Live:       httpapi.LiveDeps{Live: a.Live}, Ingest: httpapi.IngestDeps{Recorder: a.Recorder}, Profile: a.Profile, Keyring: a.Keyring,
		Log: a.log, Console: web.Handler(), TLS: a.tlsEnabled(), Version: Version, Ready: a.ready.Load,
	})
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return &config.Error{Key: "listen", Msg: err.Error()}
	}
	a.scheme = "http"
	if a.tlsEnabled() {
		tc, err := a.tlsConfig()
		if err != nil {
			ln.Close()
			return err
		}
		ln = tls.NewListener(ln, tc)
		a.scheme = "https"
	}
	a.ln = ln
	a.api = handler
	a.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	go func() {
		err := a.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.served <- err
	}()
	return nil
}

func (a *App) tlsEnabled() bool { return a.cfg.TLS.Cert != "" || a.cfg.TLS.SelfSigned }

// URL is the base URL Vigil serves at.
func (a *App) URL() string {
	addr := a.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("%s://%s", a.scheme, net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

// Wait blocks until the server stops, returning its error.
func (a *App) Wait() error { return <-a.served }

// Close stops serving and closes the stores.
func (a *App) Close() error {
	if a.stopBG != nil {
		a.stopBG()
		a.bgDone.Wait()
	}
	if a.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.srv.Shutdown(ctx)
		a.api.FlushDenials(ctx) // counts of denials still being coalesced (AUD-4)
	}
	if a.Live != nil {
		a.Live.Close()
	}
	a.closeStores()
	return nil
}

func (a *App) closeStores() {
	if a.Audit != nil {
		a.Audit.Close()
	}
	if a.DB != nil {
		a.DB.Close()
	}
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	l.UnmarshalText([]byte(s))
	return l
}

// pruneAudit removes expired sessions, and audit entries older than the
// profile's audit-log retention (AUD-1) leaving a signed checkpoint, hourly.
func (a *App) pruneAudit() {
	days, _ := a.Profile.AuditLogRetentionDays()
	keep := time.Duration(days) * 24 * time.Hour
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := a.Identity.PruneSessions(a.bg); err != nil && a.bg.Err() == nil {
			a.log.Error("session pruning failed", "err", err)
		}
		if n, err := a.Audit.Prune(a.bg, keep, keep); err != nil && a.bg.Err() == nil {
			a.log.Error("audit pruning failed", "err", err)
		} else if n > 0 {
			a.log.Info("audit entries pruned past retention", "removed", n, "retention_days", days)
		}
		select {
		case <-a.bg.Done():
			return
		case <-t.C:
		}
	}
}

func identityOptions(cfg config.Config) identity.Options {
	o := identity.Options{
		MinPasswordLength: cfg.Password.MinLength,
		LockoutAttempts:   cfg.Password.LockoutAttempts,
		LockoutDuration:   cfg.Password.LockoutDuration,
		SessionIdle:       cfg.Session.IdleTimeout,
		SessionLifetime:   cfg.Session.Lifetime,
		PasswordMaxAge:    time.Duration(cfg.Password.MaxAgeDays) * 24 * time.Hour,
		PasswordHistory:   cfg.Password.History,
	}
	if cfg.OIDC.Issuer != "" {
		o.OIDC = &identity.OIDCConfig{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret,
			RedirectURL: cfg.OIDC.RedirectURL, UsernameClaim: cfg.OIDC.UsernameClaim, ProvisionUnit: cfg.OIDC.ProvisionUnit}
	}
	return o
}
