package mp4

import (
	"testing"

	"vigil/internal/media"
)

// TestCodecString checks RFC 6381 strings of the source clips' tracks
// against the values the x264/x265/ffmpeg-aac settings imply. MED-2
func TestCodecString(t *testing.T) {
	h264, _ := demux(t, clipH264(t))
	h264bf, _ := demux(t, clipH264BF(t))
	h265, _ := demux(t, clipH265(t))
	tests := []struct {
		name  string
		track media.Track
		want  string
	}{
		{"h264 constrained baseline 3.1", h264[0], "avc1.42c01f"},
		{"h264 main 3.1", h264bf[0], "avc1.4d401f"},
		{"aac lc", h264[1], "mp4a.40.2"},
		{"h265 main 3.1", h265[0], "hvc1.1.6.L93.90"}, // progressive, frame-only; x265 leaves non-packed unset
		{"alaw", media.Track{Codec: media.PCMA}, "alaw"},
		{"flac", media.Track{Codec: CodecFLAC}, "flac"},
		{"h264 without SPS", media.Track{Codec: media.H264}, ""},
		{"h265 bad SPS", media.Track{Codec: media.H265, SPS: []byte{0x42, 0x01, 0xff}}, ""},
	}
	for _, tt := range tests {
		if got := CodecString(tt.track); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
