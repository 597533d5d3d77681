package rtpdec

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/pion/rtp"

	"vigil/internal/media/codec"
)

// maxAUSize bounds an access unit being reassembled, so a sender that never
// changes timestamp or sets the marker cannot exhaust memory.
const maxAUSize = 16 << 20

var (
	errMalformed   = errors.New("malformed payload")
	errUnsupported = errors.New("unsupported payload structure")
)

// auPool holds the scratch buffers access units are gathered in. A
// depacketiser holds one only while a unit is open, which for a camera
// that sends each picture in a burst is a few microseconds, so a handful
// serve any number of streams.
var auPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledAU bounds the scratch buffers kept in auPool.
const maxPooledAU = 1 << 20

// videoDepack reassembles H.264 (RFC 6184: single NAL, STAP-A, FU-A) and
// H.265 (RFC 7798: single NAL, AP, FU; no DONL) payloads into access units,
// delimited by the marker bit and by timestamp changes.
//
// The NAL units of the open unit are gathered back to back in a pooled
// scratch buffer (spans records where each lies); a complete unit is
// copied out into one allocation of its exact size, which the unit's NALUs
// share.
type videoDepack struct {
	hevc bool
	r    *Receiver

	open    bool
	ts      int64
	recv    time.Time
	buf     *[]byte  // scratch: the unit's NAL units, then the open fragment
	spans   [][2]int // [start, end) in *buf of each complete NAL unit
	size    int
	damaged bool

	fuStart int // where the open fragmented NAL unit starts in *buf
	fuOn    bool
	suspect bool // packets were lost since the last one: the next unit may lack its start
	fuLost  bool // packets were lost since the last fragment start
}

func (d *videoDepack) lost() {
	if d.open {
		d.damaged = true
	}
	d.dropFU()
	d.suspect, d.fuLost = true, true
}

// dropFU abandons the fragmented NAL unit being gathered, if any.
func (d *videoDepack) dropFU() {
	if d.fuOn {
		*d.buf = (*d.buf)[:d.fuStart]
		d.fuOn = false
	}
}

// scratch returns the scratch buffer, taking one from the pool if needed.
func (d *videoDepack) scratch() *[]byte {
	if d.buf == nil {
		d.buf = auPool.Get().(*[]byte)
		*d.buf = (*d.buf)[:0]
	}
	return d.buf
}

// release returns the scratch buffer to the pool once nothing is open.
func (d *videoDepack) release() {
	if d.buf == nil || d.fuOn {
		return
	}
	if cap(*d.buf) <= maxPooledAU {
		*d.buf = (*d.buf)[:0]
		auPool.Put(d.buf)
	}
	d.buf = nil
}

// nalus copies the open unit's NAL units out of the scratch buffer into
// one allocation.
func (d *videoDepack) nalus() [][]byte {
	if len(d.spans) == 0 {
		return nil
	}
	n := 0
	for _, sp := range d.spans {
		n += sp[1] - sp[0]
	}
	data := make([]byte, 0, n)
	out := make([][]byte, len(d.spans))
	for i, sp := range d.spans {
		k := len(data)
		data = append(data, (*d.buf)[sp[0]:sp[1]]...)
		out[i] = data[k:len(data):len(data)]
	}
	return out
}

func (d *videoDepack) push(p *rtp.Packet, ts int64, recv time.Time) {
	if d.open && ts != d.ts {
		d.finish()
	}
	if !d.open {
		d.open, d.ts, d.recv, d.spans, d.size, d.damaged = true, ts, recv, d.spans[:0], 0, false
		d.scratch()
		if d.suspect && !d.startsAU(p.Payload) {
			d.damaged = true
		}
	}
	d.suspect = false
	var err error
	if d.hevc {
		err = d.h265(p.Payload)
	} else {
		err = d.h264(p.Payload)
	}
	switch {
	case errors.Is(err, errUnsupported):
		d.r.stats.Unsupported++
		d.damaged = true
	case err != nil:
		d.r.stats.Malformed++
		d.damaged = true
	}
	if d.size > maxAUSize {
		d.spans, d.size, d.damaged = d.spans[:0], 0, true
		b := *d.buf
		if d.fuOn { // keep the open fragment, at the start
			*d.buf = b[:copy(b, b[d.fuStart:])]
			d.fuStart = 0
		} else {
			*d.buf = b[:0]
		}
	}
	if p.Marker {
		d.finish()
	}
}

