package main

import (
	"flag"
	"io"
	"os"

	"vigil/internal/config"
)

// configFlag binds a command-line flag to a configuration key.
type configFlag struct {
	name, key, help string
	boolean         bool
}

var serverFlags = []configFlag{
	{name: "data", key: "data", help: "data directory (database, keys, recordings)"},
	{name: "listen", key: "listen", help: "HTTP address"},
	{name: "database", key: "database", help: "database DSN: postgres://… or an SQLite path (default DATA/vigil.db)"},
	{name: "profile", key: "profile", help: "jurisdiction profile (vigil profile list)"},
	{name: "profile-file", key: "profile_file", help: "a deployment's own profile (YAML)"},
	{name: "crypto", key: "crypto", help: "crypto suite: standard or sm (SM2/SM3/SM4)"},
	{name: "log-level", key: "log_level", help: "debug, info, warn or error"},
	{name: "demo", key: "demo", help: "start and record N simulated cameras (no hardware needed)"},
	{name: "recording-dirs", key: "recording.dirs", help: "comma-separated recording directories (default DATA/recordings)"},
	{name: "tls-cert", key: "tls.cert", help: "TLS certificate file"},
	{name: "tls-key", key: "tls.key", help: "TLS key file"},
	{name: "tls-self-signed", key: "tls.self_signed", help: "make and keep a self-signed certificate in the data directory", boolean: true},
}

// loadConfig parses args with the given flags (plus --config) and returns
// the configuration from defaults, file, environment and flags, in that
// order of precedence. extra receives the FlagSet to add command flags.
func loadConfig(name string, args []string, flags []configFlag, stderr io.Writer, extra func(*flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("vigil "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", os.Getenv("VIGIL_CONFIG"), "YAML configuration file (VIGIL_CONFIG)")
	for _, f := range flags {
		if f.boolean {
			fs.Bool(f.name, false, f.help)
		} else {
			fs.String(f.name, "", f.help)
		}
	}
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, usageError(err.Error())
	}
	cfg := config.Default()
	if *configFile != "" {
		if err := cfg.LoadFile(*configFile); err != nil {
			return cfg, nil, err
		}
	}
	if err := cfg.LoadEnv(os.LookupEnv); err != nil {
		return cfg, nil, err
	}
	var setErr error
	fs.Visit(func(fl *flag.Flag) {
		for _, f := range flags {
			if f.name == fl.Name && setErr == nil {
				setErr = cfg.Set(f.key, fl.Value.String())
			}
		}
	})
	if setErr != nil {
		return cfg, nil, setErr
	}
	return cfg, fs, nil
}
