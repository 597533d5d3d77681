package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"

	"vigil/internal/media"
	"vigil/internal/media/codec"
	"vigil/internal/policy"
	"vigil/internal/problem"
)

// maxSnapshotInput bounds what is piped to ffmpeg for one snapshot.
const maxSnapshotInput = 16 << 20

// Snapshot returns the camera's latest keyframe as a JPEG (抓图), after the
// gate has allowed and registered it as its own access (policy.Snapshot).
// ffmpeg decodes the keyframe, within Options.SnapshotTimeout.
func (s *Service) Snapshot(ctx context.Context, subj *policy.Subject, id, purpose string) ([]byte, policy.Decision, error) {
	_, d, err := s.decide(ctx, subj, id, policy.Snapshot, purpose, "jpeg")
	if err != nil {
		return nil, d, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.SnapshotTimeout)
	defer cancel()
	au, track, err := s.keyframe(ctx, d, id)
	if err != nil {
		return nil, d, err
	}
	jpg, err := s.decodeJPEG(ctx, au, track)
	if err != nil {
		return nil, d, err
	}
	return jpg, d, nil
}

// keyframe waits for the first unit of a new reader: the GOP cache's
// keyframe, or the next one when the cache is empty.
func (s *Service) keyframe(ctx context.Context, dec policy.Decision, id string) (media.Unit, media.Track, error) {
	rd, err := s.subscribe(dec, id, media.ReaderOptions{QueueLen: 64})
	if err != nil {
		return media.Unit{}, media.Track{}, err
	}
	defer rd.Close()
	for {
		u, err := rd.Next(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return u, media.Track{}, &problem.Error{Status: http.StatusGatewayTimeout, Code: "live.snapshot_timeout", Params: problem.P{"id": id}}
			}
			return u, media.Track{}, &problem.Error{Status: http.StatusServiceUnavailable, Code: "live.camera_offline", Params: problem.P{"id": id}}
		}
		t := rd.Tracks()[u.Track]
		if t.Codec.IsVideo() && u.Key {
			return u, t, nil
		}
	}
}

// decodeJPEG runs ffmpeg on one keyframe (parameter sets in front).
func (s *Service) decodeJPEG(ctx context.Context, u media.Unit, t media.Track) ([]byte, error) {
	v, format := codec.H264, "h264"
	ps := [][]byte{t.SPS, t.PPS}
	if t.Codec == media.H265 {
		v, format = codec.H265, "hevc"
		ps = [][]byte{t.VPS, t.SPS, t.PPS}
	}
	var nalus [][]byte
	hasPS := false
	for _, n := range u.NALUs {
		hasPS = hasPS || codec.IsParameterSet(v, n)
	}
	if !hasPS {
		for _, p := range ps {
			if len(p) > 0 {
				nalus = append(nalus, p)
			}
		}
	}
	nalus = append(nalus, u.NALUs...)
	in := codec.JoinAnnexB(nalus)
	if len(in) > maxSnapshotInput {
		return nil, fmt.Errorf("snapshot: keyframe of %d bytes is too large", len(in))
	}
	cmd := exec.CommandContext(ctx, s.opts.FFmpeg, "-hide_banner", "-loglevel", "error", "-f", format, "-i", "pipe:0",
		"-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", "-q:v", "3", "pipe:1")
	cmd.Stdin = bytes.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, &problem.Error{Status: http.StatusGatewayTimeout, Code: "live.snapshot_timeout", Params: problem.P{}}
		}
		return nil, fmt.Errorf("snapshot: ffmpeg: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	if out.Len() < 4 || out.Bytes()[0] != 0xff || out.Bytes()[1] != 0xd8 {
		return nil, fmt.Errorf("snapshot: ffmpeg wrote no JPEG: %s", strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}
