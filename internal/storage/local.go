package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// DefaultReserveBytes is the free space a data directory keeps: below it
// no new object is created there.
const DefaultReserveBytes = 512 << 20

// Local stores objects as files under one or several data directories. A
// new object goes to the directory with the most free space; Open finds an
// object in whichever directory holds it.
type Local struct {
	dirs    []string
	reserve int64

	mu    sync.Mutex
	space func(dir string) (total, free int64, err error)
}

// NewLocal returns a store over dirs (created if missing). reserve is the
// free space each directory keeps (DefaultReserveBytes when 0; negative
// for none).
func NewLocal(dirs []string, reserve int64) (*Local, error) {
	if len(dirs) == 0 {
		return nil, errors.New("storage: no data directory")
	}
	if reserve == 0 {
		reserve = DefaultReserveBytes
	}
	l := &Local{reserve: max(reserve, 0), space: statfs}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("storage: data directory %s: %w", d, err)
		}
		if err := os.MkdirAll(abs, 0o750); err != nil {
			return nil, fmt.Errorf("storage: data directory %s: %w", d, err)
		}
		l.dirs = append(l.dirs, abs)
	}
	return l, nil
}

// SetSpaceFunc replaces how free space is measured (statfs by default):
// for quotas, and for tests that simulate a full disk.
func (l *Local) SetSpaceFunc(f func(dir string) (total, free int64, err error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.space = f
}

func (l *Local) spaceOf(dir string) (int64, int64, error) {
	l.mu.Lock()
	f := l.space
	l.mu.Unlock()
	return f(dir)
}

func statfs(dir string) (total, free int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := int64(st.Bsize)
	return int64(st.Blocks) * bs, int64(st.Bavail) * bs, nil
}

// Dirs returns the data directories.
func (l *Local) Dirs() []string { return append([]string(nil), l.dirs...) }

func (l *Local) find(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	for _, d := range l.dirs {
		p := filepath.Join(d, filepath.FromSlash(key))
		if _, err := os.Lstat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("storage: %s: %w", key, err)
		}
	}
	return "", fmt.Errorf("storage: %s: %w", key, ErrNotFound)
}

// Create implements Store: the object goes to the directory with the most
// free space above the reserve.
func (l *Local) Create(ctx context.Context, key string) (Writer, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if _, err := l.find(key); err == nil {
		return nil, fmt.Errorf("storage: create %s: %w", key, ErrExists)
	}
	best, bestFree := "", int64(-1)
	for _, d := range l.dirs {
		_, free, err := l.spaceOf(d)
		if err != nil {
			continue
		}
		if free-l.reserve > bestFree && free > l.reserve {
			best, bestFree = d, free-l.reserve
		}
	}
	if best == "" {
		return nil, fmt.Errorf("storage: create %s: every data directory is below its reserve of %d MiB: %w", key, l.reserve>>20, ErrFull)
	}
	p := filepath.Join(best, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", key, mapFull(err))
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", key, mapFull(err))
	}
	syncDir(filepath.Dir(p))
	return &fileWriter{f: f, key: key}, nil
}

// mapFull turns ENOSPC and EDQUOT into ErrFull.
func mapFull(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrFull, err)
	}
	return err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

type fileWriter struct {
	f   *os.File
	key string
}

func (w *fileWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	if err != nil {
		return n, fmt.Errorf("storage: write %s: %w", w.key, mapFull(err))
	}
	return n, nil
}

func (w *fileWriter) Sync() error {
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("storage: sync %s: %w", w.key, mapFull(err))
	}
	return nil
}

func (w *fileWriter) Close() error {
	serr := w.f.Sync()
	cerr := w.f.Close()
	if err := errors.Join(serr, cerr); err != nil {
		return fmt.Errorf("storage: close %s: %w", w.key, mapFull(err))
	}
	return nil
}

type fileObject struct {
	*os.File
	size int64
}

func (o *fileObject) Size() int64 { return o.size }

// Open implements Store.
func (l *Local) Open(ctx context.Context, key string) (Object, error) {
	p, err := l.find(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: open %s: %w", key, err)
	}
	return &fileObject{File: f, size: st.Size()}, nil
}

// Stat implements Store.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	p, err := l.find(key)
	if err != nil {
		return Info{}, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return Info{}, fmt.Errorf("storage: stat %s: %w", key, err)
	}
	return Info{Key: key, Size: st.Size(), ModTime: st.ModTime(), Volume: strings.TrimSuffix(p, filepath.FromSlash(key))}, nil
}

// Delete implements Store. Deleting a missing object is not an error
// (a retried deletion).
func (l *Local) Delete(ctx context.Context, key string) error {
	p, err := l.find(key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	syncDir(filepath.Dir(p))
	return nil
}

// Quarantine implements Quarantiner: the object is renamed within its data
// directory to QuarantinePrefix+key and the directories are synced.
func (l *Local) Quarantine(ctx context.Context, key string) (string, error) {
	p, err := l.find(key)
	if err != nil {
		return "", err
	}
	q := QuarantinePrefix + key
	if err := CheckKey(q); err != nil {
		return "", err
	}
	dst := filepath.Join(strings.TrimSuffix(p, filepath.FromSlash(key)), filepath.FromSlash(q))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", fmt.Errorf("storage: quarantine %s: %w", key, err)
	}
	if err := os.Rename(p, dst); err != nil {
		return "", fmt.Errorf("storage: quarantine %s: %w", key, err)
	}
	syncDir(filepath.Dir(dst))
	syncDir(filepath.Dir(p))
	return q, nil
}

// Truncate implements Truncater: it cuts an unsealed object back to size
// bytes and syncs it.
func (l *Local) Truncate(ctx context.Context, key string, size int64) error {
	p, err := l.find(key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("storage: truncate %s: %w", key, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("storage: truncate %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storage: truncate %s: %w", key, err)
	}
	return nil
}

// List implements Store.
func (l *Local) List(ctx context.Context, prefix string) ([]string, error) {
	seen := map[string]bool{}
	for _, d := range l.dirs {
		root := d
		start := root
		if i := strings.LastIndex(prefix, "/"); i >= 0 {
			start = filepath.Join(root, filepath.FromSlash(prefix[:i]))
		}
		err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if e.IsDir() {
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			k := filepath.ToSlash(rel)
			if strings.HasPrefix(k, prefix) {
				seen[k] = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("storage: list %q: %w", prefix, err)
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// Space implements Store.
func (l *Local) Space(ctx context.Context) ([]Volume, error) {
	out := make([]Volume, 0, len(l.dirs))
	for _, d := range l.dirs {
		total, free, err := l.spaceOf(d)
		if err != nil {
			return nil, err
		}
		out = append(out, Volume{Path: d, TotalBytes: total, FreeBytes: free, Full: free <= l.reserve})
	}
	return out, nil
}
