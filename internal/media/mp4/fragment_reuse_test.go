package mp4

import (
	"bytes"
	"testing"

	"vigil/internal/media"
)

// FragmentWriter gathers samples in pooled chunks and copies each unit's
// bytes when it is written, so a caller may reuse its buffers after
// WriteUnit returns; two writers interleaved (sharing the pools) must each
// write what a writer alone writes. MED-1 RET-3
func TestFragmentWriterCopiesUnits(t *testing.T) {
	for _, src := range sources(t) {
		t.Run(src.name, func(t *testing.T) {
			var alone bytes.Buffer
			fw, err := NewFragmentWriter(&alone, src.tracks, FragmentOptions{})
			if err != nil {
				t.Fatal(err)
			}
			big := 0
			for _, u := range src.units {
				if err := fw.WriteUnit(u); err != nil {
					t.Fatal(err)
				}
				if sampleSize(videoCoding(src.tracks[0].Codec), u.NALUs) > chunkSize {
					big++
				}
			}
			if err := fw.Flush(); err != nil {
				t.Fatal(err)
			}
			if big == 0 {
				t.Fatal("no sample spans chunks: the test clip is too small")
			}

			var a, b bytes.Buffer
			fa, err := NewFragmentWriter(&a, src.tracks, FragmentOptions{})
			if err != nil {
				t.Fatal(err)
			}
			fb, err := NewFragmentWriter(&b, src.tracks, FragmentOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range src.units {
				for _, fw := range []*FragmentWriter{fa, fb} {
					c := cloneUnit(u)
					if err := fw.WriteUnit(c); err != nil {
						t.Fatal(err)
					}
					scribble(c) // the caller reuses its buffers
				}
			}
			if err := fa.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := fb.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), alone.Bytes()) || !bytes.Equal(b.Bytes(), alone.Bytes()) {
				t.Fatalf("interleaved writers with reused buffers wrote %d and %d bytes unlike the %d of a writer alone", a.Len(), b.Len(), alone.Len())
			}
		})
	}
}

func cloneUnit(u media.Unit) media.Unit {
	u.Data = bytes.Clone(u.Data)
	nalus := make([][]byte, len(u.NALUs))
	for i, n := range u.NALUs {
		nalus[i] = bytes.Clone(n)
	}
	u.NALUs = nalus
	return u
}

func scribble(u media.Unit) {
	for i := range u.Data {
		u.Data[i] = 0xAA
	}
	for _, n := range u.NALUs {
		for i := range n {
			n[i] = 0xAA
		}
	}
}
