// Package codec holds what Vigil needs to know about the elementary streams it
// carries — H.264, H.265, AAC and G.711 — without decoding a picture or a
// sample: splitting and joining NAL unit framings (Annex-B, AVCC), parsing
// sequence parameter sets and AudioSpecificConfig, building the avcC and hvcC
// decoder configuration records that MP4 sample entries carry, deriving
// decode timestamps for streams with B-frames, noticing parameter-set changes,
// ADTS framing, and G.711 A-law/µ-law conversion.
//
// Invariants:
//   - Every parser of bytes that may come off the network returns an error on
//     bad input and never panics; they are fuzzed (FuzzParseH264SPS, …).
//   - NAL units passed in and out carry neither start codes nor length
//     prefixes; parsers remove emulation-prevention bytes themselves.
//   - Decode timestamps from the DTS extractors never decrease and are never
//     after the presentation timestamp of the same access unit.
//   - The package imports nothing of Vigil's, so every media package may use it.
package codec
