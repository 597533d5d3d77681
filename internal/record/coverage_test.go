package record

import (
	"testing"
	"time"
)

// TestCoverageShowsHolesInsideSegments_RET5: a segment covers 0–60 s but
// the recorder marked 2 s of missing frames inside it, and the camera was
// offline before it. The timeline shows both as gaps, each with its cause
// and detail; the recorded time excludes the hole.
func TestCoverageShowsHolesInsideSegments_RET5(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	segs := []Segment{{Start: at(10), End: at(70), Bytes: 6000}}
	marked := []Gap{
		{Start: at(0), End: at(10), Cause: CauseCameraOffline, Detail: "dial tcp: connection refused"},
		{Start: at(30), End: at(32), Cause: CauseFramesMissing, Detail: "no video for 2s"},
		{Start: at(50), End: at(50), Cause: "timestamp_jump", Detail: "+1h"}, // a zero-length discontinuity: no hole
	}
	c := buildCoverage("cam", at(0), at(70), segs, marked)
	if len(c.Spans) != 2 || !c.Spans[0].End.Equal(at(30)) || !c.Spans[1].Start.Equal(at(32)) {
		t.Fatalf("spans %+v, want 10–30 and 32–70", c.Spans)
	}
	if len(c.Gaps) != 2 {
		t.Fatalf("gaps %+v, want the offline start and the hole", c.Gaps)
	}
	if g := c.Gaps[0]; g.Cause != CauseCameraOffline || g.Detail == "" || !g.End.Equal(at(10)) {
		t.Errorf("first gap %+v", g)
	}
	if g := c.Gaps[1]; g.Cause != CauseFramesMissing || g.Detail != "no video for 2s" || !g.Start.Equal(at(30)) || !g.End.Equal(at(32)) {
		t.Errorf("hole %+v", g)
	}
	if c.Recorded != 58 {
		t.Errorf("recorded %.1f s, want 58", c.Recorded)
	}
	if b := c.Spans[0].Bytes + c.Spans[1].Bytes; b < 5790 || b > 5810 {
		t.Errorf("bytes of the spans %d, want the segment's less the hole's share (~5800)", b)
	}
}
