package rtpdec

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// format is one payload format of a media description.
type format struct {
	pt       uint8
	name     string // upper case
	rate     int
	channels int
	fmtp     map[string]string // keys lower case
}

func formats(md *sdp.MediaDescription) []format {
	var out []format
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(strings.TrimSpace(f), 10, 7)
		if err != nil {
			continue
		}
		fm := format{pt: uint8(pt), fmtp: map[string]string{}}
		switch pt { // static payload types (RFC 3551) need no rtpmap
		case 0:
			fm.name, fm.rate, fm.channels = "PCMU", 8000, 1
		case 8:
			fm.name, fm.rate, fm.channels = "PCMA", 8000, 1
		}
		for _, a := range md.Attributes {
			num, rest, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
			if num != f {
				continue
			}
			switch strings.ToLower(a.Key) {
			case "rtpmap":
				parts := strings.Split(strings.TrimSpace(rest), "/")
				fm.name = strings.ToUpper(parts[0])
				if len(parts) > 1 {
					fm.rate, _ = strconv.Atoi(parts[1])
				}
				fm.channels = 1
				if len(parts) > 2 {
					fm.channels, _ = strconv.Atoi(parts[2])
				}
			case "fmtp":
				for _, kv := range strings.Split(rest, ";") {
					k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
					if k != "" {
						fm.fmtp[strings.ToLower(k)] = strings.TrimSpace(v)
					}
				}
			}
		}
		out = append(out, fm)
	}
	return out
}

// TrackFromMediaDescription reads the track and payload type of an SDP
// media description, taking the first payload format Vigil supports. It
// tolerates missing or broken sprop parameter sets (the stream brings them
// in-band) and odd fmtp spelling; the clock rate is the rtpmap's.
func TrackFromMediaDescription(md *sdp.MediaDescription) (media.Track, uint8, error) {
	if md == nil {
		return media.Track{}, 0, errors.New("SDP media: nil description")
	}
	var firstErr error
	for _, f := range formats(md) {
		t, err := trackFromFormat(f)
		if err == nil {
			return t, f.pt, nil
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("SDP media %s payload type %d: %w", md.MediaName.Media, f.pt, err)
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("SDP media %s: no payload format", md.MediaName.Media)
	}
	return media.Track{}, 0, firstErr
}

func trackFromFormat(f format) (media.Track, error) {
	var t media.Track
	t.ClockRate = f.rate
	switch f.name {
	case "H264":
		t.Codec = media.H264
		if m := f.fmtp["packetization-mode"]; m == "2" {
			return t, errors.New("H.264 packetization-mode=2 (interleaved) is not supported")
		}
		for _, s := range strings.Split(f.fmtp["sprop-parameter-sets"], ",") {
			n := decodeB64(s)
			switch codec.H264NALType(n) {
			case codec.H264NALSPS:
				if ps, err := codec.ParseH264SPS(n); err == nil {
					t.SPS, t.Width, t.Height = n, ps.Width, ps.Height
				}
			case codec.H264NALPPS:
				t.PPS = n
			}
		}
	case "H265", "HEVC":
		t.Codec = media.H265
		if d := f.fmtp["sprop-max-don-diff"]; d != "" && d != "0" {
			return t, errors.New("H.265 with decoding order numbers (sprop-max-don-diff) is not supported")
		}
		t.VPS = firstB64(f.fmtp["sprop-vps"], codec.H265NALVPS)
		if sps := firstB64(f.fmtp["sprop-sps"], codec.H265NALSPS); sps != nil {
			if ps, err := codec.ParseH265SPS(sps); err == nil {
				t.SPS, t.Width, t.Height = sps, ps.Width, ps.Height
			}
		}
		t.PPS = firstB64(f.fmtp["sprop-pps"], codec.H265NALPPS)
	case "MPEG4-GENERIC":
		t.Codec = media.AAC
		if m := strings.ToLower(f.fmtp["mode"]); m != "" && m != "aac-hbr" && m != "aac-lbr" {
			return t, fmt.Errorf("mpeg4-generic mode %q is not AAC", f.fmtp["mode"])
		}
		if _, err := aacParams(f); err != nil {
			return t, err
		}
		t.SampleRate, t.Channels = f.rate, f.channels
		if asc, err := hex.DecodeString(f.fmtp["config"]); err == nil && len(asc) > 0 {
			if c, err := codec.ParseAACConfig(asc); err == nil {
				t.AACConfig, t.SampleRate = asc, c.SampleRate
				if c.Channels > 0 {
					t.Channels = c.Channels
				}
			}
		}
		if t.AACConfig == nil {
			return t, errors.New("mpeg4-generic without a valid config= AudioSpecificConfig")
		}
	case "PCMA", "PCMU":
		t.Codec = media.Codec(f.name)
		t.SampleRate, t.Channels = f.rate, max(f.channels, 1)
	case "OPUS":
		t.Codec = media.Opus
		t.SampleRate, t.Channels = 48000, max(f.channels, 1)
	case "":
		return t, errors.New("no rtpmap")
	default:
		return t, fmt.Errorf("codec %q is not supported", f.name)
	}
	if t.ClockRate <= 0 || t.ClockRate > 1_000_000 {
		return t, fmt.Errorf("clock rate %d", t.ClockRate)
	}
	return t, nil
}

func decodeB64(s string) []byte {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return b
		}
	}
	return nil
}

