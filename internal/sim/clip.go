package sim

import (
	"embed"
	"fmt"
	"sync"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

//go:embed clips/clip.h264 clips/clip.h265 clips/clip.aac clips/clip.alaw clips/clip.ulaw
var clipFS embed.FS

// Clip frame rate: the embedded clips are 25 fps, 2 s.
const (
	fps          = 25
	videoTick    = 90000 / fps // RTP ticks per video frame
	g711FrameLen = 160         // samples per G.711 unit (20 ms at 8 kHz)
)

// clip is a decoded embedded clip, shared read-only by every camera.
type clip struct {
	video      media.Track
	videoAUs   [][][]byte
	videoKey   []bool
	audio      *media.Track
	audioUnits [][]byte
	audioTick  int64 // ticks per audio unit
}

var (
	clipMu    sync.Mutex
	clipCache = map[[2]media.Codec]*clip{}
)

// loadClip parses the embedded clip for the codec pair once.
func loadClip(video, audio media.Codec) (*clip, error) {
	clipMu.Lock()
	defer clipMu.Unlock()
	key := [2]media.Codec{video, audio}
	if c, ok := clipCache[key]; ok {
		return c, nil
	}
	c := &clip{}
	if err := c.loadVideo(video); err != nil {
		return nil, err
	}
	if err := c.loadAudio(audio); err != nil {
		return nil, err
	}
	clipCache[key] = c
	return c, nil
}

func (c *clip) loadVideo(vc media.Codec) error {
	var file string
	var v codec.Video
	switch vc {
	case media.H264, "":
		file, v, vc = "clips/clip.h264", codec.H264, media.H264
	case media.H265:
		file, v = "clips/clip.h265", codec.H265
	default:
		return fmt.Errorf("sim: video codec %q not supported (h264 or h265)", vc)
	}
	raw, err := clipFS.ReadFile(file)
	if err != nil {
		return fmt.Errorf("sim: read %s: %w", file, err)
	}
	aus := codec.SplitAccessUnits(v, codec.SplitAnnexB(raw))
	if len(aus) == 0 {
		return fmt.Errorf("sim: %s holds no access unit", file)
	}
	tr := media.Track{Codec: vc, ClockRate: 90000}
	for _, au := range aus {
		au = codec.CleanAU(v, au)
		for _, n := range au {
			switch {
			case v == codec.H264 && codec.H264NALType(n) == codec.H264NALSPS && tr.SPS == nil:
				tr.SPS = n
			case v == codec.H264 && codec.H264NALType(n) == codec.H264NALPPS && tr.PPS == nil:
				tr.PPS = n
			case v == codec.H265 && codec.H265NALType(n) == codec.H265NALVPS && tr.VPS == nil:
				tr.VPS = n
			case v == codec.H265 && codec.H265NALType(n) == codec.H265NALSPS && tr.SPS == nil:
				tr.SPS = n
			case v == codec.H265 && codec.H265NALType(n) == codec.H265NALPPS && tr.PPS == nil:
				tr.PPS = n
			}
		}
		c.videoAUs = append(c.videoAUs, au)
		c.videoKey = append(c.videoKey, codec.IsKey(v, au))
	}
	if v == codec.H264 {
		sps, err := codec.ParseH264SPS(tr.SPS)
		if err != nil {
			return fmt.Errorf("sim: %s: %w", file, err)
		}
		tr.Width, tr.Height = sps.Width, sps.Height
	} else {
		sps, err := codec.ParseH265SPS(tr.SPS)
		if err != nil {
			return fmt.Errorf("sim: %s: %w", file, err)
		}
		tr.Width, tr.Height = sps.Width, sps.Height
	}
	if !c.videoKey[0] {
		return fmt.Errorf("sim: %s does not start with a keyframe", file)
	}
	c.video = tr
	return nil
}

func (c *clip) loadAudio(ac media.Codec) error {
	switch ac {
	case "":
		return nil
	case media.AAC:
		raw, err := clipFS.ReadFile("clips/clip.aac")
		if err != nil {
			return fmt.Errorf("sim: %w", err)
		}
		frames, cfg, err := codec.SplitADTS(raw)
		if err != nil {
			return fmt.Errorf("sim: clip.aac: %w", err)
		}
		c.audioUnits = frames
		c.audioTick = 1024
		c.audio = &media.Track{Codec: media.AAC, ClockRate: cfg.SampleRate, SampleRate: cfg.SampleRate,
			Channels: cfg.Channels, AACConfig: cfg.Marshal()}
	case media.PCMA, media.PCMU:
		file := "clips/clip.alaw"
		if ac == media.PCMU {
			file = "clips/clip.ulaw"
		}
		raw, err := clipFS.ReadFile(file)
		if err != nil {
			return fmt.Errorf("sim: %w", err)
		}
		for len(raw) >= g711FrameLen {
			c.audioUnits = append(c.audioUnits, raw[:g711FrameLen])
			raw = raw[g711FrameLen:]
		}
		c.audioTick = g711FrameLen
		c.audio = &media.Track{Codec: ac, ClockRate: 8000, SampleRate: 8000, Channels: 1}
	default:
		return fmt.Errorf("sim: audio codec %q not supported (AAC, PCMA, PCMU or none)", ac)
	}
	return nil
}

// tracks returns the clip's tracks: video first, then audio if any.
func (c *clip) tracks() []media.Track {
	t := []media.Track{c.video}
	if c.audio != nil {
		t = append(t, *c.audio)
	}
	return t
}
