package record

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"vigil/internal/audit"
	"vigil/internal/media"
	"vigil/internal/media/mp4"
	"vigil/internal/storage"
)

// open starts a segment at t.
func (s *session) open(ctx context.Context, t time.Time, tracks []media.Track, gen uint64) error {
	r := s.r
	seq := s.seq + 1
	t = t.UTC().Truncate(time.Microsecond)
	ud := map[string]string{
		"vigil.camera": s.camera,
		"vigil.stream": s.streamID,
		"vigil.seq":    strconv.FormatInt(seq, 10),
		"vigil.start":  strconv.FormatInt(t.UnixMicro(), 10),
	}
	if _, err := mp4.InitSegment(tracks, ud); err != nil {
		return nil // parameter sets not known yet: wait for them
	}
	key := segmentKey(s.camera, t, seq)
	w, err := r.store.Create(ctx, key)
	if err != nil {
		if errors.Is(err, storage.ErrFull) {
			s.diskFull(ctx, t, err)
			return nil
		}
		r.fail(s.camera, err)
		return fmt.Errorf("record %s: %w", s.camera, err)
	}
	s.seq = seq
	vt := videoTrack(tracks)
	g := &segment{key: key, seq: seq, start: t, gen: gen, tracks: tracks, w: w, hash: r.index.NewHash(),
		codec: tracks[vt].Codec, width: tracks[vt].Width, height: tracks[vt].Height}
	g.fw, err = mp4.NewFragmentWriter(g, tracks, mp4.FragmentOptions{
		Duration: r.opts.FragmentLength, UserData: ud,
		OnFragment: func(fi mp4.FragmentInfo) error {
			if err := w.Sync(); err != nil {
				return err
			}
			// Playable from now on, before the segment closes.
			r.index.publishOpen(Segment{CameraID: s.camera, Seq: seq, StreamID: s.streamID, Start: t,
				End: t.Add(fi.Start + fi.Duration).Truncate(time.Microsecond), Codec: string(g.codec), Width: g.width, Height: g.height, Key: key})
			return nil
		},
	})
	if err != nil {
		w.Close()
		return s.salvage(ctx, g, err)
	}
	s.cur = g
	if s.full {
		s.full = false
		r.opts.Log.Warn("record: storage has room again; recording resumed", "camera", s.camera)
	}
	// A gap nobody marked (the recorder was down), before the first one
	// that was (a camera that failed to connect since): mark it now.
	upTo := t
	if from, ok, err := r.index.openGapStart(ctx, s.camera); err == nil && ok && from.Before(t) {
		upTo = from
	}
	if s.resumeCause != "" && !s.lastEnd.IsZero() && upTo.Sub(s.lastEnd) > SpanTolerance {
		if err := r.index.MarkGap(ctx, s.camera, s.lastEnd, upTo, s.resumeCause, ""); err != nil {
			r.opts.Log.Error("record: mark gap", "camera", s.camera, "err", err)
		}
	}
	if _, err := r.index.CloseGap(ctx, s.camera, t); err != nil {
		r.opts.Log.Error("record: close gap", "camera", s.camera, "err", err)
	}
	s.resumeCause = ""
	r.update(s.camera, func(st *State) { st.Health, st.Error = HealthRecording, "" })
	return nil
}

func (s *session) write(ctx context.Context, u media.Unit) error {
	if err := s.cur.fw.WriteUnit(u); err != nil {
		g := s.cur
		s.cur = nil
		g.w.Close()
		return s.salvage(ctx, g, err)
	}
	return nil
}

// finish closes the open segment, ending at end, and indexes it.
func (s *session) finish(ctx context.Context, end time.Time) error {
	g := s.cur
	s.cur = nil
	defer s.r.index.clearOpen(s.camera, g.seq)
	err := g.fw.Flush()
	if cerr := g.w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s.salvage(ctx, g, err)
	}
	seg := &Segment{CameraID: s.camera, Seq: g.seq, StreamID: s.streamID, Start: g.start, End: end.UTC().Truncate(time.Microsecond),
		Bytes: g.n, Codec: string(g.codec), Width: g.width, Height: g.height, Key: g.key, Hash: hexSum(g.hash)}
	return s.indexed(ctx, seg)
}