func firstB64(list string, typ uint8) []byte {
	for _, s := range strings.Split(list, ",") {
		if n := decodeB64(s); len(n) > 2 && codec.H265NALType(n) == typ {
			return n
		}
	}
	return nil
}

func aacParams(f format) (AACParams, error) {
	p := AACParams{13, 3, 3}
	for key, dst := range map[string]*int{"sizelength": &p.SizeLength, "indexlength": &p.IndexLength, "indexdeltalength": &p.IndexDeltaLength} {
		if v, ok := f.fmtp[key]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 16 {
				return p, fmt.Errorf("mpeg4-generic %s=%q", key, v)
			}
			*dst = n
		}
	}
	if p.SizeLength == 0 || p.IndexLength > 8 || p.IndexDeltaLength > 8 {
		return p, fmt.Errorf("mpeg4-generic AU headers %+v not supported", p)
	}
	return p, nil
}

// OptionsFromMediaDescription returns receiver options that carry the
// depacketising parameters of md's fmtp (the AAC AU-header sizes); other
// fields keep their defaults.
func OptionsFromMediaDescription(md *sdp.MediaDescription) ReceiverOptions {
	var o ReceiverOptions
	if md == nil {
		return o
	}
	for _, f := range formats(md) {
		if f.name == "MPEG4-GENERIC" {
			if p, err := aacParams(f); err == nil {
				o.AAC = p
			}
			break
		}
	}
	return o
}

// MediaDescription describes track for a server's SDP: m=, rtpmap and
// fmtp (parameter sets, AAC config). The caller adds a=control.
func MediaDescription(track media.Track, payloadType uint8) *sdp.MediaDescription {
	pt := strconv.Itoa(int(payloadType))
	kind := "audio"
	if track.Codec.IsVideo() {
		kind = "video"
	}
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: kind, Port: sdp.RangedPort{Value: 0},
		Protos: []string{"RTP", "AVP"}, Formats: []string{pt}}}
	b64 := base64.StdEncoding.EncodeToString
	var rtpmap string
	var fmtp []string
	switch track.Codec {
	case media.H264:
		rtpmap = "H264/90000"
		fmtp = append(fmtp, "packetization-mode=1")
		if len(track.SPS) >= 4 {
			fmtp = append(fmtp, fmt.Sprintf("profile-level-id=%02X%02X%02X", track.SPS[1], track.SPS[2], track.SPS[3]))
		}
		if len(track.SPS) > 0 && len(track.PPS) > 0 {
			fmtp = append(fmtp, "sprop-parameter-sets="+b64(track.SPS)+","+b64(track.PPS))
		}
	case media.H265:
		rtpmap = "H265/90000"
		for _, p := range []struct {
			k string
			v []byte
		}{{"sprop-vps", track.VPS}, {"sprop-sps", track.SPS}, {"sprop-pps", track.PPS}} {
			if len(p.v) > 0 {
				fmtp = append(fmtp, p.k+"="+b64(p.v))
			}
		}
	case media.AAC:
		rtpmap = fmt.Sprintf("mpeg4-generic/%d/%d", clockOr(track.ClockRate, track.SampleRate), max(track.Channels, 1))
		fmtp = append(fmtp, "profile-level-id=1", "mode=AAC-hbr", "sizelength=13", "indexlength=3", "indexdeltalength=3",
			"config="+hex.EncodeToString(track.AACConfig))
	case media.PCMA, media.PCMU:
		rtpmap = fmt.Sprintf("%s/%d", track.Codec, clockOr(track.ClockRate, 8000))
		if track.Channels > 1 {
			rtpmap += "/" + strconv.Itoa(track.Channels)
		}
	case media.Opus:
		rtpmap = "opus/48000/2"
	}
	if rtpmap != "" {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", pt+" "+rtpmap))
	}
	if len(fmtp) > 0 {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("fmtp", pt+" "+strings.Join(fmtp, "; ")))
	}
	return md
}

func clockOr(c, def int) int {
	if c > 0 {
		return c
	}
	return def
}
