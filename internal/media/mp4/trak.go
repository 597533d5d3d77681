package mp4

import (
	"errors"
	"fmt"
	"sort"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// movieTimescale is the mvhd timescale of the files Vigil writes; edit
// lists and track durations are in it.
const movieTimescale = 1000

// trackSpec is a media.Track resolved into what its trak box needs.
type trackSpec struct {
	t             media.Track
	id            uint32
	timescale     uint32
	width, height int
}

func (s *trackSpec) video() bool { return s.t.Codec.IsVideo() }

// resolveTracks checks the tracks and fills in what the boxes need: a
// timescale and, for video, the picture size from the SPS.
func resolveTracks(tracks []media.Track) ([]trackSpec, error) {
	if len(tracks) == 0 {
		return nil, errors.New("no tracks")
	}
	specs := make([]trackSpec, len(tracks))
	for i, t := range tracks {
		s := trackSpec{t: t, id: uint32(i + 1), timescale: uint32(t.ClockRate), width: t.Width, height: t.Height}
		if s.timescale == 0 {
			if t.Codec.IsVideo() {
				s.timescale = 90000
			} else {
				s.timescale = uint32(t.SampleRate)
			}
		}
		if s.timescale == 0 {
			return nil, fmt.Errorf("track %d (%s): no clock rate", i, t.Codec)
		}
		switch t.Codec {
		case media.H264, media.H265:
			if len(t.SPS) == 0 || len(t.PPS) == 0 || t.Codec == media.H265 && len(t.VPS) == 0 {
				return nil, fmt.Errorf("track %d (%s): parameter sets missing; wait until the stream delivers them", i, t.Codec)
			}
			if s.width == 0 || s.height == 0 {
				var err error
				if t.Codec == media.H264 {
					var sps codec.H264SPS
					sps, err = codec.ParseH264SPS(t.SPS)
					s.width, s.height = sps.Width, sps.Height
				} else {
					var sps codec.H265SPS
					sps, err = codec.ParseH265SPS(t.SPS)
					s.width, s.height = sps.Width, sps.Height
				}
				if err != nil {
					return nil, fmt.Errorf("track %d (%s): %w", i, t.Codec, err)
				}
			}
		case media.AAC:
			if len(t.AACConfig) == 0 {
				return nil, fmt.Errorf("track %d (AAC): no AudioSpecificConfig", i)
			}
			if s.t.SampleRate == 0 || s.t.Channels == 0 {
				c, err := codec.ParseAACConfig(t.AACConfig)
				if err != nil {
					return nil, fmt.Errorf("track %d (AAC): %w", i, err)
				}
				if s.t.SampleRate == 0 {
					s.t.SampleRate = c.SampleRate
				}
				if s.t.Channels == 0 {
					s.t.Channels = c.Channels
				}
			}
		case media.PCMA, media.PCMU, CodecLPCM, CodecFLAC:
			if s.t.SampleRate == 0 {
				s.t.SampleRate = int(s.timescale)
			}
		default:
			return nil, fmt.Errorf("track %d: codec %q cannot be stored in MP4", i, t.Codec)
		}
		if !t.Codec.IsVideo() && s.t.Channels == 0 {
			s.t.Channels = 1
		}
		specs[i] = s
	}
	return specs, nil
}

// writeFtyp writes the file type box.
func writeFtyp(w *boxWriter, major string, compatible ...string) {
	w.start("ftyp")
	w.str(major)
	w.u32(0x200)
	for _, c := range compatible {
		w.str(c)
	}
	w.end()
}

// writeMvhd writes the movie header; duration is in movieTimescale.
func writeMvhd(w *boxWriter, duration uint64, nextTrackID uint32) {
	if duration > 0xffffffff {
		w.startFull("mvhd", 1, 0)
		w.u64(0)
		w.u64(0)
		w.u32(movieTimescale)
		w.u64(duration)
	} else {
		w.startFull("mvhd", 0, 0)
		w.u32(0)
		w.u32(0)
		w.u32(movieTimescale)
		w.u32(uint32(duration))
	}
	w.u32(0x00010000) // rate 1.0
	w.u16(0x0100)     // volume 1.0
	w.zeros(10)
	w.matrix()
	w.zeros(24)
	w.u32(nextTrackID)
	w.end()
}

// writeTrak writes a trak box. duration is in movieTimescale, mediaDuration
// in the track's timescale; edts (may be nil) writes the edit list; stbl
// writes the sample tables after the sample description.
func writeTrak(w *boxWriter, s *trackSpec, duration, mediaDuration uint64, edts, stbl func(*boxWriter)) error {
	w.start("trak")
	// tkhd: flags enabled|in_movie.
	if duration > 0xffffffff {
		w.startFull("tkhd", 1, 3)
		w.u64(0)
		w.u64(0)
		w.u32(s.id)
		w.u32(0)
		w.u64(duration)
	} else {
		w.startFull("tkhd", 0, 3)
		w.u32(0)
		w.u32(0)
		w.u32(s.id)
		w.u32(0)
		w.u32(uint32(duration))
	}
	w.zeros(8)
	w.u16(0) // layer
	w.u16(0) // alternate_group
	if s.video() {
		w.u16(0)
	} else {
		w.u16(0x0100)
	}
	w.u16(0)
	w.matrix()
	w.u32(uint32(s.width) << 16)
	w.u32(uint32(s.height) << 16)
	w.end()

	if edts != nil {
		edts(w)
	}

	w.start("mdia")
	if mediaDuration > 0xffffffff {
		w.startFull("mdhd", 1, 0)
		w.u64(0)
		w.u64(0)
		w.u32(s.timescale)
		w.u64(mediaDuration)
	} else {
		w.startFull("mdhd", 0, 0)
		w.u32(0)
		w.u32(0)
		w.u32(s.timescale)
		w.u32(uint32(mediaDuration))
	}
	w.u16(0x55c4) // "und"
	w.u16(0)
	w.end()

	w.startFull("hdlr", 0, 0)
	w.u32(0)
	if s.video() {
		w.str("vide")
		w.zeros(12)
		w.bytes([]byte("VideoHandler\x00"))
	} else {
		w.str("soun")
		w.zeros(12)
		w.bytes([]byte("SoundHandler\x00"))
	}
	w.end()

	w.start("minf")
	if s.video() {
		w.startFull("vmhd", 0, 1)
		w.zeros(8)
	} else {
		w.startFull("smhd", 0, 0)
		w.zeros(4)
	}
	w.end()
	w.start("dinf")
	w.startFull("dref", 0, 0)
	w.u32(1)
	w.startFull("url ", 0, 1) // media in this file
	w.end()
	w.end()
	w.end()

	w.start("stbl")
	w.startFull("stsd", 0, 0)
	w.u32(1)
	if err := writeSampleEntry(w, s); err != nil {
		return fmt.Errorf("track %d: %w", s.id, err)
	}
	w.end()
	stbl(w)
	w.end() // stbl
	w.end() // minf
	w.end() // mdia
	w.end() // trak
	return nil
}

// writeEmptyTables writes the sample tables of a fragmented file's moov:
// every sample lives in the fragments.
func writeEmptyTables(w *boxWriter) {
	for _, t := range []string{"stts", "stsc", "stco"} {
		w.startFull(t, 0, 0)
		w.u32(0)
		w.end()
	}
	w.startFull("stsz", 0, 0)
	w.u32(0)
	w.u32(0)
	w.end()
}

// writeSampleEntry writes the sample description of s.
func writeSampleEntry(w *boxWriter, s *trackSpec) error {
	t := s.t
	switch t.Codec {
	case media.H264, media.H265:
		var cfg []byte
		var err error
		typ, cfgTyp := "avc1", "avcC"
		if t.Codec == media.H264 {
			cfg, err = codec.H264ConfigRecord(t.SPS, t.PPS)
		} else {
			typ, cfgTyp = "hvc1", "hvcC"
			cfg, err = codec.H265ConfigRecord(t.VPS, t.SPS, t.PPS)
		}
		if err != nil {
			return err
		}
		w.start(typ)
		w.zeros(6)
		w.u16(1) // data_reference_index
		w.zeros(16)
		w.u16(uint16(s.width))
		w.u16(uint16(s.height))
		w.u32(0x00480000) // 72 dpi
		w.u32(0x00480000)
		w.u32(0)
		w.u16(1) // frame_count
		w.zeros(32)
		w.u16(0x0018)
		w.u16(0xffff)
		w.start(cfgTyp)
		w.bytes(cfg)
		w.end()
		w.end()
	case media.AAC:
		audioEntryHeader(w, "mp4a", s, 16)
		writeESDS(w, t.AACConfig)
		w.end()
	case media.PCMA:
		audioEntryHeader(w, "alaw", s, 16)
		w.end()
	case media.PCMU:
		audioEntryHeader(w, "ulaw", s, 16)
		w.end()
	case CodecLPCM:
		audioEntryHeader(w, "sowt", s, 16)
		w.end()
	case CodecFLAC:
		audioEntryHeader(w, "fLaC", s, 16)
		writeDfLa(w, s)
		w.end()
	default:
		return fmt.Errorf("codec %q cannot be stored in MP4", t.Codec)
	}
	return nil
}

// audioEntryHeader opens an AudioSampleEntry box (left open).
func audioEntryHeader(w *boxWriter, typ string, s *trackSpec, sampleSize uint16) {
	w.start(typ)
	w.zeros(6)
	w.u16(1)
	w.zeros(8)
	w.u16(uint16(s.t.Channels))
	w.u16(sampleSize)
	w.u32(0)
	rate := uint32(s.t.SampleRate)
	if rate > 0xffff {
		rate = 0
	}
	w.u32(rate << 16)
}

// writeESDS writes the MPEG-4 elementary stream descriptor of an AAC track
// (ISO/IEC 14496-1 7.2.6.5): ES_Descriptor > DecoderConfigDescriptor >
// DecoderSpecificInfo (the AudioSpecificConfig), SLConfigDescriptor.
func writeESDS(w *boxWriter, asc []byte) {
	desc := func(tag byte, body []byte) []byte {
		n := len(body)
		return append([]byte{tag, 0x80 | byte(n>>21)&0x7f, 0x80 | byte(n>>14)&0x7f, 0x80 | byte(n>>7)&0x7f, byte(n) & 0x7f}, body...)
	}
	dsi := desc(0x05, asc)
	dcd := []byte{0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // MPEG-4 audio, audio stream
	dcd = desc(0x04, append(dcd, dsi...))
	es := append([]byte{0, 1, 0}, dcd...) // ES_ID 1, no flags
	es = append(es, desc(0x06, []byte{0x02})...)
	w.startFull("esds", 0, 0)
	w.bytes(desc(0x03, es))
	w.end()
}

// writeUdta writes the user data as udta/vigl: for each key in order, a
// 16-bit key length, the key, a 32-bit value length and the value.
func writeUdta(w *boxWriter, ud map[string]string) {
	if len(ud) == 0 {
		return
	}
	keys := make([]string, 0, len(ud))
	for k := range ud {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.start("udta")
	w.start("vigl")
	for _, k := range keys {
		w.u16(uint16(len(k)))
		w.str(k)
		w.u32(uint32(len(ud[k])))
		w.str(ud[k])
	}
	w.end()
	w.end()
}

// parseUdta reads what writeUdta wrote.
func parseUdta(b []byte) (map[string]string, error) {
	r := &reader{b: b}
	ud := map[string]string{}
	for r.err == nil && r.off < len(r.b) {
		k := r.bytes(int(r.u16()))
		v := r.bytes(int(r.u32()))
		if r.err != nil {
			return nil, fmt.Errorf("udta/vigl: %w", r.err)
		}
		ud[string(k)] = string(v)
	}
	return ud, nil
}