func (d *videoDepack) finish() {
	if !d.open {
		return
	}
	if d.fuOn {
		d.damaged = true
	}
	d.dropFU()
	d.open = false
	nalus := d.nalus() // a damaged unit is passed on with the NAL units that arrived whole
	d.spans = d.spans[:0]
	d.release()
	d.r.emitVideo(d.ts, nalus, d.damaged, d.recv)
}

// trimZeros drops trailing zero bytes, which no NAL unit ends with but
// which senders that cut Annex-B streams at 4-byte start codes leave on
// (ffmpeg's RTP muxer does).
func trimZeros(n []byte) []byte {
	for len(n) > 0 && n[len(n)-1] == 0 {
		n = n[:len(n)-1]
	}
	return n
}

func (d *videoDepack) add(n []byte) {
	n = trimZeros(n)
	if len(n) == 0 {
		return
	}
	d.size += len(n)
	b := d.scratch()
	if d.fuOn {
		// A NAL unit while a fragmented one is unfinished (a sender's
		// error, rare): it goes before the fragment, which stays last.
		frag := append([]byte(nil), (*b)[d.fuStart:]...)
		*b = append(append((*b)[:d.fuStart], n...), frag...)
		d.spans = append(d.spans, [2]int{d.fuStart, d.fuStart + len(n)})
		d.fuStart += len(n)
		return
	}
	start := len(*b)
	*b = append(*b, n...)
	d.spans = append(d.spans, [2]int{start, len(*b)})
}

// fragment handles one FU fragment whose reconstructed NAL header is hdr.
func (d *videoDepack) fragment(start, end bool, hdr, data []byte) error {
	b := d.scratch()
	if start {
		if d.fuOn {
			d.damaged = true // the previous fragmented unit never ended
			d.dropFU()
		}
		d.fuStart, d.fuOn, d.fuLost = len(*b), true, false
		*b = append(append(*b, hdr...), data...)
	} else {
		if !d.fuOn {
			d.damaged = true
			if d.fuLost {
				return nil // its start was lost, and counted so
			}
			return errMalformed
		}
		*b = append(*b, data...)
	}
	d.size += len(data)
	if end {
		nal := trimZeros((*b)[d.fuStart:])
		*b = (*b)[:d.fuStart+len(nal)]
		d.spans = append(d.spans, [2]int{d.fuStart, len(*b)})
		d.fuOn = false
	}
	return nil
}

// aggregated splits STAP-A / AP payloads: 16-bit sizes and NAL units.
func (d *videoDepack) aggregated(b []byte) error {
	for len(b) > 0 {
		if len(b) < 2 {
			return errMalformed
		}
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if n == 0 || n > len(b) {
			return errMalformed
		}
		d.add(b[:n])
		b = b[n:]
	}
	return nil
}

func (d *videoDepack) h264(p []byte) error {
	if len(p) < 1 {
		return errMalformed
	}
	switch t := p[0] & 0x1f; {
	case t >= 1 && t <= 23:
		d.add(p)
	case t == codec.H264NALSTAPA:
		return d.aggregated(p[1:])
	case t == codec.H264NALFUA:
		if len(p) < 3 {
			return errMalformed
		}
		return d.fragment(p[1]&0x80 != 0, p[1]&0x40 != 0, []byte{p[0]&0xe0 | p[1]&0x1f}, p[2:])
	case t == codec.H264NALSTAPB || t == codec.H264NALMTAP16 || t == codec.H264NALMTAP24 || t == codec.H264NALFUB:
		return errUnsupported
	default:
		return errMalformed
	}
	return nil
}

func (d *videoDepack) h265(p []byte) error {
	if len(p) < 3 {
		return errMalformed
	}
	switch t := codec.H265NALType(p); {
	case t < codec.H265NALAP:
		d.add(p)
	case t == codec.H265NALAP:
		return d.aggregated(p[2:])
	case t == codec.H265NALFU:
		fu := p[2]
		return d.fragment(fu&0x80 != 0, fu&0x40 != 0, []byte{p[0]&0x81 | (fu&0x3f)<<1, p[1]}, p[3:])
	default: // PACI and reserved types
		return errUnsupported
	}
	return nil
}

