package mp4

import (
	"encoding/binary"
	"sync"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// chunkSize is the unit in which a FragmentWriter gathers sample bytes. A
// track wastes at most one partly filled chunk, so small chunks keep the
// memory of many concurrent writers (one per camera) close to the bytes
// they actually hold; 16 KiB is about one P-frame at 3 Mbit/s.
const chunkSize = 16 << 10

// chunkPool holds free chunks, shared by every FragmentWriter: a writer
// returns its chunks when it writes a fragment, and another writer's next
// samples reuse them, so steady-state ingest allocates nothing here.
var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// fragPool holds the buffers fragments are assembled in for their single
// write. Writers hold one only while writing, so a few serve any number of
// writers.
var fragPool = sync.Pool{New: func() any { return new([]byte) }}

// chunkList is a byte sequence stored in pooled chunks.
type chunkList struct {
	chunks []*[chunkSize]byte
	n      int // bytes held
}

// write appends p.
func (l *chunkList) write(p []byte) {
	for len(p) > 0 {
		off := l.n % chunkSize
		if off == 0 && l.n/chunkSize == len(l.chunks) {
			l.chunks = append(l.chunks, chunkPool.Get().(*[chunkSize]byte))
		}
		c := copy(l.chunks[l.n/chunkSize][off:], p)
		l.n += c
		p = p[c:]
	}
}

// writeU32 appends v big-endian.
func (l *chunkList) writeU32(v uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	l.write(b[:])
}

// appendPrefix appends the first n bytes held to b.
func (l *chunkList) appendPrefix(b []byte, n int) []byte {
	for _, c := range l.chunks {
		if n <= 0 {
			break
		}
		k := min(n, chunkSize)
		b = append(b, c[:k]...)
		n -= k
	}
	return b
}

// dropPrefix removes the first n bytes, keeping the rest (a held sample,
// so usually less than a chunk or two) in fresh chunks.
func (l *chunkList) dropPrefix(n int) {
	var rest chunkList
	for off := n; off < l.n; {
		c := l.chunks[off/chunkSize]
		k := min(chunkSize-off%chunkSize, l.n-off)
		rest.write(c[off%chunkSize : off%chunkSize+k])
		off += k
	}
	l.reset()
	l.chunks = append(l.chunks, rest.chunks...)
	l.n = rest.n
}

// reset empties l, returning its chunks to the pool.
func (l *chunkList) reset() {
	for i, c := range l.chunks {
		chunkPool.Put(c)
		l.chunks[i] = nil
	}
	l.chunks, l.n = l.chunks[:0], 0
}

// keepNALU reports whether a NAL unit belongs in an MP4 sample: access
// unit delimiters and filler data do not (the same rule as codec.CleanAU).
func keepNALU(v codec.Video, n []byte) bool {
	if len(n) == 0 {
		return false
	}
	t := codec.NALType(v, n)
	return !(v == codec.H265 && (t == codec.H265NALAUD || t == codec.H265NALFD) ||
		v == codec.H264 && (t == codec.H264NALAUD || t == codec.H264NALFiller))
}

func videoCoding(c media.Codec) codec.Video {
	if c == media.H265 {
		return codec.H265
	}
	return codec.H264
}

// writeAVCC appends an access unit as an AVCC sample (4-byte lengths,
// delimiters and filler left out) and returns its size. nalus is only
// read: the hub shares it between readers.
func (l *chunkList) writeAVCC(v codec.Video, nalus [][]byte) int {
	start := l.n
	for _, n := range nalus {
		if keepNALU(v, n) {
			l.writeU32(uint32(len(n)))
			l.write(n)
		}
	}
	return l.n - start
}
