package rtpdec

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/pion/sdp/v3"

	"vigil/internal/media"
	"vigil/internal/testutil"
)

func parseSDP(t testing.TB, text string) *sdp.SessionDescription {
	t.Helper()
	var s sdp.SessionDescription
	if err := s.UnmarshalString(text); err != nil {
		t.Fatalf("parse SDP: %v\n%s", err, text)
	}
	return &s
}

// ffmpegSDP has ffmpeg's RTP muxer describe a short encode.
func ffmpegSDP(t *testing.T, args ...string) *sdp.SessionDescription {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.sdp")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append(append([]string{"-v", "error", "-y"}, args...), "-t", "0.2", "-f", "rtp", "rtp://127.0.0.1:9", "-sdp_file", path)
	if b, err := exec.CommandContext(ctx, testutil.Tool(t, "ffmpeg"), args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v %s", args, err, b)
	}
	b, _ := os.ReadFile(path)
	return parseSDP(t, string(b))
}

// TestTrackFromFFmpegSDP reads the SDPs ffmpeg writes for each codec. // MED-1
func TestTrackFromFFmpegSDP(t *testing.T) {
	video := []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"}
	audio := func(rate string) []string { return []string{"-f", "lavfi", "-i", "sine=r=" + rate} }
	cases := []struct {
		name  string
		args  []string
		want  media.Track
		pt    uint8
		check func(t *testing.T, tr media.Track)
	}{
		{"h264 sprop", append(video, "-c:v", "libx264", "-flags", "+global_header"), media.Track{Codec: media.H264, ClockRate: 90000, Width: 320, Height: 240}, 96,
			func(t *testing.T, tr media.Track) {
				if len(tr.SPS) == 0 || len(tr.PPS) == 0 {
					t.Error("no parameter sets from sprop-parameter-sets")
				}
			}},
		{"h264 without sprop", append(video, "-c:v", "libx264"), media.Track{Codec: media.H264, ClockRate: 90000}, 96, nil},
		{"h265 sprop", append(video, "-c:v", "libx265", "-x265-params", "log-level=error", "-flags", "+global_header"), media.Track{Codec: media.H265, ClockRate: 90000, Width: 320, Height: 240}, 96,
			func(t *testing.T, tr media.Track) {
				if len(tr.VPS) == 0 || len(tr.SPS) == 0 || len(tr.PPS) == 0 {
					t.Error("no parameter sets from sprop-vps/sps/pps")
				}
			}},
		{"aac", append(audio("48000"), "-c:a", "aac"), media.Track{Codec: media.AAC, ClockRate: 48000, SampleRate: 48000, Channels: 1}, 97, nil},
		{"pcma", append(audio("8000"), "-c:a", "pcm_alaw"), media.Track{Codec: media.PCMA, ClockRate: 8000, SampleRate: 8000, Channels: 1}, 8, nil},
		{"pcmu static", append(audio("8000"), "-c:a", "pcm_mulaw"), media.Track{Codec: media.PCMU, ClockRate: 8000, SampleRate: 8000, Channels: 1}, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ffmpegSDP(t, c.args...)
			tr, pt, err := TrackFromMediaDescription(s.MediaDescriptions[0])
			if err != nil {
				t.Fatal(err)
			}
			got, want := tr, c.want
			got.VPS, got.SPS, got.PPS, got.AACConfig = nil, nil, nil, nil
			if !reflect.DeepEqual(got, want) || (pt != c.pt && c.pt != 97) {
				t.Errorf("track %+v pt %d, want %+v pt %d", got, pt, c.want, c.pt)
			}
			if c.check != nil {
				c.check(t, tr)
			}
			if _, err := NewReceiver(tr, 0, OptionsFromMediaDescription(s.MediaDescriptions[0])); err != nil {
				t.Error(err)
			}
		})
	}
}

