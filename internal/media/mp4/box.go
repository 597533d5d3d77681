package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// boxWriter builds nested ISO BMFF boxes in memory: start opens a box,
// end patches its size. Boxes larger than 4 GiB are not built in memory
// (mdat headers are written separately), so 32-bit sizes suffice here.
type boxWriter struct {
	b     []byte
	stack []int
}

// start opens a box of type typ.
func (w *boxWriter) start(typ string) {
	w.stack = append(w.stack, len(w.b))
	w.b = append(w.b, 0, 0, 0, 0, typ[0], typ[1], typ[2], typ[3])
}

// startFull opens a full box (version and flags after the header).
func (w *boxWriter) startFull(typ string, version uint8, flags uint32) {
	w.start(typ)
	w.u32(uint32(version)<<24 | flags&0xffffff)
}

// end closes the innermost open box.
func (w *boxWriter) end() {
	s := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	binary.BigEndian.PutUint32(w.b[s:], uint32(len(w.b)-s))
}

func (w *boxWriter) u8(v uint8)              { w.b = append(w.b, v) }
func (w *boxWriter) u16(v uint16)            { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *boxWriter) u32(v uint32)            { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *boxWriter) u64(v uint64)            { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *boxWriter) bytes(v []byte)          { w.b = append(w.b, v...) }
func (w *boxWriter) zeros(n int)             { w.b = append(w.b, make([]byte, n)...) }
func (w *boxWriter) str(typ string)          { w.b = append(w.b, typ...) }
func (w *boxWriter) pos() int                { return len(w.b) }
func (w *boxWriter) putU32(at int, v uint32) { binary.BigEndian.PutUint32(w.b[at:], v) }

// matrix writes the unity transformation matrix of mvhd and tkhd.
func (w *boxWriter) matrix() {
	for _, v := range []uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000} {
		w.u32(v)
	}
}

// mdatHeader returns the header of an mdat box holding n payload bytes,
// using a 64-bit largesize when n does not fit 32 bits.
func mdatHeader(n int64) []byte {
	if n+8 <= 0xffffffff {
		h := binary.BigEndian.AppendUint32(nil, uint32(n+8))
		return append(h, "mdat"...)
	}
	h := binary.BigEndian.AppendUint32(nil, 1)
	h = append(h, "mdat"...)
	return binary.BigEndian.AppendUint64(h, uint64(n+16))
}

// errShort reports a box or field that runs past its container.
var errShort = errors.New("truncated")

// box is one parsed box inside an in-memory buffer.
type box struct {
	typ  string
	data []byte // payload, after the (large)size/type header
}

// parseBoxes splits b into its child boxes, checking every size against
// the bounds of b.
func parseBoxes(b []byte) ([]box, error) {
	var out []box
	for len(b) > 0 {
		if len(b) < 8 {
			return out, fmt.Errorf("box header: %w", errShort)
		}
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b)) // extends to the end of the container
		case 1:
			if len(b) < 16 {
				return out, fmt.Errorf("box %q largesize: %w", typ, errShort)
			}
			size = binary.BigEndian.Uint64(b[8:])
			hdr = 16
		}
		if size < hdr || size > uint64(len(b)) {
			return out, fmt.Errorf("box %q size %d of %d available: %w", typ, size, len(b), errShort)
		}
		out = append(out, box{typ: typ, data: b[hdr:size]})
		b = b[size:]
	}
	return out, nil
}

// child returns the first child box of type typ, or nil.
func child(boxes []box, typ string) *box {
	for i := range boxes {
		if boxes[i].typ == typ {
			return &boxes[i]
		}
	}
	return nil
}

// children parses b's payload and returns its children.
func (b *box) children() ([]box, error) {
	bs, err := parseBoxes(b.data)
	if err != nil {
		return nil, fmt.Errorf("in %q: %w", b.typ, err)
	}
	return bs, nil
}

// path descends from boxes through the named types, returning nil when a
// box is missing.
func path(boxes []box, types ...string) (*box, error) {
	var cur *box
	for i, t := range types {
		cur = child(boxes, t)
		if cur == nil {
			return nil, nil
		}
		if i < len(types)-1 {
			var err error
			if boxes, err = cur.children(); err != nil {
				return nil, err
			}
		}
	}
	return cur, nil
}

// reader reads big-endian fields from a box payload with bounds checks;
// after the first short read every read returns zero and err is set.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || r.off+n > len(r.b) {
		r.err = errShort
		return false
	}
	return true
}

func (r *reader) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	r.off += 2
	return binary.BigEndian.Uint16(r.b[r.off-2:])
}

func (r *reader) u24() uint32 {
	if !r.need(3) {
		return 0
	}
	r.off += 3
	return uint32(r.b[r.off-3])<<16 | uint32(r.b[r.off-2])<<8 | uint32(r.b[r.off-1])
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	r.off += 4
	return binary.BigEndian.Uint32(r.b[r.off-4:])
}

func (r *reader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	r.off += 8
	return binary.BigEndian.Uint64(r.b[r.off-8:])
}

func (r *reader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

func (r *reader) skip(n int) { r.bytes(n) }

// fullHeader reads a full box's version and flags.
func (r *reader) fullHeader() (uint8, uint32) {
	v := r.u32()
	return uint8(v >> 24), v & 0xffffff
}

// rest returns the unread bytes.
func (r *reader) rest() []byte {
	if r.err != nil {
		return nil
	}
	return r.b[r.off:]
}

// count reads an entry count and checks that entries of entrySize bytes
// fit in what remains, so a hostile count cannot force a huge allocation.
func (r *reader) count(entrySize int) int {
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if uint64(n)*uint64(entrySize) > uint64(len(r.b)-r.off) {
		r.err = fmt.Errorf("%d entries of %d bytes: %w", n, entrySize, errShort)
		return 0
	}
	return int(n)
}
