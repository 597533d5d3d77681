package record

import (
	"context"
	"fmt"
	"time"

	"vigil/internal/store"
)

// ranges is List reading only what coverage needs (start, end, bytes):
// a month of one camera is 8640 rows, and fewer columns scan faster.
func (x *Index) ranges(ctx context.Context, camera string, from, to time.Time) ([]Segment, error) {
	rows, err := x.db.Query(ctx, `SELECT start_us, end_us, bytes FROM segments
		WHERE camera_id = ? AND start_us >= ? AND start_us < ? AND end_us > ? AND deleted_at = 0 ORDER BY start_us`,
		camera, store.Micros(from.Add(-MaxSegmentLength)), store.Micros(to), store.Micros(from))
	if err != nil {
		return nil, fmt.Errorf("list segments of %s: %w", camera, err)
	}
	defer rows.Close()
	out := make([]Segment, 0, 64)
	for rows.Next() {
		var s, e, n int64
		if err := rows.Scan(&s, &e, &n); err != nil {
			return nil, fmt.Errorf("list segments of %s: %w", camera, err)
		}
		out = append(out, Segment{Start: time.UnixMicro(s).UTC(), End: time.UnixMicro(e).UTC(), Bytes: n})
	}
	return out, rows.Err()
}

// SpanTolerance is the largest hole between two segments still counted as
// one continuous span. Segments of one stream abut exactly; the tolerance
// only absorbs rounding.
const SpanTolerance = 100 * time.Millisecond

// Span is a stretch of continuous recording.
type Span struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Segments int       `json:"segments"`
	Bytes    int64     `json:"bytes"`
}

// Coverage is a camera's recording over a range (RET-5): the recorded
// spans (segments merged), the gaps between them with their cause, and
// the share of the range recorded.
type Coverage struct {
	CameraID     string    `json:"camera_id"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	Spans        []Span    `json:"spans"`
	Gaps         []Gap     `json:"gaps"`
	Recorded     float64   `json:"recorded_seconds"`
	Completeness float64   `json:"completeness_percent"`
}

// Coverage answers from the index: an indexed range query, never a walk of
// the storage; the open segment (Open) counts up to its last fragment.
func (x *Index) Coverage(ctx context.Context, camera string, from, to time.Time) (*Coverage, error) {
	segs, err := x.ranges(ctx, camera, from, to)
	if err != nil {
		return nil, err
	}
	// The open segment counts as far as it is written: it plays back.
	if o, ok := x.Open(camera); ok && o.Start.Before(to) && o.End.After(from) && (len(segs) == 0 || o.Start.After(segs[len(segs)-1].Start)) {
		segs = append(segs, o)
	}
	marked, err := x.Gaps(ctx, camera, from, to)
	if err != nil {
		return nil, err
	}
	return buildCoverage(camera, from, to, segs, marked), nil
}

func buildCoverage(camera string, from, to time.Time, segs []Segment, marked []Gap) *Coverage {
	c := &Coverage{CameraID: camera, From: from, To: to, Spans: []Span{}, Gaps: []Gap{}}
	for _, s := range segs {
		st, en := maxTime(s.Start, from), minTime(s.End, to)
		if !en.After(st) {
			continue
		}
		if n := len(c.Spans); n > 0 && st.Sub(c.Spans[n-1].End) <= SpanTolerance {
			sp := &c.Spans[n-1]
			sp.End = maxTime(sp.End, en)
			sp.Segments++
			sp.Bytes += s.Bytes
			continue
		}
		c.Spans = append(c.Spans, Span{Start: st, End: en, Segments: 1, Bytes: s.Bytes})
	}
	c.Spans = carveHoles(c.Spans, marked)
	var recorded time.Duration
	cursor := from
	for _, sp := range c.Spans {
		recorded += sp.End.Sub(sp.Start)
		if sp.Start.Sub(cursor) > SpanTolerance {
			c.Gaps = append(c.Gaps, gapOf(cursor, sp.Start, marked))
		}
		cursor = sp.End
	}
	if to.Sub(cursor) > SpanTolerance {
		c.Gaps = append(c.Gaps, gapOf(cursor, to, marked))
	}
	c.Recorded = recorded.Seconds()
	if total := to.Sub(from); total > 0 {
		c.Completeness = 100 * float64(recorded) / float64(total)
	}
	return c
}

// gapOf is the gap [a, b) with the cause and detail of the marked gap
// overlapping it most.
func gapOf(a, b time.Time, marked []Gap) Gap {
	out, bestLen := Gap{Start: a, End: b, Cause: CauseUnknown}, time.Duration(0)
	for _, g := range marked {
		st, en := maxTime(g.Start, a), minTime(g.End, b)
		if d := en.Sub(st); d > bestLen {
			out.Cause, out.Detail, bestLen = g.Cause, g.Detail, d
		}
	}
	return out
}

// carveHoles cuts the holes the recorder marked inside segments (frames
// missing while the stream went on, RET-5) out of the spans, so that the
// timeline shows them as gaps although a segment covers their time. A span
// cut in two keeps its segment count in both parts and shares its bytes by
// duration.
func carveHoles(spans []Span, marked []Gap) []Span {
	for _, g := range marked {
		if g.Cause != CauseFramesMissing || g.End.Sub(g.Start) <= SpanTolerance {
			continue
		}
		out := spans[:0:0]
		for _, sp := range spans {
			if !g.Start.Before(sp.End) || !g.End.After(sp.Start) {
				out = append(out, sp)
				continue
			}
			total := sp.End.Sub(sp.Start)
			share := func(a, b time.Time) int64 {
				if total <= 0 {
					return 0
				}
				return int64(float64(sp.Bytes) * float64(b.Sub(a)) / float64(total))
			}
			if g.Start.After(sp.Start) {
				out = append(out, Span{Start: sp.Start, End: g.Start, Segments: sp.Segments, Bytes: share(sp.Start, g.Start)})
			}
			if g.End.Before(sp.End) {
				out = append(out, Span{Start: g.End, End: sp.End, Segments: sp.Segments, Bytes: share(g.End, sp.End)})
			}
		}
		spans = out
	}
	return spans
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
