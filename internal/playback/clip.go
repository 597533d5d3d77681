// Package playback turns a camera and a time range into video: the
// segments the index names, joined on one timeline, written as fragmented
// MP4 (for the browser's <video>) or as a plain MP4 (a download with HTTP
// Range support). Every playback goes through the gate first (ACC-3).
//
// Invariants:
//   - Nothing is read from storage without the gate's Decision covering
//     the camera and range (Open takes it and checks it), and so not
//     before its access record is committed. The same request repeated
//     within policy.ReuseWindow (a player's Range requests) reuses that
//     record: the gate decides that, on its own clock.
//   - A plain MP4 is a file the person keeps: an export (policy.Export),
//     with the profile's obligations. fMP4 for the player is a playback.
//   - Output starts exactly at the requested start: the decoder needs the
//     frames from the previous keyframe (the pre-roll), so they are stored
//     but hidden by an edit list — in the plain MP4 (mp4.MP4Options.Start)
//     and in the fragmented MP4's init segment (an edts/elst patched into
//     each trak, media_time = the pre-roll). Players present the first
//     frame at the start and report the duration from it.
//   - Segments of one stream abut exactly (record's invariant), so joining
//     them neither repeats nor loses a frame; a clip ends early at a gap
//     or where the stream's parameters change (Clip.End says where).
//   - Samples are copied as recorded: never decoded or transcoded (RET-3).
//   - Output is produced from the segments on demand (Stream), an HTTP
//     Range answered by producing again and passing on only the bytes
//     asked for: no footage is written outside storage.
//   - The open segment is read up to its last fsynced fragment (the index
//     publishes it), so footage plays back about a second after arrival.
package playback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/codec"
	"vigil/internal/media/mp4"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/record"
	"vigil/internal/storage"
)

// MaxDuration is the longest clip one request may ask for.
const MaxDuration = 4 * time.Hour

// Clip is a time range of one camera's recording, ready to be written.
type Clip struct {
	CameraID string
	Start    time.Time     // the requested start, or the first recorded moment after it
	End      time.Time     // the end of the clip (the request's, or earlier at a gap)
	PreRoll  time.Duration // from the keyframe before Start to Start

	tracks  []media.Track
	lensize []int
	samples [][]mp4.Sample // per track, on the clip's timeline (0 = the keyframe)
	src     [][]int        // per track, per sample: index into objs
	objs    []storage.Object
}

// Close releases the clip's open segments.
func (c *Clip) Close() {
	for _, o := range c.objs {
		o.Close()
	}
	c.objs = nil
}

// Tracks returns the clip's tracks.
func (c *Clip) Tracks() []media.Track { return c.tracks }

// Frames returns the number of video frames presented (after the pre-roll).
func (c *Clip) Frames() int {
	n := 0
	start := ticks(c.PreRoll, c.tracks[0].ClockRate)
	for _, s := range c.samples[0] {
		if s.PTS >= start {
			n++
		}
	}
	return n
}

func ticks(d time.Duration, clock int) int64 {
	return int64(math.Round(d.Seconds() * float64(clock)))
}

type segFile struct {
	seg  record.Segment
	obj  storage.Object
	file *mp4.File
}

