package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"vigil/internal/media"
	"vigil/internal/media/mp4"
	"vigil/internal/policy"
	"vigil/internal/problem"
)

// Info describes a camera's live stream for a Media Source Extensions
// player: the MIME type to pass to MediaSource.isTypeSupported and
// addSourceBuffer, and what the WebRTC path would carry.
type Info struct {
	CameraID string `json:"camera_id"`
	// MIME is `video/mp4; codecs="avc1.640028,mp4a.40.2"` for the fMP4
	// stream (G.711 appears as flac: the stream converts it).
	MIME        string `json:"mime"`
	VideoCodec  string `json:"video_codec"`
	AudioCodec  string `json:"audio_codec,omitempty"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	WebRTC      bool   `json:"webrtc"`       // the video can go over WHEP (H.264)
	WebRTCAudio string `json:"webrtc_audio"` // PCMA, PCMU, OPUS, or "" (AAC is not sent over WebRTC)
}

// Info returns the camera's live stream description. It reads no video,
// so it is not registered; it needs camera.live on the camera.
func (s *Service) Info(ctx context.Context, subj *policy.Subject, id string) (Info, error) {
	cam, err := s.camera(ctx, id)
	if err != nil {
		return Info{}, err
	}
	if subj == nil {
		return Info{}, problem.Unauthorized("auth.required", nil)
	}
	if err := policy.Check(subj, policy.CameraLive, cam.UnitPath, "camera "+cam.ID); err != nil {
		return Info{}, err
	}
	tracks, err := s.tracksOf(id)
	if err != nil {
		return Info{}, err
	}
	_, conv, err := mseTracks(tracks)
	if err != nil {
		return Info{}, err
	}
	inf := Info{CameraID: id}
	var codecs []string
	for _, t := range conv {
		c := mp4.CodecString(t)
		codecs = append(codecs, c)
		if t.Codec.IsVideo() {
			inf.VideoCodec, inf.Width, inf.Height = c, t.Width, t.Height
		} else {
			inf.AudioCodec = c
		}
	}
	inf.MIME = `video/mp4; codecs="` + strings.Join(codecs, ",") + `"`
	for _, t := range tracks {
		switch t.Codec {
		case media.H264:
			inf.WebRTC = true
		case media.PCMA, media.PCMU, media.Opus:
			if inf.WebRTCAudio == "" {
				inf.WebRTCAudio = string(t.Codec)
			}
		}
	}
	return inf, nil
}

// mseTracks chooses the tracks for MSE: the first video track and the
// first audio track, G.711 converted to FLAC. It returns the source track
// indexes (video first) and the converted descriptions.
func mseTracks(tracks []media.Track) ([]int, []media.Track, error) {
	var idx []int
	var out []media.Track
	vi, ai := -1, -1
	for i, t := range tracks {
		if t.Codec.IsVideo() && vi < 0 {
			vi = i
		} else if !t.Codec.IsVideo() && ai < 0 && t.Codec != media.Opus {
			ai = i
		}
	}
	if vi < 0 {
		return nil, nil, problem.Unprocessable("live.no_video", problem.P{"codec": codecsOf(tracks)})
	}
	idx, out = append(idx, vi), append(out, tracks[vi])
	if ai >= 0 {
		t := tracks[ai]
		if t.Codec == media.PCMA || t.Codec == media.PCMU {
			c, err := mp4.NewG711Converter(t, mp4.CodecFLAC)
			if err != nil {
				return nil, nil, err
			}
			t = c.Track()
		}
		idx, out = append(idx, ai), append(out, t)
	}
	return idx, out, nil
}

// FMP4Start is told, before the first byte, which access record the view
// was registered under and the stream's MIME type.
type FMP4Start func(accessID, mime string)

// StreamFMP4 writes camera id's live video to w as fragmented MP4 (init
// segment, then fragments of about FragmentDuration starting at the GOP
// cache's keyframe) until ctx ends (the client went away) or the camera
// goes offline. The gate decides first (method fmp4); the view's end is
// registered on return. flush, when set, is called after each fragment.
func (s *Service) StreamFMP4(ctx context.Context, subj *policy.Subject, id, purpose string, w io.Writer, flush func(), start FMP4Start) error {
	_, d, err := s.decide(ctx, subj, id, policy.ViewLive, purpose, "fmp4")
	if err != nil {
		return err
	}
	defer s.endView(subj, d.ID(), "fmp4 stream ended")
	rd, err := s.subscribe(d, id, media.ReaderOptions{QueueLen: 512})
	if err != nil {
		return err
	}
	defer rd.Close()
	// Wait for the first unit: a new reader starts at a keyframe, and
	// the tracks it reports are then those of that keyframe.
	first, err := rd.Next(ctx)
	if err != nil {
		return streamEnd(err)
	}
	idx, tracks, err := mseTracks(rd.Tracks())
	if err != nil {
		return err
	}
	var conv *mp4.G711Converter
	if len(tracks) > 1 && tracks[1].Codec == mp4.CodecFLAC {
		conv, _ = mp4.NewG711Converter(rd.Tracks()[idx[1]], mp4.CodecFLAC)
	}
	mime := `video/mp4; codecs="` + mp4.CodecString(tracks[0])
	if len(tracks) > 1 {
		mime += "," + mp4.CodecString(tracks[1])
	}
	mime += `"`
	if start != nil {
		start(d.ID(), mime)
	}
	fw, err := mp4.NewFragmentWriter(w, tracks, mp4.FragmentOptions{Duration: s.opts.FragmentDuration,
		OnFragment: func(mp4.FragmentInfo) error {
			if flush != nil {
				flush()
			}
			return nil
		}})
	if err != nil {
		return fmt.Errorf("live fmp4: %w", err)
	}
	if flush != nil {
		flush()
	}
	gen := rd.Generation()
	u := first
	for {
		if rd.Generation() != gen {
			return nil // new parameter sets: the client reconnects for a new init segment
		}
		out := -1
		for j, i := range idx {
			if u.Track == i {
				out = j
			}
		}
		if out >= 0 {
			u.Track = out
			if out == 1 && conv != nil {
				b, err := conv.Convert(u.Data)
				if err != nil {
					return fmt.Errorf("live fmp4: %w", err)
				}
				u.Data = b
			}
			if err := fw.WriteUnit(u); err != nil {
				return nil // the client went away
			}
		}
		if u, err = rd.Next(ctx); err != nil {
			return streamEnd(err)
		}
	}
}

// streamEnd maps how a reader stopped to the stream's result: the client
// going away or the camera stopping end the stream without an error.
func streamEnd(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