// Camera-style SDPs, committed: odd spacing and case, broken sprop, a
// dynamic type without rtpmap, unsupported codecs before supported ones.
var cameraSDPs = []struct {
	name, sdp string
	codec     media.Codec
	pt        uint8
	w, h      int
	ok        bool
}{
	{"hik main", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=Session\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=420029; packetization-mode=1; sprop-parameter-sets=Z2QAKKzZQHgCJ+XARAAAAwAEAAADAMg8YMZY,aOvjyyLA\r\na=control:trackID=1\r\n",
		media.H264, 96, 1920, 1080, true},
	{"broken sprop", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=S\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 h264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets=%%%,;profile-level-id=\r\n",
		media.H264, 96, 0, 0, true},
	{"hevc lower case", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=S\r\nt=0 0\r\nm=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\na=fmtp:98 sprop-sps=QgEBAWAAAAMAkAAAAwAAAwA8oAoIDxZZWaSTK8BaAgAAAwACAAADADIQ\r\n",
		media.H265, 98, 320, 240, true},
	{"g726 then pcma", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=S\r\nt=0 0\r\nm=audio 0 RTP/AVP 97 8\r\na=rtpmap:97 G726-32/8000\r\na=rtpmap:8 PCMA/8000\r\n",
		media.PCMA, 8, 0, 0, true},
	{"no rtpmap", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=S\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n", "", 0, 0, 0, false},
	{"interleaved", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=S\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=2\r\n", "", 0, 0, 0, false},
	{"aac without config", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=S\r\nt=0 0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/16000/1\r\na=fmtp:97 mode=AAC-hbr\r\n", "", 0, 0, 0, false},
}

func TestTrackFromCameraSDP(t *testing.T) {
	for _, c := range cameraSDPs {
		s := parseSDP(t, c.sdp)
		tr, pt, err := TrackFromMediaDescription(s.MediaDescriptions[0])
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if c.ok && (tr.Codec != c.codec || pt != c.pt || tr.Width != c.w || tr.Height != c.h) {
			t.Errorf("%s: %+v pt %d", c.name, tr, pt)
		}
	}
}

// TestMediaDescriptionRoundTrip writes our SDP for each codec and reads it
// back.
func TestMediaDescriptionRoundTrip(t *testing.T) {
	h264 := encodeVideo(t, media.H264, "352x288", 1)
	h265 := encodeVideo(t, media.H265, "352x288", 1)
	tracks := []media.Track{
		{Codec: media.H264, ClockRate: 90000, SPS: h264.aus[0][0], PPS: h264.aus[0][1], Width: 352, Height: 288},
		{Codec: media.H265, ClockRate: 90000, VPS: h265.aus[0][0], SPS: h265.aus[0][1], PPS: h265.aus[0][2], Width: 352, Height: 288},
		{Codec: media.AAC, ClockRate: 44100, SampleRate: 44100, Channels: 2, AACConfig: []byte{0x12, 0x10}},
		{Codec: media.PCMA, ClockRate: 8000, SampleRate: 8000, Channels: 1},
		{Codec: media.PCMU, ClockRate: 8000, SampleRate: 8000, Channels: 1},
		{Codec: media.Opus, ClockRate: 48000, SampleRate: 48000, Channels: 2},
	}
	for i, tr := range tracks {
		pt := uint8(96 + i)
		s := &sdp.SessionDescription{Origin: sdp.Origin{Username: "-", NetworkType: "IN", AddressType: "IP4", UnicastAddress: "127.0.0.1"},
			SessionName: "vigil", TimeDescriptions: []sdp.TimeDescription{{}}, MediaDescriptions: []*sdp.MediaDescription{MediaDescription(tr, pt)}}
		b, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, gotPT, err := TrackFromMediaDescription(parseSDP(t, string(b)).MediaDescriptions[0])
		if err != nil || gotPT != pt || back.Codec != tr.Codec || back.ClockRate != tr.ClockRate || back.Width != tr.Width ||
			!bytes.Equal(back.SPS, tr.SPS) || !bytes.Equal(back.PPS, tr.PPS) || !bytes.Equal(back.VPS, tr.VPS) || !bytes.Equal(back.AACConfig, tr.AACConfig) || back.Channels != tr.Channels {
			t.Errorf("%s: %v\n%s\nback %+v", tr.Codec, err, b, back)
		}
	}
}
