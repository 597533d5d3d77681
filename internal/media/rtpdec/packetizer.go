package rtpdec

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// Packetizer turns one track's units into RTP packets: H.264 as single NAL
// units and FU-A (RFC 6184 packetization-mode=1), H.265 as single NAL units
// and FUs (RFC 7798), AAC as AAC-hbr with one AU per packet (fragmented when
// it does not fit), G.711 and Opus as their payloads. Keyframes that do not
// carry their parameter sets get the track's in front. Not safe for
// concurrent use.
type Packetizer struct {
	track    media.Track
	pt       uint8
	ssrc     uint32
	maxLen   int // payload bytes per packet
	seq      uint16
	tsOffset uint32
	packets  uint32
	octets   uint32
}

// NewPacketizer returns a packetizer whose packets fit in mtu bytes (RTP
// header included; mtu ≥ 64), with a random first sequence number and
// timestamp offset as RFC 3550 asks.
func NewPacketizer(track media.Track, payloadType uint8, ssrc uint32, mtu int) (*Packetizer, error) {
	if mtu < 64 {
		return nil, fmt.Errorf("rtp packetizer: MTU %d is below 64", mtu)
	}
	switch track.Codec {
	case media.H264, media.H265, media.AAC, media.PCMA, media.PCMU, media.Opus:
	default:
		return nil, fmt.Errorf("rtp packetizer: codec %q not supported", track.Codec)
	}
	return &Packetizer{track: track, pt: payloadType, ssrc: ssrc, maxLen: mtu - 12,
		seq: uint16(rand.Uint32()), tsOffset: rand.Uint32()}, nil
}

// SetSequence sets the sequence number of the next packet.
func (p *Packetizer) SetSequence(seq uint16) { p.seq = seq }

// SetTimestampOffset sets the value added to unit times to make RTP
// timestamps.
func (p *Packetizer) SetTimestampOffset(off uint32) { p.tsOffset = off }

// TimestampOffset returns the value added to unit times.
func (p *Packetizer) TimestampOffset() uint32 { return p.tsOffset }

// Restart starts a new RTP stream, as an encoder restart does: a new
// SSRC, a random sequence number and timestamp offset.
func (p *Packetizer) Restart(ssrc uint32) {
	p.ssrc, p.seq, p.tsOffset = ssrc, uint16(rand.Uint32()), rand.Uint32()
	p.packets, p.octets = 0, 0
}

// SetTrack replaces the track, as when its parameter sets change.
func (p *Packetizer) SetTrack(t media.Track) { p.track = t }

// Timestamp returns the RTP timestamp of track time pts.
func (p *Packetizer) Timestamp(pts int64) uint32 { return uint32(pts) + p.tsOffset }

// Packetize returns the packets of one unit, in order.
func (p *Packetizer) Packetize(u media.Unit) ([]*rtp.Packet, error) {
	var payloads [][]byte
	marker := true
	switch p.track.Codec {
	case media.H264, media.H265:
		nalus := p.withParams(u)
		if len(nalus) == 0 {
			return nil, fmt.Errorf("rtp packetizer: empty %s access unit at %d", p.track.Codec, u.PTS)
		}
		for _, n := range nalus {
			payloads = append(payloads, p.video(n)...)
		}
	case media.AAC:
		if len(u.Data) == 0 || len(u.Data) >= 1<<13 {
			return nil, fmt.Errorf("rtp packetizer: AAC frame of %d bytes at %d (AAC-hbr carries 1..8191)", len(u.Data), u.PTS)
		}
		payloads = p.aac(u.Data)
	default:
		if len(u.Data) == 0 {
			return nil, fmt.Errorf("rtp packetizer: empty %s frame at %d", p.track.Codec, u.PTS)
		}
		if len(u.Data) > p.maxLen {
			return nil, fmt.Errorf("rtp packetizer: %s frame of %d bytes exceeds the MTU", p.track.Codec, len(u.Data))
		}
		payloads, marker = [][]byte{u.Data}, false
	}
	ts := p.Timestamp(u.PTS)
	out := make([]*rtp.Packet, len(payloads))
	for i, pl := range payloads {
		out[i] = &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: p.pt, SequenceNumber: p.seq,
			Timestamp: ts, SSRC: p.ssrc, Marker: marker && i == len(payloads)-1}, Payload: pl}
		p.seq++
		p.packets++
		p.octets += uint32(len(pl))
	}
	return out, nil
}

// withParams returns the unit's NAL units without delimiters and filler,
// with the track's parameter sets in front of a keyframe that lacks them.
func (p *Packetizer) withParams(u media.Unit) [][]byte {
	v := codec.H264
	var ps [][]byte
	if p.track.Codec == media.H265 {
		v, ps = codec.H265, [][]byte{p.track.VPS, p.track.SPS, p.track.PPS}
	} else {
		ps = [][]byte{p.track.SPS, p.track.PPS}
	}
	nalus := codec.CleanAU(v, append([][]byte(nil), u.NALUs...))
	if !codec.IsKey(v, nalus) {
		return nalus
	}
	for _, n := range nalus {
		if codec.IsParameterSet(v, n) {
			return nalus
		}
	}
	var out [][]byte
	for _, n := range ps {
		if len(n) > 0 {
			out = append(out, n)
		}
	}
	return append(out, nalus...)
}

// video packs one NAL unit as a single-NAL packet or as fragments.
func (p *Packetizer) video(n []byte) [][]byte {
	if len(n) <= p.maxLen {
		return [][]byte{n}
	}
	hevc := p.track.Codec == media.H265
	var hdr []byte
	var typ byte
	body := n[1:]
	if hevc {
		typ = codec.H265NALType(n)
		hdr = []byte{n[0]&0x81 | codec.H265NALFU<<1, n[1], 0}
		body = n[2:]
	} else {
		typ = n[0] & 0x1f
		hdr = []byte{n[0]&0xe0 | codec.H264NALFUA, 0}
	}
	chunk := p.maxLen - len(hdr)
	var out [][]byte
	for i := 0; i < len(body); i += chunk {
		end := min(i+chunk, len(body))
		fu := typ
		if i == 0 {
			fu |= 0x80
		}
		if end == len(body) {
			fu |= 0x40
		}
		pl := append(append([]byte(nil), hdr...), body[i:end]...)
		pl[len(hdr)-1] = fu
		out = append(out, pl)
	}
	return out
}

// aac packs one AAC frame with a single AU header (sizeLength 13,
// indexLength 3), fragmenting it when it does not fit.
func (p *Packetizer) aac(frame []byte) [][]byte {
	hdr := []byte{0, 16, 0, 0}
	binary.BigEndian.PutUint16(hdr[2:], uint16(len(frame)<<3))
	chunk := p.maxLen - len(hdr)
	var out [][]byte
	for i := 0; i < len(frame) || i == 0; i += chunk {
		end := min(i+chunk, len(frame))
		out = append(out, append(append([]byte(nil), hdr...), frame[i:end]...))
	}
	return out
}

// SenderReport returns an RTCP sender report saying that track time pts
// was wall-clock time wall, with the packet and octet counts so far.
func (p *Packetizer) SenderReport(wall time.Time, pts int64) *rtcp.SenderReport {
	return &rtcp.SenderReport{SSRC: p.ssrc, NTPTime: toNTP(wall), RTPTime: p.Timestamp(pts),
		PacketCount: p.packets, OctetCount: p.octets}
}
