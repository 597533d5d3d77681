// Package media holds the types every part of the media layer shares — a
// track's description and the access units that flow from a source (an RTSP
// camera, a GB/T 28181 device, the simulator) through the stream hub to its
// readers (the recorder, live viewers, the cascade) — and the hub itself.
//
// Invariants:
//   - A Unit's timestamps are in its track's clock (ClockRate ticks), already
//     unwrapped: they only grow across the 32-bit RTP wrap.
//   - Video units are whole access units in decode order; NAL units carry no
//     start codes and no length prefixes.
//   - media knows nothing of people, cameras' files or permissions.
package media

import "time"

// Codec names an elementary stream's coding.
type Codec string

// The codecs Vigil ingests, records and serves.
const (
	H264 Codec = "H264"
	H265 Codec = "H265"
	AAC  Codec = "AAC"  // MPEG-4 audio, RTP payload "mpeg4-generic" (AAC-hbr)
	PCMA Codec = "PCMA" // G.711 A-law
	PCMU Codec = "PCMU" // G.711 µ-law
	Opus Codec = "OPUS"
)

// IsVideo reports whether c is a video codec.
func (c Codec) IsVideo() bool { return c == H264 || c == H265 }

// Track describes one elementary stream of a source.
type Track struct {
	Codec     Codec
	ClockRate int // ticks per second of the Unit timestamps (90000 for video, the sample rate for audio)

	// Video: the current parameter sets, without start codes. They may be
	// empty until the stream delivers them (cameras that omit
	// sprop-parameter-sets) and may change mid-stream.
	VPS, SPS, PPS []byte
	Width, Height int

	// Audio.
	SampleRate int
	Channels   int
	AACConfig  []byte // AudioSpecificConfig
}

// Unit is one video access unit or one audio frame.
type Unit struct {
	Track int   // index into the source's tracks
	PTS   int64 // presentation time, in the track's ClockRate ticks
	DTS   int64 // decode time, in the track's ClockRate ticks (equal to PTS without B-frames)
	Key   bool  // H.264 IDR / H.265 IRAP: a decoder may start here
	// Damaged marks a video unit that lost part of itself in transit (a
	// slice or fragment): it holds the NAL units that arrived whole.
	Damaged bool

	NALUs [][]byte // video: NAL units of the access unit
	Data  []byte   // audio: one AAC raw frame, or G.711 / Opus samples

	// Wall is the wall-clock time the unit was captured, from RTCP sender
	// reports when the source sends them, else the time it was received.
	Wall time.Time
}

// Duration converts ticks of clock to a time.Duration.
func Duration(ticks int64, clock int) time.Duration {
	if clock <= 0 {
		return 0
	}
	c := int64(clock)
	return time.Duration(ticks/c)*time.Second + time.Duration(ticks%c)*time.Second/time.Duration(c)
}
