package codec

import "errors"

var errShort = errors.New("data too short")

// rbsp removes emulation-prevention bytes (00 00 03 → 00 00) from a NAL unit.
func rbsp(b []byte) []byte {
	out := make([]byte, 0, len(b))
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

// bitReader reads an RBSP MSB first. The first error sticks: later reads
// return zero, so a parser checks err once per section.
type bitReader struct {
	b   []byte
	pos int // in bits
	err error
}

func (r *bitReader) u(n int) uint64 {
	if r.err != nil {
		return 0
	}
	if n > 64 || r.pos+n > len(r.b)*8 {
		r.err = errShort
		return 0
	}
	var v uint64
	for i := 0; i < n; i++ {
		bit := (r.b[r.pos>>3] >> (7 - uint(r.pos&7))) & 1
		v = v<<1 | uint64(bit)
		r.pos++
	}
	return v
}

func (r *bitReader) flag() bool { return r.u(1) == 1 }

func (r *bitReader) skip(n int) {
	if r.err == nil && r.pos+n > len(r.b)*8 {
		r.err = errShort
	}
	if r.err == nil {
		r.pos += n
	}
}

// ue reads an unsigned Exp-Golomb code.
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.u(1) == 0 {
		if r.err != nil {
			return 0
		}
		zeros++
		if zeros > 31 {
			r.err = errors.New("exp-golomb code too long")
			return 0
		}
	}
	return uint32((uint64(1)<<zeros - 1) + r.u(zeros))
}

// se reads a signed Exp-Golomb code.
func (r *bitReader) se() int32 {
	k := r.ue()
	if k&1 == 1 {
		return int32((k + 1) / 2)
	}
	return -int32(k / 2)
}

// ueMax reads ue and fails when it exceeds max, so counts read from the
// stream can bound loops safely.
func (r *bitReader) ueMax(max uint32, what string) uint32 {
	v := r.ue()
	if r.err == nil && v > max {
		r.err = errors.New(what + " out of range")
		return 0
	}
	return v
}

// bitWriter writes MSB first.
type bitWriter struct {
	b    []byte
	nbit int
}

func (w *bitWriter) put(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.nbit%8 == 0 {
			w.b = append(w.b, 0)
		}
		if (v>>uint(i))&1 == 1 {
			w.b[len(w.b)-1] |= 1 << (7 - uint(w.nbit%8))
		}
		w.nbit++
	}
}
