package codec

import (
	"errors"
	"fmt"
)

// AAC audio object types Vigil meets.
const (
	AACMain = 1
	AACLC   = 2
	AACSBR  = 5  // HE-AAC
	AACPS   = 29 // HE-AAC v2
)

var aacRates = [...]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// AACConfig is the part of an MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3
// 1.6.2.1) that Vigil uses.
type AACConfig struct {
	ObjectType int // audioObjectType; 5/29 for explicitly signalled HE-AAC
	SampleRate int // output rate (the SBR extension rate for HE-AAC)
	Channels   int // from channelConfiguration; 0 when a PCE defines them
}

func readAOT(r *bitReader) int {
	t := int(r.u(5))
	if t == 31 {
		t = 32 + int(r.u(6))
	}
	return t
}

func readRate(r *bitReader) int {
	i := int(r.u(4))
	if i == 15 {
		return int(r.u(24))
	}
	if i < len(aacRates) {
		return aacRates[i]
	}
	if r.err == nil {
		r.err = fmt.Errorf("reserved sampling frequency index %d", i)
	}
	return 0
}

// ParseAACConfig parses an AudioSpecificConfig, as found in the SDP's
// config= parameter and in an MP4 esds box.
func ParseAACConfig(asc []byte) (AACConfig, error) {
	var c AACConfig
	r := &bitReader{b: asc}
	c.ObjectType = readAOT(r)
	c.SampleRate = readRate(r)
	ch := int(r.u(4))
	if c.ObjectType == AACSBR || c.ObjectType == AACPS {
		c.SampleRate = readRate(r)
		readAOT(r)
	}
	if r.err != nil {
		return c, fmt.Errorf("parse AudioSpecificConfig: %w", r.err)
	}
	switch {
	case c.ObjectType == 0:
		return c, errors.New("parse AudioSpecificConfig: object type 0")
	case c.SampleRate <= 0:
		return c, errors.New("parse AudioSpecificConfig: sample rate 0")
	case ch > 7:
		return c, fmt.Errorf("parse AudioSpecificConfig: reserved channel configuration %d", ch)
	case ch == 7:
		c.Channels = 8
	default:
		c.Channels = ch
	}
	return c, nil
}

// Marshal writes the config as a plain AudioSpecificConfig (the object type,
// rate and channels, a GASpecificConfig of zeros): what an AAC-LC stream's
// esds and SDP carry. HE-AAC's explicit signalling is not written: keep the
// source's own bytes for those streams.
func (c AACConfig) Marshal() []byte {
	w := &bitWriter{}
	if c.ObjectType < 31 {
		w.put(uint64(c.ObjectType), 5)
	} else {
		w.put(31, 5)
		w.put(uint64(c.ObjectType-32), 6)
	}
	idx := 15
	for i, r := range aacRates {
		if r == c.SampleRate {
			idx = i
		}
	}
	w.put(uint64(idx), 4)
	if idx == 15 {
		w.put(uint64(c.SampleRate), 24)
	}
	ch := c.Channels
	if ch == 8 {
		ch = 7
	}
	w.put(uint64(ch), 4)
	w.put(0, 3) // frameLengthFlag, dependsOnCoreCoder, extensionFlag
	return w.b
}

// ADTSHeader is a parsed ADTS frame header (ISO/IEC 13818-7 6.2).
type ADTSHeader struct {
	Config    AACConfig
	HeaderLen int // 7, or 9 with a CRC
	FrameLen  int // header and payload
}

// ParseADTS parses the ADTS header at the start of b.
func ParseADTS(b []byte) (ADTSHeader, error) {
	var h ADTSHeader
	if len(b) < 7 {
		return h, errors.New("parse ADTS: header shorter than 7 bytes")
	}
	if b[0] != 0xff || b[1]&0xf6 != 0xf0 {
		return h, errors.New("parse ADTS: no sync word")
	}
	h.HeaderLen = 7
	if b[1]&1 == 0 {
		h.HeaderLen = 9
	}
	h.Config.ObjectType = int(b[2]>>6) + 1
	idx := int(b[2]>>2) & 0xf
	if idx >= len(aacRates) {
		return h, fmt.Errorf("parse ADTS: reserved sampling frequency index %d", idx)
	}
	h.Config.SampleRate = aacRates[idx]
	h.Config.Channels = int(b[2]&1)<<2 | int(b[3]>>6)
	if h.Config.Channels == 7 {
		h.Config.Channels = 8
	}
	h.FrameLen = int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5]>>5)
	if h.FrameLen < h.HeaderLen {
		return h, fmt.Errorf("parse ADTS: frame length %d shorter than its header", h.FrameLen)
	}
	if b[6]&3 != 0 {
		return h, errors.New("parse ADTS: more than one raw data block per frame is not supported")
	}
	return h, nil
}

// SplitADTS strips the ADTS headers from a stream of ADTS frames, returning
// the raw AAC frames and the config of the first header.
func SplitADTS(b []byte) ([][]byte, AACConfig, error) {
	var out [][]byte
	var cfg AACConfig
	for len(b) > 0 {
		h, err := ParseADTS(b)
		if err != nil {
			return out, cfg, fmt.Errorf("frame %d: %w", len(out), err)
		}
		if h.FrameLen > len(b) {
			return out, cfg, fmt.Errorf("frame %d: ADTS frame of %d bytes, %d left", len(out), h.FrameLen, len(b))
		}
		if len(out) == 0 {
			cfg = h.Config
		}
		out = append(out, b[h.HeaderLen:h.FrameLen])
		b = b[h.FrameLen:]
	}
	return out, cfg, nil
}

// AppendADTS appends frame with a 7-byte ADTS header built from c (object
// types 1..4 only, as ADTS allows) to dst.
func AppendADTS(dst []byte, c AACConfig, frame []byte) ([]byte, error) {
	idx := -1
	for i, r := range aacRates {
		if r == c.SampleRate {
			idx = i
		}
	}
	n := len(frame) + 7
	if idx < 0 || c.ObjectType < 1 || c.ObjectType > 4 || c.Channels > 8 || c.Channels == 7 || n >= 1<<13 {
		return dst, fmt.Errorf("ADTS header: cannot describe %+v with %d bytes", c, len(frame))
	}
	ch := c.Channels
	if ch == 8 {
		ch = 7
	}
	dst = append(dst, 0xff, 0xf1, byte(c.ObjectType-1)<<6|byte(idx)<<2|byte(ch>>2),
		byte(ch&3)<<6|byte(n>>11), byte(n>>3), byte(n&7)<<5|0x1f, 0xfc)
	return append(dst, frame...), nil
}
