package codec

// G.711 (ITU-T G.711) A-law and µ-law, decoded with the reference
// expansion (Sun's g711.c) that ffmpeg's pcm_alaw / pcm_mulaw decoders use.

var alawTable, ulawTable [256]int16

func init() {
	for i := 0; i < 256; i++ {
		alawTable[i] = alaw2linear(byte(i))
		ulawTable[i] = ulaw2linear(byte(i))
	}
}

func alaw2linear(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0f) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

func ulaw2linear(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// ALawToPCM16 decodes A-law bytes from src into dst, which must be at least
// as long as src.
func ALawToPCM16(dst []int16, src []byte) {
	for i, b := range src {
		dst[i] = alawTable[b]
	}
}

// MuLawToPCM16 decodes µ-law bytes from src into dst, which must be at least
// as long as src.
func MuLawToPCM16(dst []int16, src []byte) {
	for i, b := range src {
		dst[i] = ulawTable[b]
	}
}

// PCM16ToALaw encodes 16-bit samples from src into dst, which must be at
// least as long as src.
func PCM16ToALaw(dst []byte, src []int16) {
	for i, s := range src {
		dst[i] = linear2alaw(s)
	}
}

// PCM16ToMuLaw encodes 16-bit samples from src into dst, which must be at
// least as long as src.
func PCM16ToMuLaw(dst []byte, src []int16) {
	for i, s := range src {
		dst[i] = linear2ulaw(s)
	}
}

// The encoders round to the nearest code, with the tables ffmpeg's
// pcm_alaw / pcm_mulaw encoders build (libavcodec/pcm_tablegen.h), indexed by
// the top 14 bits of the sample.
var linearToALaw, linearToMuLaw = buildXLaw(alaw2linear, 0xd5), buildXLaw(ulaw2linear, 0xff)

func buildXLaw(toLinear func(byte) int16, mask byte) *[16384]byte {
	var t [16384]byte
	j := 1
	t[8192] = mask
	for i := 0; i < 127; i++ {
		v1, v2 := int(toLinear(byte(i)^mask)), int(toLinear(byte(i+1)^mask))
		v := (v1 + v2 + 4) >> 3
		for ; j < v; j++ {
			t[8192-j] = byte(i) ^ (mask ^ 0x80)
			t[8192+j] = byte(i) ^ mask
		}
	}
	for ; j < 8192; j++ {
		t[8192-j] = 127 ^ (mask ^ 0x80)
		t[8192+j] = 127 ^ mask
	}
	t[0] = t[1]
	return &t
}

func linear2alaw(pcm int16) byte { return linearToALaw[(int(pcm)+32768)>>2] }

func linear2ulaw(pcm int16) byte { return linearToMuLaw[(int(pcm)+32768)>>2] }
