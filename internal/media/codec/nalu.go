package codec

import (
	"encoding/binary"
	"fmt"
)

// SplitAnnexB splits an Annex-B byte stream into NAL units. It accepts 3- and
// 4-byte start codes, ignores bytes before the first start code and drops the
// trailing zero bytes of each unit (trailing_zero_8bits) and empty units.
func SplitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1 // first byte of the current NAL unit
	i := 0
	for i+2 < len(b) {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				out = appendNALU(out, b[start:i])
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 {
		out = appendNALU(out, b[start:])
	}
	return out
}

func appendNALU(out [][]byte, n []byte) [][]byte {
	for len(n) > 0 && n[len(n)-1] == 0 {
		n = n[:len(n)-1]
	}
	if len(n) == 0 {
		return out
	}
	return append(out, n)
}

// JoinAnnexB writes NAL units as an Annex-B stream with 4-byte start codes.
func JoinAnnexB(nalus [][]byte) []byte {
	n := 0
	for _, u := range nalus {
		n += 4 + len(u)
	}
	out := make([]byte, 0, n)
	for _, u := range nalus {
		out = append(out, 0, 0, 0, 1)
		out = append(out, u...)
	}
	return out
}

// SplitAVCC splits length-prefixed NAL units (the MP4 sample format) whose
// lengths take lengthSize bytes (1, 2 or 4).
func SplitAVCC(b []byte, lengthSize int) ([][]byte, error) {
	if lengthSize != 1 && lengthSize != 2 && lengthSize != 4 {
		return nil, fmt.Errorf("split AVCC: length size %d is not 1, 2 or 4", lengthSize)
	}
	var out [][]byte
	for len(b) > 0 {
		if len(b) < lengthSize {
			return nil, fmt.Errorf("split AVCC: %d bytes left, need a %d-byte length", len(b), lengthSize)
		}
		var n uint64
		for _, c := range b[:lengthSize] {
			n = n<<8 | uint64(c)
		}
		b = b[lengthSize:]
		if n > uint64(len(b)) {
			return nil, fmt.Errorf("split AVCC: NAL unit of %d bytes, only %d left", n, len(b))
		}
		if n > 0 {
			out = append(out, b[:n])
		}
		b = b[n:]
	}
	return out, nil
}

// JoinAVCC writes NAL units with 4-byte big-endian length prefixes.
func JoinAVCC(nalus [][]byte) []byte {
	n := 0
	for _, u := range nalus {
		n += 4 + len(u)
	}
	out := make([]byte, 0, n)
	for _, u := range nalus {
		out = binary.BigEndian.AppendUint32(out, uint32(len(u)))
		out = append(out, u...)
	}
	return out
}

// Video names a video coding whose NAL units this package understands.
type Video int

// The video codings.
const (
	H264 Video = iota + 1
	H265
)

// NALType returns the NAL unit type under coding v (0 for an empty unit).
func NALType(v Video, nalu []byte) uint8 {
	if v == H265 {
		return H265NALType(nalu)
	}
	return H264NALType(nalu)
}

// IsKey reports whether the access unit is a random access point: an H.264
// IDR or an H.265 IRAP picture.
func IsKey(v Video, nalus [][]byte) bool {
	if v == H265 {
		return H265IsKey(nalus)
	}
	return H264IsKey(nalus)
}

// IsParameterSet reports whether nalu is an SPS or PPS (and, for H.265, a VPS).
func IsParameterSet(v Video, nalu []byte) bool {
	t := NALType(v, nalu)
	if v == H265 {
		return t == H265NALVPS || t == H265NALSPS || t == H265NALPPS
	}
	return t == H264NALSPS || t == H264NALPPS
}

// CleanAU returns the access unit without access unit delimiters, filler
// data and empty NAL units, which MP4 samples must not carry. It reuses the
// backing array of nalus.
func CleanAU(v Video, nalus [][]byte) [][]byte {
	out := nalus[:0]
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		t := NALType(v, n)
		if v == H265 && (t == H265NALAUD || t == H265NALFD) || v == H264 && (t == H264NALAUD || t == H264NALFiller) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// SplitAccessUnits groups NAL units of an elementary stream in decode order
// (from SplitAnnexB of a file, say) into access units (H.264 7.4.1.2.3,
// H.265 7.4.2.4.4): a unit starts at an AUD, a parameter set, a prefix SEI
// or the first slice of a picture that follows a picture's slices.
func SplitAccessUnits(v Video, nalus [][]byte) [][][]byte {
	var aus [][][]byte
	var cur [][]byte
	seenVCL := false
	for _, n := range nalus {
		t := NALType(v, n)
		var vcl, first, prefix bool
		if v == H265 {
			vcl = t < 32
			first = vcl && len(n) > 2 && n[2]&0x80 != 0
			prefix = t >= H265NALVPS && t <= H265NALAUD || t == H265NALSEIPrefix || t >= 41 && t <= 44 || t >= 48 && t <= 55
		} else {
			vcl = t >= 1 && t <= 5
			first = vcl && len(n) > 1 && n[1]&0x80 != 0 // first_mb_in_slice == 0
			prefix = t >= H264NALSEI && t <= H264NALAUD || t >= 14 && t <= 18
		}
		if seenVCL && (first || prefix) {
			aus = append(aus, cur)
			cur, seenVCL = nil, false
		}
		cur = append(cur, n)
		seenVCL = seenVCL || vcl
	}
	if len(cur) > 0 {
		aus = append(aus, cur)
	}
	return aus
}
