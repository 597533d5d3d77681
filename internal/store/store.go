// Package store opens Vigil's relational database — SQLite (pure Go,
// embedded default) or PostgreSQL (pgx) — and runs its migrations.
//
// Invariants:
//   - Every query is written once, with `?` placeholders; Rebind turns them
//     into `$n` for PostgreSQL. SQL stays within what both engines accept.
//   - Times are stored as BIGINT microseconds since the Unix epoch (UTC), so
//     ordering and range queries behave the same on both engines.
//   - A state change and its audit entry are written in one transaction
//     (Tx); nothing is half-written.
//   - SQLite runs in WAL mode with synchronous=FULL and BEGIN IMMEDIATE
//     transactions: a committed transaction survives a crash, and writers
//     queue on the busy timeout instead of failing.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// Dialect is the SQL engine behind a DB.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is an open Vigil database.
type DB struct {
	sql     *sql.DB
	Dialect Dialect
}

// ErrNotFound is returned when a looked-up row does not exist. It reports
// NotFound() true, so that the HTTP layer answers 404 without importing
// the store.
var ErrNotFound error = notFoundError{}

type notFoundError struct{}

func (notFoundError) Error() string  { return "not found" }
func (notFoundError) NotFound() bool { return true }

// IsPostgresDSN reports whether dsn selects PostgreSQL.
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database named by dsn: a postgres:// URL selects
// PostgreSQL; anything else is an SQLite file path (an optional "sqlite:"
// prefix is accepted). It checks that the database answers.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var db *DB
	if IsPostgresDSN(dsn) {
		s, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		s.SetMaxOpenConns(20)
		s.SetMaxIdleConns(10)
		s.SetConnMaxIdleTime(5 * time.Minute)
		db = &DB{sql: s, Dialect: Postgres}
	} else {
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, errors.New("open sqlite: empty path")
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("open sqlite: %w", err)
			}
		}
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(ON)")
		q.Set("_txlock", "immediate")
		s, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		// WAL allows concurrent readers; writers serialise on BEGIN IMMEDIATE.
		s.SetMaxOpenConns(8)
		db = &DB{sql: s, Dialect: SQLite}
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.sql.PingContext(pctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("database %s unreachable: %w", db.Dialect, err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

// SQL returns the underlying *sql.DB, for tools and tests that need it.
func (db *DB) SQL() *sql.DB { return db.sql }

// Rebind rewrites `?` placeholders for the database's dialect.
func (db *DB) Rebind(q string) string { return rebind(db.Dialect, q) }

func rebind(d Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Exec runs a statement outside a transaction.
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.sql.ExecContext(ctx, db.Rebind(q), args...)
}

// Query runs a query outside a transaction.
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.sql.QueryContext(ctx, db.Rebind(q), args...)
}

// QueryRow runs a single-row query outside a transaction.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.sql.QueryRowContext(ctx, db.Rebind(q), args...)
}

// Tx is a transaction with the same rebinding helpers as DB.
type Tx struct {
	tx      *sql.Tx
	Dialect Dialect
	after   []func()
}

// Exec runs a statement in the transaction.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, rebind(t.Dialect, q), args...)
}

// Query runs a query in the transaction.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, rebind(t.Dialect, q), args...)
}

// QueryRow runs a single-row query in the transaction.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, rebind(t.Dialect, q), args...)
}

// AfterCommit registers fn to run once the transaction has committed (for
// in-memory state that must only change when the database did).
func (t *Tx) AfterCommit(fn func()) { t.after = append(t.after, fn) }

// ForUpdate returns " FOR UPDATE" on PostgreSQL and "" on SQLite, whose
// BEGIN IMMEDIATE already holds the write lock.
func (t *Tx) ForUpdate() string {
	if t.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise. On PostgreSQL a serialization failure is retried.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.inTx(ctx, fn)
		if err != nil && db.Dialect == Postgres && attempt < 3 && isRetryable(err) {
			continue
		}
		return err
	}
}

func (db *DB) inTx(ctx context.Context, fn func(*Tx) error) (err error) {
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{tx: stx, Dialect: db.Dialect}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
		if err != nil {
			stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

func isRetryable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLSTATE 40001") || strings.Contains(s, "SQLSTATE 40P01")
}

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// Micros converts t to the stored representation (µs since the epoch).
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Time converts a stored value back to a time (zero for 0).
func Time(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// NullMicros converts an optional time for storage (NULL when zero).
func NullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}
