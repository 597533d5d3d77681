package mp4

import (
	"fmt"
	"math/bits"
	"strings"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// CodecString returns the RFC 6381 codecs parameter of a track as stored
// by this package ("avc1.64001f", "hvc1.1.6.L93.B0", "mp4a.40.2"), for a
// MIME type such as `video/mp4; codecs="…"` (MediaSource.isTypeSupported,
// HLS). It returns the sample entry type for G.711 and LPCM, and "" when
// the parameter sets cannot be read.
func CodecString(t media.Track) string {
	switch t.Codec {
	case media.H264:
		if len(t.SPS) < 4 {
			return ""
		}
		return fmt.Sprintf("avc1.%02x%02x%02x", t.SPS[1], t.SPS[2], t.SPS[3])
	case media.H265:
		s, err := codec.ParseH265SPS(t.SPS)
		if err != nil {
			return ""
		}
		var b strings.Builder
		b.WriteString("hvc1.")
		if s.GeneralProfileSpace > 0 {
			b.WriteByte('A' + s.GeneralProfileSpace - 1)
		}
		fmt.Fprintf(&b, "%d.%X.", s.GeneralProfileIDC, bits.Reverse32(s.GeneralProfileCompatibilityFlags))
		if s.GeneralTierFlag != 0 {
			b.WriteByte('H')
		} else {
			b.WriteByte('L')
		}
		fmt.Fprintf(&b, "%d", s.GeneralLevelIDC)
		// Constraint bytes, trailing zero bytes dropped.
		var cons []byte
		for i := 5; i >= 0; i-- {
			cons = append(cons, byte(s.GeneralConstraintIndicatorFlags>>(8*i)))
		}
		for len(cons) > 0 && cons[len(cons)-1] == 0 {
			cons = cons[:len(cons)-1]
		}
		for _, c := range cons {
			fmt.Fprintf(&b, ".%X", c)
		}
		return b.String()
	case media.AAC:
		c, err := codec.ParseAACConfig(t.AACConfig)
		if err != nil {
			return ""
		}
		return fmt.Sprintf("mp4a.40.%d", c.ObjectType)
	case media.PCMA:
		return "alaw"
	case media.PCMU:
		return "ulaw"
	case CodecLPCM:
		return "sowt"
	case CodecFLAC:
		return "flac"
	}
	return ""
}
