package rtpdec

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// fuzzPackets splits fuzz input into RTP packets (2-byte length prefixes),
// unmarshals them with pion and feeds a receiver, checking the invariants
// that hold whatever the input.
func fuzzPackets(t *testing.T, track media.Track, data []byte) {
	r, err := NewReceiver(track, 0, ReceiverOptions{ReorderWindow: 8})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	var units []media.Unit
	for len(data) >= 2 {
		n := int(binary.BigEndian.Uint16(data))
		data = data[2:]
		if n > len(data) {
			n = len(data)
		}
		var p rtp.Packet
		if err := p.Unmarshal(data[:n]); err == nil {
			now = now.Add(7 * time.Millisecond)
			units = append(units, r.HandleRTP(&p, now)...)
		} else if pkts, err := rtcp.Unmarshal(data[:n]); err == nil {
			for _, p := range pkts {
				r.HandleRTCP(p)
			}
		}
		data = data[n:]
	}
	units = append(units, r.Flush()...)
	prev := int64(-1 << 62)
	for _, u := range units {
		if track.Codec.IsVideo() {
			if len(u.NALUs) == 0 || u.DTS > u.PTS || u.DTS < prev {
				t.Fatalf("bad unit: %d NALUs, dts %d pts %d prev %d", len(u.NALUs), u.DTS, u.PTS, prev)
			}
			prev = u.DTS
		} else if len(u.Data) == 0 {
			t.Fatal("empty audio unit")
		}
	}
	_ = r.Track()
}

// seedPackets packs packets into the fuzz input format.
func seedPackets(pkts ...rtp.Packet) []byte {
	var out []byte
	for _, p := range pkts {
		b, _ := p.Marshal()
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

func pkt(seq uint16, ts uint32, marker bool, payload ...byte) rtp.Packet {
	return rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: 5, Marker: marker}, Payload: payload}
}

// Real parameter sets (libx264 320x240 High, libx265 320x240 Main).
var (
	seedSPS264 = []byte{0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60}
	seedPPS264 = []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
)

func FuzzH264Depacketize(f *testing.F) {
	stap := append([]byte{24, 0, byte(len(seedSPS264))}, seedSPS264...)
	stap = append(append(stap, 0, byte(len(seedPPS264))), seedPPS264...)
	f.Add(seedPackets(
		pkt(1, 0, false, stap...),
		pkt(2, 0, false, 0x7c, 0x85, 0x88, 0x84, 0x21), // FU-A start of an IDR
		pkt(3, 0, true, 0x7c, 0x45, 0x01, 0x02),        // FU-A end
		pkt(5, 3600, true, 0x41, 0x9a, 0x01),           // after a loss
		pkt(4, 3600, true, 0x41, 0x9a, 0x02),           // late
		pkt(6, 7200, true, 0x19, 0, 1, 2),              // STAP-B
	))
	f.Add(seedPackets(pkt(65535, 1<<32-1, true, 0x65, 0x88), pkt(0, 3599, true, 0x41, 0x9a), pkt(0, 3599, true, 0x41, 0x9a)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzPackets(t, media.Track{Codec: media.H264, ClockRate: 90000, SPS: seedSPS264, PPS: seedPPS264}, data)
	})
}

func FuzzH265Depacketize(f *testing.F) {
	vps := []byte{0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0, 0, 3, 0, 0x90, 0, 0, 3, 0, 0, 3, 0, 0x3c, 0x95, 0x98, 0x09}
	f.Add(seedPackets(
		pkt(10, 0, false, append([]byte{0x60, 0x01, 0, byte(len(vps))}, vps...)...), // AP
		pkt(11, 0, false, 0x62, 0x01, 0x93, 0xaf, 0x01),                             // FU start, IDR_N_LP
		pkt(12, 0, true, 0x62, 0x01, 0x53, 0x02),                                    // FU end
		pkt(13, 3000, true, 0x02, 0x01, 0xd0, 0x01),                                 // TRAIL_R
		pkt(14, 6000, true, 0x64, 0x01, 0x00),                                       // PACI
	))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzPackets(t, media.Track{Codec: media.H265, ClockRate: 90000}, data)
	})
}

func FuzzAACDepacketize(f *testing.F) {
	f.Add(seedPackets(
		pkt(1, 0, true, 0, 16, 0, 3<<3, 1, 2, 3),
		pkt(2, 1024, true, 0, 32, 0, 1<<3, 0, 2<<3, 9, 8, 7),
		pkt(3, 3072, false, 0, 16, 0, 4<<3, 1, 2), // fragment
		pkt(4, 3072, true, 0, 16, 0, 4<<3, 3, 4),
	))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzPackets(t, media.Track{Codec: media.AAC, ClockRate: 48000, SampleRate: 48000, Channels: 1, AACConfig: []byte{0x11, 0x88}}, data)
	})
}

func FuzzG711Depacketize(f *testing.F) {
	f.Add(seedPackets(pkt(1, 0, false, 0xd5, 0xd5, 0x55), pkt(2, 3, false, 0x2a), pkt(2, 3, false, 0x2a), pkt(9, 1<<31, false, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzPackets(t, media.Track{Codec: media.PCMA, ClockRate: 8000}, data)
	})
}

func FuzzTrackFromSDP(f *testing.F) {
	for _, c := range cameraSDPs {
		f.Add(c.sdp)
	}
	f.Add("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/1\r\na=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=118856E500\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		var s sdp.SessionDescription
		if s.UnmarshalString(text) != nil {
			return
		}
		for _, md := range s.MediaDescriptions {
			tr, pt, err := TrackFromMediaDescription(md)
			if err != nil {
				continue
			}
			if _, err := NewReceiver(tr, 0, OptionsFromMediaDescription(md)); err != nil {
				t.Fatalf("track %+v from SDP, but no receiver: %v", tr, err)
			}
			back, _, err := TrackFromMediaDescription(MediaDescription(tr, pt))
			if err != nil || back.Codec != tr.Codec {
				t.Fatalf("our own description of %+v does not parse: %v", tr, err)
			}
		}
	})
}

// TestFuzzSeedsAreReal keeps the committed seeds honest.
func TestFuzzSeedsAreReal(t *testing.T) {
	s, err := codec.ParseH264SPS(seedSPS264)
	if err != nil || s.Width != 320 || s.Height != 240 {
		t.Fatalf("seed SPS: %+v %v", s, err)
	}
	if _, err := codec.H264ConfigRecord(seedSPS264, seedPPS264); err != nil {
		t.Fatal(err)
	}
}