// Open builds the clip of camera over [start, start+d) from the index.
// dec must be the gate's allow covering that read (a playback, or the
// export the clip is for): nothing is read without one.
func Open(ctx context.Context, dec policy.Decision, x *record.Index, st storage.Store, camera string, start time.Time, d time.Duration) (*Clip, error) {
	if d <= 0 || d > MaxDuration {
		return nil, problem.Invalid("playback.bad_duration", "duration", problem.P{"max": int(MaxDuration.Seconds())})
	}
	end := start.Add(d)
	if err := dec.Covers(policy.Playback, camera, start, end); err != nil {
		return nil, fmt.Errorf("playback: %w", err)
	}
	segs, err := x.List(ctx, camera, start, end)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, problem.NotFound("playback.no_footage", problem.P{"camera": camera, "start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339)})
	}
	c := &Clip{CameraID: camera}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	var files []segFile
	for i, s := range segs {
		if i > 0 && s.Start.Sub(segs[i-1].End) > time.Millisecond {
			break // a gap: the clip ends here
		}
		obj, err := st.Open(ctx, s.Key)
		if err != nil {
			return nil, fmt.Errorf("playback: segment %d: %w", s.Seq, err)
		}
		c.objs = append(c.objs, obj)
		f, err := mp4.ReadFile(obj, obj.Size())
		if err != nil {
			return nil, fmt.Errorf("playback: segment %d: %w", s.Seq, err)
		}
		if i > 0 && !sameTracks(files[0].file, f) {
			break // new parameters: the clip ends here
		}
		files = append(files, segFile{seg: s, obj: obj, file: f})
	}
	if err := c.build(files, start, end); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// sameTracks reports whether two segments can be joined into one track
// set: same codecs, clocks and parameter sets.
func sameTracks(a, b *mp4.File) bool {
	if len(a.Tracks) != len(b.Tracks) {
		return false
	}
	for i := range a.Tracks {
		x, y := a.Tracks[i], b.Tracks[i]
		if x.Codec != y.Codec || x.ClockRate != y.ClockRate || string(x.SPS) != string(y.SPS) || string(x.PPS) != string(y.PPS) ||
			string(x.VPS) != string(y.VPS) || string(x.AACConfig) != string(y.AACConfig) {
			return false
		}
	}
	return true
}

// build lays the segments' samples onto one timeline starting at the
// keyframe at or before start.
func (c *Clip) build(files []segFile, start, end time.Time) error {
	first := files[0]
	vt := -1
	for i, t := range first.file.Tracks {
		if t.Codec.IsVideo() {
			vt = i
			break
		}
	}
	if vt < 0 {
		return errors.New("playback: the segment has no video track")
	}
	if start.Before(first.seg.Start) {
		start = first.seg.Start
	}
	// Order the tracks video first.
	order := []int{vt}
	for i := range first.file.Tracks {
		if i != vt {
			order = append(order, i)
		}
	}
	for _, ti := range order {
		c.tracks = append(c.tracks, first.file.Tracks[ti].Track)
		c.lensize = append(c.lensize, first.file.Tracks[ti].LengthSize)
	}
	c.samples = make([][]mp4.Sample, len(order))
	c.src = make([][]int, len(order))

	// The keyframe at or before start: the clip's origin.
	vclock := first.file.Tracks[vt].ClockRate
	rel := ticks(start.Sub(first.seg.Start), vclock)
	key := -1
	for i, s := range first.file.Tracks[vt].Samples {
		if s.PTS > rel {
			break
		}
		if s.Key {
			key = i
		}
	}
	if key < 0 {
		return errors.New("playback: no keyframe before the start in its segment")
	}
	keyDTS := first.file.Tracks[vt].Samples[key].DTS
	origin := first.seg.Start.Add(media.Duration(keyDTS, vclock))
	c.Start = start
	c.PreRoll = start.Sub(origin)
	c.End = start

	for oi, ti := range order {
		clock := first.file.Tracks[ti].ClockRate
		startT, endT := ticks(start.Sub(origin), clock), ticks(end.Sub(origin), clock)
		var lastDTS int64 = -1
		for fi, f := range files {
			off := ticks(f.seg.Start.Sub(origin), clock)
			for _, s := range f.file.Tracks[ti].Samples {
				s.DTS += off
				s.PTS += off
				if oi == 0 {
					if s.DTS < 0 {
						continue // before the keyframe
					}
				} else if s.PTS < startT {
					continue // audio: exactly from the start
				}
				if s.PTS >= endT {
					continue
				}
				if s.DTS <= lastDTS {
					shift := lastDTS + 1 - s.DTS
					s.DTS += shift
					s.PTS += shift
				}
				lastDTS = s.DTS
				c.samples[oi] = append(c.samples[oi], s)
				c.src[oi] = append(c.src[oi], fi)
			}
		}
		if len(c.samples[oi]) == 0 {
			if oi == 0 {
				return problem.NotFound("playback.no_footage", problem.P{"camera": c.CameraID, "start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339)})
			}
			// An audio track without samples in range is left out.
			c.tracks, c.samples, c.src, c.lensize = c.tracks[:oi], c.samples[:oi], c.src[:oi], c.lensize[:oi]
			break
		}
	}
	vs := c.samples[0]
	last := vs[len(vs)-1]
	dur := last.Duration
	if dur == 0 && len(vs) > 1 {
		dur = uint32(last.DTS - vs[len(vs)-2].DTS)
	}
	c.End = origin.Add(media.Duration(last.PTS+int64(dur), vclock))
	if c.End.After(end) {
		c.End = end
	}
	return nil
}

// data reads sample i of track ti.
func (c *Clip) data(ti, i int) ([]byte, error) {
	return mp4.ReadSample(c.objs[c.src[ti][i]], c.samples[ti][i])
}

// WriteMP4 writes the clip as a plain MP4 with the moov first, the
// pre-roll hidden by an edit list.
func (c *Clip) WriteMP4(w io.Writer, userData map[string]string) error {
	return mp4.WriteMP4Samples(w, c.tracks, c.samples, c.data, mp4.MP4Options{Start: c.PreRoll, UserData: userData})
}

// WriteFMP4 writes the clip as fragmented MP4 starting at Start.
//
// Edit lists in fragmented files are honoured unevenly (ffmpeg shifts
// the timeline but still shows the pre-roll at negative times), so the
// pre-roll is hidden twice: its n frames are squeezed into the first n
// ticks of the timeline (1/90000 s each: decoded, never visibly shown),
// the frame at Start follows at tick n, and an edit list starting at
// media time n hides even those ticks from players that honour it.
func (c *Clip) WriteFMP4(w io.Writer, userData map[string]string) error {
	vclock := int64(c.tracks[0].ClockRate)
	startT := ticks(c.PreRoll, int(vclock))
	n := int64(0)
	for _, s := range c.samples[0] {
		if s.PTS < startT {
			n++
		}
	}
	// retime maps a sample onto the output timeline.
	retime := func(ti int, s mp4.Sample, i int) (dts, pts int64) {
		clock := int64(c.tracks[ti].ClockRate)
		if ti == 0 && s.PTS < startT {
			return int64(i), int64(i)
		}
		shift := rescaleTicks(n, vclock, clock) - ticks(c.PreRoll, int(clock))
		return s.DTS + shift, s.PTS + shift
	}
	media0 := make([]int64, len(c.tracks))
	for ti := range c.tracks {
		media0[ti] = rescaleTicks(n, vclock, int64(c.tracks[ti].ClockRate))
	}
	pw := &elstPatcher{w: w, mediaTime: media0, duration: c.End.Sub(c.Start)}
	fw, err := mp4.NewFragmentWriter(pw, c.tracks, mp4.FragmentOptions{Duration: time.Second, UserData: userData})
	if err != nil {
		return fmt.Errorf("playback: %w", err)
	}
	// Interleave the tracks by decode time.
	next := make([]int, len(c.tracks))
	for {
		best, bestT := -1, 0.0
		for ti := range c.tracks {
			if next[ti] >= len(c.samples[ti]) {
				continue
			}
			d, _ := retime(ti, c.samples[ti][next[ti]], next[ti])
			t := float64(d) / float64(c.tracks[ti].ClockRate)
			if best < 0 || t < bestT {
				best, bestT = ti, t
			}
		}
		if best < 0 {
			break
		}
		i := next[best]
		next[best]++
		b, err := c.data(best, i)
		if err != nil {
			return err
		}
		s := c.samples[best][i]
		u := media.Unit{Track: best, Key: s.Key}
		u.DTS, u.PTS = retime(best, s, i)
		if c.tracks[best].Codec.IsVideo() {
			if u.NALUs, err = codec.SplitAVCC(b, c.lensize[best]); err != nil {
				return fmt.Errorf("playback: sample %d: %w", i, err)
			}
		} else {
			u.Data = b
		}
		if err := fw.WriteUnit(u); err != nil {
			return err
		}
	}
	return fw.Flush()
}

// rescaleTicks converts v ticks of clock from to clock to, rounding.
func rescaleTicks(v, from, to int64) int64 {
	if from == to {
		return v
	}
	return (v*to + from/2) / from
}
