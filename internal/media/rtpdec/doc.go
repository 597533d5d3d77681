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
//   - Loss costs only what was lost (MED-1): every access unit whose
//     packets all arrived is emitted; a unit that lost a slice or fragment is
//     emitted with the NAL units that arrived whole, marked Unit.Damaged;
//     a unit with nothing left is dropped and counted. Video starts at the
//     first whole keyframe whose parameter sets are known. The reorder
//     window is a time (ReorderDelay), not a packet count.
//   - Timestamps are checked against arrival times (MED-4, RET-3): jumps
//     are re-anchored on arrival time and a clock rate the SDP got wrong is
//     corrected; both are reported through ReceiverOptions.OnEvent, once.
//   - No input — packet, RTCP or SDP — makes the package panic; the fuzz
//     tests (FuzzH264Depacketize, …) hold it to that.
//   - Emitted NAL units and audio data are copies: callers may reuse the
//     packet buffers they hand in.
package rtpdec
