// Package storetest gives tests fresh, migrated databases on both engines.
//
// SQLite runs in a temporary directory. PostgreSQL is a real server: the
// DSN of a database the tests may create databases from is taken from
// VIGIL_TEST_POSTGRES (`make test` starts a server and sets it). Each call
// creates a new database, so tests do not see each other's rows.
//
// Without VIGIL_TEST_POSTGRES a store-touching test fails, naming the
// variable, unless VIGIL_TEST_SQLITE_ONLY=1 says that this machine has no
// PostgreSQL on purpose: then the PostgreSQL subtests are skipped and the
// run prints, once and loudly on standard error, that they were.
package storetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vigil/internal/keyring"
	"vigil/internal/store"
)

// EnvPostgres names the variable holding the PostgreSQL admin DSN.
const EnvPostgres = "VIGIL_TEST_POSTGRES"

// EnvSQLiteOnly, set to "1", skips the PostgreSQL subtests instead of
// failing them when EnvPostgres is unset.
const EnvSQLiteOnly = "VIGIL_TEST_SQLITE_ONLY"

var warnOnce sync.Once

// SkippedBanner is what a SQLite-only run prints once on standard error.
const SkippedBanner = "!!! " + EnvSQLiteOnly + "=1: PostgreSQL subtests are SKIPPED — this run proves nothing about PostgreSQL !!!"

var counter atomic.Int64

// Engines are the engines Each runs on.
var Engines = []store.Dialect{store.SQLite, store.Postgres}

// Each runs fn once per engine as a subtest, with a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, d := range Engines {
		t.Run(d.String(), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated database of the given engine, closed (and
// for PostgreSQL dropped) when the test ends.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	ctx := context.Background()
	dsn := DSN(t, d)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		t.Fatalf("migrate %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// DSN returns the DSN of a new, empty database of the given engine.
func DSN(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return filepath.Join(t.TempDir(), "vigil.db")
	}
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		if os.Getenv(EnvSQLiteOnly) == "1" {
			warnOnce.Do(func() { fmt.Fprintf(os.Stderr, "\n%s\n\n", SkippedBanner) })
			t.Skipf("PostgreSQL skipped: %s=1 and %s is unset", EnvSQLiteOnly, EnvPostgres)
		}
		t.Fatalf("%s is not set: PostgreSQL tests need a server; run `make test`, which starts one "+
			"(or set %s=postgres://user@host:port/db?sslmode=disable); on a machine without PostgreSQL, "+
			"set %s=1 to skip the PostgreSQL subtests explicitly", EnvPostgres, EnvPostgres, EnvSQLiteOnly)
	}
	name := fmt.Sprintf("vigil_t%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, counter.Add(1))
	ctx := context.Background()
	adb, err := store.Open(ctx, admin)
	if err != nil {
		t.Fatalf("postgres admin connection: %v", err)
	}
	defer adb.Close()
	if _, err := adb.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		adb, err := store.Open(context.Background(), admin)
		if err != nil {
			return
		}
		defer adb.Close()
		adb.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Keyring returns a fresh keyring in a temporary directory.
func Keyring(t testing.TB, suite keyring.Suite) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.Open(t.TempDir(), suite)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// Quote returns s as an SQL string literal, for tests that tamper with
// rows directly.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
