package mp4

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestStreamReader reads our fMP4 front to back from an io.Reader and gets
// the units back; a torn copy ends with io.ErrUnexpectedEOF after the last
// whole fragment. MED-2
func TestStreamReader(t *testing.T) {
	tracks, units := demux(t, clipH264BF(t))
	b, frags := writeFragmented(t, tracks, units, FragmentOptions{UserData: map[string]string{"k": "v"}})
	tests := []struct {
		name    string
		cut     int64
		frags   int
		lastErr error
	}{
		{"whole", int64(len(b)), len(frags), io.EOF},
		{"torn", frags[1].Offset + frags[1].Size/2, 1, io.ErrUnexpectedEOF},
		{"cut at boundary", frags[1].Offset, 1, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr, err := NewStreamReader(bytes.NewReader(b[:tt.cut]))
			if err != nil {
				t.Fatal(err)
			}
			if len(sr.Tracks()) != 2 || sr.UserData()["k"] != "v" {
				t.Fatalf("tracks %d, user data %v", len(sr.Tracks()), sr.UserData())
			}
			n, got := 0, 0
			for {
				us, err := sr.Next()
				if err != nil {
					if !errors.Is(err, tt.lastErr) {
						t.Fatalf("after %d fragments: %v, want %v", n, err, tt.lastErr)
					}
					break
				}
				if sr.Offset() != frags[n].Offset+frags[n].Size {
					t.Fatalf("fragment %d ends at %d, want %d", n, sr.Offset(), frags[n].Offset+frags[n].Size)
				}
				n++
				got += len(us)
				for _, u := range us {
					if u.Track == 0 && len(u.NALUs) == 0 || u.Track == 1 && len(u.Data) == 0 {
						t.Fatalf("empty unit %+v", u)
					}
				}
			}
			if n != tt.frags {
				t.Fatalf("%d fragments, want %d", n, tt.frags)
			}
			if tt.name == "whole" && got != len(units) {
				t.Fatalf("%d units, want %d", got, len(units))
			}
		})
	}
}

// FuzzStreamReader: no input may panic the streaming reader.
func FuzzStreamReader(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.mp4")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sr, err := NewStreamReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for range 1000 {
			if _, err := sr.Next(); err != nil {
				return
			}
		}
	})
}
