package storage

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
)

func TestLocalLifecycle(t *testing.T) {
	ctx := context.Background()
	a, b := t.TempDir(), t.TempDir()
	l, err := NewLocal([]string{a, b}, -1)
	if err != nil {
		t.Fatal(err)
	}
	// b has more room: new objects go there.
	l.SetSpaceFunc(func(dir string) (int64, int64, error) {
		if dir == b {
			return 100 << 30, 50 << 30, nil
		}
		return 100 << 30, 10 << 30, nil
	})
	w, err := l.Create(ctx, "cam1/20260101/1-000001.mp4")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("hello world"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := l.Stat(ctx, "cam1/20260101/1-000001.mp4")
	if err != nil || info.Size != 11 || filepath.Clean(info.Volume) != b {
		t.Fatalf("stat: %+v %v (want volume %s)", info, err, b)
	}
	if _, err := l.Create(ctx, "cam1/20260101/1-000001.mp4"); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	o, err := l.Open(ctx, "cam1/20260101/1-000001.mp4")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := o.ReadAt(buf, 6); err != nil && !errors.Is(err, io.EOF) || string(buf) != "world" || o.Size() != 11 {
		t.Fatalf("read: %q %v", buf, err)
	}
	o.Close()
	if err := l.Truncate(ctx, "cam1/20260101/1-000001.mp4", 5); err != nil {
		t.Fatal(err)
	}
	if info, _ := l.Stat(ctx, "cam1/20260101/1-000001.mp4"); info.Size != 5 {
		t.Fatalf("truncate: size %d", info.Size)
	}
	keys, err := l.List(ctx, "cam1/")
	if err != nil || len(keys) != 1 || keys[0] != "cam1/20260101/1-000001.mp4" {
		t.Fatalf("list: %v %v", keys, err)
	}
	if keys, _ := l.List(ctx, "cam2/"); len(keys) != 0 {
		t.Fatalf("list cam2: %v", keys)
	}
	if err := l.Delete(ctx, "cam1/20260101/1-000001.mp4"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Open(ctx, "cam1/20260101/1-000001.mp4"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open after delete: %v", err)
	}
}

func TestLocalFullRefusesNewObjects(t *testing.T) {
	ctx := context.Background()
	l, err := NewLocal([]string{t.TempDir()}, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	l.SetSpaceFunc(func(string) (int64, int64, error) { return 100 << 30, 512 << 20, nil })
	if _, err := l.Create(ctx, "c/x.mp4"); !errors.Is(err, ErrFull) {
		t.Fatalf("create on a full volume: %v", err)
	}
	vols, err := l.Space(ctx)
	if err != nil || len(vols) != 1 || !vols[0].Full {
		t.Fatalf("space: %+v %v", vols, err)
	}
}

func TestLocalRealStatfs(t *testing.T) {
	l, err := NewLocal([]string{t.TempDir()}, -1)
	if err != nil {
		t.Fatal(err)
	}
	vols, err := l.Space(context.Background())
	if err != nil || vols[0].TotalBytes <= 0 || vols[0].FreeBytes <= 0 || vols[0].FreeBytes > vols[0].TotalBytes {
		t.Fatalf("statfs: %+v %v", vols, err)
	}
}

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"", "/a", "a/../b", "a//b", "a/", ".", "a\\b"} {
		if CheckKey(k) == nil {
			t.Errorf("key %q accepted", k)
		}
	}
	if err := CheckKey("cam/20260101/1-1.mp4"); err != nil {
		t.Error(err)
	}
}
