// Package rtpdec turns RTP packets into media units and back: per-track
// receivers that reorder, de-duplicate and depacketise H.264 (RFC 6184),
// H.265 (RFC 7798), AAC (RFC 3640 mpeg4-generic, AAC-hbr), G.711 and Opus,
// packetisers for the server and simulator side, RTCP sender-report mapping,
// and the SDP media descriptions of those tracks.
//
// The H.264 and H.265 depacketisers are ours rather than pion/rtp/codecs':
// pion's emit Annex-B byte strings per packet and keep no notion of access
// units or loss, while a recorder needs whole access units, and to know when
// one is broken.
//
// Invariants:
//   - A Receiver emits units in decode order with unwrapped timestamps (they
//     keep growing across the 16-bit sequence and 32-bit timestamp wraps) and
//     DTS never decreasing and never after PTS.
//   - A video unit is emitted only when every packet of it arrived: a unit
//     touched by loss, a truncated fragment or an unsupported payload
//     structure is dropped and counted, never passed on.
//   - After loss, video resumes at the next keyframe whose parameter sets
//     are known (ReceiverOptions.ContinueAfterLoss resumes at the next whole
//     unit instead, for viewers that prefer a smeared picture to a pause).
//     A recording thus never holds a picture that refers to a missing one.
//   - No input — packet, RTCP or SDP — makes the package panic; the fuzz
//     tests (FuzzH264Depacketize, …) hold it to that.
//   - Emitted NAL units and audio data are copies: callers may reuse the
//     packet buffers they hand in.
package rtpdec
