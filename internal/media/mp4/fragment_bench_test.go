package mp4

import (
	"io"
	"testing"
)

// BenchmarkFragmentWriter writes a live H.264 + AAC stream (an ffmpeg-made
// clip, looped) the way a recorder does, one op per unit. Its allocations
// per op are what each camera costs the garbage collector. Issue 3.
func BenchmarkFragmentWriter(b *testing.B) {
	tracks, units := demux(b, clipH264(b))
	var span int64
	for _, u := range units {
		if u.Track == 0 {
			span = max(span, u.DTS+3600)
		}
	}
	fw, err := NewFragmentWriter(io.Discard, tracks, FragmentOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for _, u := range units {
		bytes += int64(len(u.Data))
		for _, n := range u.NALUs {
			bytes += int64(len(n))
		}
	}
	b.SetBytes(bytes / int64(len(units)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		loop, k := int64(i/len(units)), i%len(units)
		u := units[k]
		off := loop * span
		if u.Track != 0 {
			off = loop * span * int64(tracks[u.Track].ClockRate) / 90000
		}
		u.DTS += off
		u.PTS += off
		if err := fw.WriteUnit(u); err != nil {
			b.Fatal(err)
		}
	}
	if err := fw.Flush(); err != nil {
		b.Fatal(err)
	}
}
