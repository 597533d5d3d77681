// Package mp4 writes and reads the MP4 files of Vigil (ISO/IEC 14496-12
// and -15): fragmented MP4 for recording segments and live streaming,
// plain MP4 with an edit list for exports, and a reader for both.
//
// Invariants:
//   - Video samples are stored AVCC (4-byte NAL lengths) with their
//     parameter sets in avcC / hvcC; access unit delimiters and filler data
//     are not stored.
//   - A track's timescale is its media.Track.ClockRate, so timestamps read
//     back are in the clock they were written in; the movie timescale is
//     1000.
//   - A fragment is complete on disk when its moof and whole mdat are:
//     ReadFile reports the end of the last complete fragment as ValidSize,
//     and a torn tail beyond it is never read as samples.
//   - The reader checks every size against its container: bad input gives
//     an error, never a panic or an allocation larger than the input.
package mp4
