// Package storage holds recorded segments as immutable objects: a local
// store over one or several data directories now, an S3-compatible store
// later, behind one interface.
//
// Invariants:
//   - An object is written once, through the Writer Create returns, and is
//     immutable after Close: no method rewrites a closed object's bytes.
//     The only exception is Truncate, which the recorder uses at start-up
//     to cut a torn, never-closed segment back to its last complete
//     fragment (RET-4 concerns closed, indexed segments).
//   - Delete is called by the retention engine only (RET-4); nothing else in
//     Vigil removes footage. A segment the recorder cannot read is moved
//     under QuarantinePrefix (Quarantine), kept and counted by verify.
//   - Keys are relative slash-separated paths without "." or ".."
//     elements; a key names the same object whichever data directory holds
//     it.
//   - A store that cannot keep ReserveBytes free refuses new objects with
//     ErrFull: recording gives way, footage inside retention is never
//     deleted to make room.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrFull is returned when no data directory has room for a new object.
var ErrFull = errors.New("storage full")

// ErrNotFound is returned for a key that names no object.
var ErrNotFound = errors.New("object not found")

// ErrExists is returned by Create for a key already in use.
var ErrExists = errors.New("object exists")

// Store is where segments live.
type Store interface {
	// Create starts a new object under key. The object is visible to Open
	// as it grows (the recorder's open segment); Close seals it.
	Create(ctx context.Context, key string) (Writer, error)
	// Open opens an object for random reads.
	Open(ctx context.Context, key string) (Object, error)
	// Stat describes an object without opening it.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes an object. Only the retention engine calls it.
	Delete(ctx context.Context, key string) error
	// List returns the keys under prefix ("" for all), sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Space reports each volume's capacity and free bytes.
	Space(ctx context.Context) ([]Volume, error)
}

// Truncater is implemented by stores whose unsealed objects can be cut
// back after a crash (the local store). A store without it (S3) uploads
// only sealed objects, so it never holds a torn one.
type Truncater interface {
	Truncate(ctx context.Context, key string, size int64) error
}

// QuarantinePrefix is where quarantined objects are kept: a segment the
// recorder could not read is moved under it, never deleted (RET-4).
const QuarantinePrefix = "quarantine/"

// Quarantiner is implemented by stores that can set an object aside: it
// moves key to QuarantinePrefix+key, keeping its bytes, and returns the
// new key.
type Quarantiner interface {
	Quarantine(ctx context.Context, key string) (string, error)
}

// Writer is an object being written.
type Writer interface {
	io.Writer
	// Sync makes what was written so far durable (fsync on disk).
	Sync() error
	// Close syncs and seals the object.
	Close() error
}

// Object is an object open for reading.
type Object interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Info describes an object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
	Volume  string // the data directory (or bucket) holding it
}

// Volume is one data directory's (or bucket's) space.
type Volume struct {
	Path       string
	TotalBytes int64
	FreeBytes  int64 // available to Vigil (statfs f_bavail)
	Full       bool  // below the reserve: no new objects here
}

// CheckKey validates an object key.
func CheckKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("storage: bad key %q", key)
	}
	for _, el := range strings.Split(key, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("storage: bad key %q", key)
		}
	}
	return nil
}