// indexed indexes a closed segment, after any the database refused
// earlier (they are retried in order, so the chain stays contiguous).
func (s *session) indexed(ctx context.Context, seg *Segment) error {
	r := s.r
	s.pending = append(s.pending, seg)
	for len(s.pending) > 0 {
		p := s.pending[0]
		if err := r.index.Append(ctx, p); err != nil {
			// The file stays; the next segment retries, and Recover
			// indexes it at the next start.
			r.fail(s.camera, err)
			r.opts.Log.Error("record: index segment", "camera", s.camera, "key", p.Key, "err", err)
			return nil
		}
		s.pending = s.pending[1:]
		s.lastEnd = p.End
		r.update(s.camera, func(st *State) { st.Segments++; st.Bytes += p.Bytes; st.LastEnd = p.End })
	}
	if r.opts.Now().Sub(s.lastAnchor) >= r.opts.AnchorEvery {
		s.anchorChain(ctx, seg)
	}
	return nil
}

// anchorChain writes the camera's chain head into the audit log.
func (s *session) anchorChain(ctx context.Context, seg *Segment) {
	if s.r.audit == nil {
		return
	}
	_, err := s.r.audit.Append(ctx, audit.Entry{Actor: audit.System, Action: "record.anchor", Object: "camera:" + s.camera,
		Outcome: audit.OK, Details: map[string]any{"camera": s.camera, "seq": seg.Seq, "hash": seg.ChainHash}})
	if err != nil {
		s.r.opts.Log.Error("record: anchor chain head", "camera", s.camera, "err", err)
		return
	}
	s.lastAnchor = s.r.opts.Now()
}

// salvage handles a segment whose writing failed: what reached the disk
// up to the last complete fragment is kept and indexed.
func (s *session) salvage(ctx context.Context, g *segment, cause error) error {
	r := s.r
	r.index.clearOpen(s.camera, g.seq)
	full := errors.Is(cause, storage.ErrFull)
	seg, err := r.repair(ctx, g.key)
	if err != nil {
		r.opts.Log.Error("record: salvage segment", "camera", s.camera, "key", g.key, "err", err)
	} else if seg != nil {
		s.indexed(ctx, seg)
	} else {
		s.seq-- // nothing was kept: the number is free again
	}
	if full {
		s.diskFull(ctx, s.lastEnd, cause)
		return nil
	}
	r.fail(s.camera, cause)
	return fmt.Errorf("record %s: %w", s.camera, cause)
}

// diskFull stops recording until RetryFull has passed: loud, and a gap
// with cause "disk".
func (s *session) diskFull(ctx context.Context, at time.Time, err error) {
	r := s.r
	if !s.full {
		r.opts.Log.Error("record: STORAGE FULL — recording of new footage has stopped; nothing inside retention is deleted to make room. Add storage or shorten retention above the legal minimum.",
			"camera", s.camera, "err", err)
		if at.IsZero() {
			at = r.opts.Now()
		}
		r.index.OpenGap(ctx, s.camera, at, CauseDisk, err.Error())
	}
	s.full = true
	s.retryAt = r.opts.Now().Add(r.opts.RetryFull)
	r.update(s.camera, func(st *State) { st.Health, st.Error = HealthDiskFull, err.Error() })
}

func (r *Recorder) fail(camera string, err error) {
	r.update(camera, func(st *State) { st.Health, st.Error = HealthError, err.Error() })
}

// closeSegment ends the stream: the open segment is closed at the end of
// its last frame, the chain head anchored, and a gap opened with cause.
func (s *session) closeSegment(ctx context.Context, cause string) {
	if s.cur != nil {
		end := s.timeOf(s.lastDTS + s.frameDur)
		seq := s.cur.seq
		if err := s.finish(ctx, end); err != nil {
			s.r.opts.Log.Error("record: close segment", "camera", s.camera, "seq", seq, "err", err)
		}
		if last, ok, err := s.r.index.Last(ctx, s.camera); err == nil && ok {
			s.anchorChain(ctx, &last)
		}
	}
	s.anchored = false
	if !s.full && !s.lastEnd.IsZero() {
		s.r.index.OpenGap(ctx, s.camera, s.lastEnd, cause, causeDetail(cause))
	}
}

// sameParams reports whether two track sets have the same codecs and
// parameter sets (a segment's init segment would be the same).
func sameParams(a, b []media.Track) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Codec != y.Codec || x.ClockRate != y.ClockRate || string(x.SPS) != string(y.SPS) || string(x.PPS) != string(y.PPS) ||
			string(x.VPS) != string(y.VPS) || string(x.AACConfig) != string(y.AACConfig) || x.SampleRate != y.SampleRate || x.Channels != y.Channels {
			return false
		}
	}
	return true
}
