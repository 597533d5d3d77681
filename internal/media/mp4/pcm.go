package mp4

import (
	"encoding/binary"
	"fmt"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// Codecs this package converts G.711 into for browsers. Chromium plays
// G.711 ("alaw"/"ulaw") and LPCM ("sowt") MP4 with <video src>, but its
// Media Source Extensions take neither; FLAC in MP4 they take, and FLAC
// made of verbatim subframes is lossless PCM with a small frame header.
const (
	// CodecLPCM is 16-bit little-endian linear PCM, a "sowt" sample entry.
	CodecLPCM media.Codec = "LPCM"
	// CodecFLAC is FLAC, an "fLaC" sample entry with a dfLa box; one
	// FLAC frame per sample.
	CodecFLAC media.Codec = "FLAC"
)

// G711Converter turns the units of one G.711 track into LPCM or FLAC.
type G711Converter struct {
	from, to media.Codec
	track    media.Track
	pcm      []int16
	sampleNo uint64 // FLAC: number of the next frame's first sample
}

// NewG711Converter returns a converter of track t (PCMA or PCMU) into to
// (CodecLPCM or CodecFLAC).
func NewG711Converter(t media.Track, to media.Codec) (*G711Converter, error) {
	if t.Codec != media.PCMA && t.Codec != media.PCMU {
		return nil, fmt.Errorf("g711 converter: track is %s, not G.711", t.Codec)
	}
	if to != CodecLPCM && to != CodecFLAC {
		return nil, fmt.Errorf("g711 converter: cannot convert to %s", to)
	}
	c := &G711Converter{from: t.Codec, to: to, track: t}
	c.track.Codec = to
	if c.track.SampleRate == 0 {
		c.track.SampleRate = max(t.ClockRate, 8000)
	}
	if c.track.Channels == 0 {
		c.track.Channels = 1
	}
	if c.track.ClockRate == 0 {
		c.track.ClockRate = c.track.SampleRate
	}
	return c, nil
}

// Track returns the converted track's description.
func (c *G711Converter) Track() media.Track { return c.track }

// Convert converts one unit's G.711 bytes (interleaved when there are
// several channels).
func (c *G711Converter) Convert(g711 []byte) ([]byte, error) {
	c.pcm = append(c.pcm[:0], make([]int16, len(g711))...)
	if c.from == media.PCMA {
		codec.ALawToPCM16(c.pcm, g711)
	} else {
		codec.MuLawToPCM16(c.pcm, g711)
	}
	if c.to == CodecLPCM {
		b := make([]byte, 2*len(c.pcm))
		for j, v := range c.pcm {
			binary.LittleEndian.PutUint16(b[2*j:], uint16(v))
		}
		return b, nil
	}
	ch := c.track.Channels
	if len(c.pcm)%ch != 0 || len(c.pcm)/ch > 65536 || len(c.pcm) == 0 {
		return nil, fmt.Errorf("g711 to flac: %d bytes is not a whole block of %d channels", len(g711), ch)
	}
	b := flacFrame(c.pcm, ch, c.track.SampleRate, c.sampleNo)
	c.sampleNo += uint64(len(c.pcm) / ch)
	return b, nil
}

// convertG711 converts every G.711 track of tracks, and its units, to to.
func convertG711(tracks []media.Track, units []media.Unit, to media.Codec) ([]media.Track, []media.Unit, error) {
	out := append([]media.Track(nil), tracks...)
	convs := make([]*G711Converter, len(tracks))
	for i, t := range tracks {
		if t.Codec == media.PCMA || t.Codec == media.PCMU {
			c, err := NewG711Converter(t, to)
			if err != nil {
				return nil, nil, err
			}
			convs[i], out[i] = c, c.Track()
		}
	}
	conv := make([]media.Unit, len(units))
	for i, u := range units {
		conv[i] = u
		if u.Track < 0 || u.Track >= len(tracks) {
			return nil, nil, fmt.Errorf("g711 to %s: unit for track %d of %d", to, u.Track, len(tracks))
		}
		if c := convs[u.Track]; c != nil {
			var err error
			if conv[i].Data, err = c.Convert(u.Data); err != nil {
				return nil, nil, err
			}
		}
	}
	return out, conv, nil
}

// G711ToLPCM converts the G.711 tracks of tracks and their units into
// 16-bit LPCM; other tracks and units are returned unchanged. Units are
// copied, not modified.
func G711ToLPCM(tracks []media.Track, units []media.Unit) ([]media.Track, []media.Unit, error) {
	return convertG711(tracks, units, CodecLPCM)
}

// G711ToFLAC converts the G.711 tracks of tracks and their units into
// lossless FLAC, which Chromium's Media Source Extensions accept in MP4.
func G711ToFLAC(tracks []media.Track, units []media.Unit) ([]media.Track, []media.Unit, error) {
	return convertG711(tracks, units, CodecFLAC)
}

// writeDfLa writes the FLAC specific box: a STREAMINFO metadata block,
// marked last (Encapsulation of FLAC in ISO BMFF, 3.3.2).
func writeDfLa(w *boxWriter, s *trackSpec) {
	w.startFull("dfLa", 0, 0)
	w.u32(1<<31 | 0<<24 | 34) // last block, STREAMINFO, 34 bytes
	w.u16(16)                 // minimum block size
	w.u16(65535)              // maximum block size
	w.zeros(6)                // frame sizes unknown
	rate, ch := uint64(s.t.SampleRate), uint64(s.t.Channels-1)
	w.u64(rate<<44 | ch<<41 | 15<<36) // 16 bits per sample, total samples unknown
	w.zeros(16)                       // MD5 unknown
	w.end()
}

// flacSampleRateCode is the frame header code of a sample rate (0: see
// STREAMINFO).
func flacSampleRateCode(rate int) byte {
	switch rate {
	case 88200:
		return 1
	case 176400:
		return 2
	case 192000:
		return 3
	case 8000:
		return 4
	case 16000:
		return 5
	case 22050:
		return 6
	case 24000:
		return 7
	case 32000:
		return 8
	case 44100:
		return 9
	case 48000:
		return 10
	case 96000:
		return 11
	}
	return 0
}

// flacFrame encodes interleaved 16-bit samples as one FLAC frame of
// verbatim subframes, variable block size, numbered by its first sample.
func flacFrame(pcm []int16, channels, rate int, sampleNo uint64) []byte {
	n := len(pcm) / channels
	b := []byte{0xff, 0xf9, 0x70 | flacSampleRateCode(rate), byte(channels-1)<<4 | 4<<1}
	b = appendFLACNumber(b, sampleNo)
	b = binary.BigEndian.AppendUint16(b, uint16(n-1))
	b = append(b, crc8(b))
	for c := range channels {
		b = append(b, 0x02) // VERBATIM subframe
		for i := range n {
			b = binary.BigEndian.AppendUint16(b, uint16(pcm[i*channels+c]))
		}
	}
	return binary.BigEndian.AppendUint16(b, crc16(b))
}

// appendFLACNumber writes v in FLAC's extended UTF-8 coding (up to 36 bits).
func appendFLACNumber(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	n := 2 // total bytes
	for n < 7 && v >= 1<<(5*n+1) {
		n++
	}
	first := byte(0xff<<(8-n)) | byte(v>>(6*(n-1)))
	b = append(b, first)
	for i := n - 2; i >= 0; i-- {
		b = append(b, 0x80|byte(v>>(6*i))&0x3f)
	}
	return b
}

func crc8(b []byte) byte {
	var c byte
	for _, x := range b {
		c ^= x
		for range 8 {
			if c&0x80 != 0 {
				c = c<<1 ^ 0x07
			} else {
				c <<= 1
			}
		}
	}
	return c
}

func crc16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c ^= uint16(x) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x8005
			} else {
				c <<= 1
			}
		}
	}
	return c
}