// startsAU reports whether a payload begins an access unit: a parameter
// set, delimiter or SEI, or the first slice of a picture.
func (d *videoDepack) startsAU(p []byte) bool {
	if d.hevc {
		if len(p) < 3 {
			return false
		}
		t := codec.H265NALType(p)
		switch {
		case t < 32:
			return p[2]&0x80 != 0 // first_slice_segment_in_pic_flag
		case t >= codec.H265NALVPS && t <= codec.H265NALAUD || t == codec.H265NALSEIPrefix:
			return true
		case t == codec.H265NALAP:
			return len(p) > 4 && d.startsAU(p[4:])
		case t == codec.H265NALFU:
			ft := p[2] & 0x3f
			return p[2]&0x80 != 0 && (ft >= 32 || len(p) > 3 && p[3]&0x80 != 0)
		}
		return false
	}
	if len(p) < 2 {
		return false
	}
	switch t := p[0] & 0x1f; {
	case t >= 1 && t <= 5:
		return p[1]&0x80 != 0 // first_mb_in_slice == 0
	case t >= 6 && t <= 9:
		return true
	case t == codec.H264NALSTAPA:
		return len(p) > 3 && d.startsAU(p[3:])
	case t == codec.H264NALFUA:
		ft := p[1] & 0x1f
		return p[1]&0x80 != 0 && (ft >= 6 && ft <= 9 || ft >= 1 && ft <= 5 && len(p) > 2 && p[2]&0x80 != 0)
	}
	return false
}

// aacDepack splits RFC 3640 mpeg4-generic payloads into AAC frames:
// several AUs per packet, or one AU fragmented over packets that share a
// timestamp (the marker ends it). Interleaving is not supported: AU indices
// are assumed consecutive.
type aacDepack struct {
	p AACParams
	r *Receiver

	frag     []byte
	fragSize int
	fragTS   int64
	fragOn   bool
}

func (d *aacDepack) lost() { d.frag, d.fragOn = nil, false }

func (d *aacDepack) push(p *rtp.Packet, ts int64, recv time.Time) {
	if err := d.parse(p, ts, recv); err != nil {
		d.r.stats.Malformed++
		d.frag, d.fragOn = nil, false
	}
}

func (d *aacDepack) parse(p *rtp.Packet, ts int64, recv time.Time) error {
	b := p.Payload
	if len(b) < 2 {
		return errMalformed
	}
	bits := int(binary.BigEndian.Uint16(b))
	hdrLen := (bits + 7) / 8
	b = b[2:]
	if hdrLen > len(b) {
		return errMalformed
	}
	hdr, data := b[:hdrLen], b[hdrLen:]
	var sizesArr [16]int // AU sizes; most packets hold a few
	sizes := sizesArr[:0]
	pos := 0
	for i := 0; pos < bits; i++ {
		idx := d.p.IndexDeltaLength
		if i == 0 {
			idx = d.p.IndexLength
		}
		if pos+d.p.SizeLength+idx > bits {
			return errMalformed
		}
		sizes = append(sizes, int(readBits(hdr, pos, d.p.SizeLength)))
		pos += d.p.SizeLength + idx
	}
	if d.fragOn {
		if len(sizes) != 1 || ts != d.fragTS || sizes[0] != d.fragSize {
			return errMalformed
		}
		d.frag = append(d.frag, data...)
		if len(d.frag) > d.fragSize {
			return errMalformed
		}
		if len(d.frag) == d.fragSize {
			if !p.Marker {
				return errMalformed
			}
			d.r.emitAudio(ts, d.frag, recv)
			d.frag, d.fragOn = nil, false
		}
		return nil
	}
	if len(sizes) == 1 && sizes[0] > len(data) {
		if p.Marker {
			return errMalformed // a fragment that claims to be the last
		}
		d.frag, d.fragSize, d.fragTS, d.fragOn = append([]byte(nil), data...), sizes[0], ts, true
		return nil
	}
	for i, n := range sizes {
		if n > len(data) {
			return errMalformed
		}
		if n > 0 {
			d.r.emitAudio(ts+int64(i)*1024, append([]byte(nil), data[:n]...), recv)
		}
		data = data[n:]
	}
	return nil
}

// readBits reads n ≤ 32 bits of b from bit offset pos, MSB first; the
// caller has checked the bounds.
func readBits(b []byte, pos, n int) uint32 {
	var v uint32
	for i := 0; i < n; i++ {
		v = v<<1 | uint32(b[(pos+i)>>3]>>(7-uint((pos+i)&7))&1)
	}
	return v
}
