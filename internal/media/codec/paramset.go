package codec

import "bytes"

// ParamSetTracker follows a video stream's parameter sets and reports when
// they change — a new resolution, profile or encoder setting — so that a
// writer can start a new MP4 initialisation segment. Repeats of the same
// parameter sets (cameras send them before every keyframe) are not changes.
type ParamSetTracker struct {
	v             Video
	vps, sps, pps []byte
}

// NewParamSetTracker returns a tracker for coding v seeded with the
// parameter sets already known (from the SDP, say; any may be nil).
func NewParamSetTracker(v Video, vps, sps, pps []byte) *ParamSetTracker {
	t := &ParamSetTracker{v: v}
	t.vps, t.sps, t.pps = clone(vps), clone(sps), clone(pps)
	return t
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// Update records the parameter sets found in an access unit and reports
// whether any of them differs from the one held before. The first parameter
// set of a kind that was unknown is a change too.
func (t *ParamSetTracker) Update(nalus [][]byte) (changed bool) {
	for _, n := range nalus {
		var dst *[]byte
		switch t.v {
		case H265:
			switch H265NALType(n) {
			case H265NALVPS:
				dst = &t.vps
			case H265NALSPS:
				dst = &t.sps
			case H265NALPPS:
				dst = &t.pps
			}
		default:
			switch H264NALType(n) {
			case H264NALSPS:
				dst = &t.sps
			case H264NALPPS:
				dst = &t.pps
			}
		}
		if dst != nil && !bytes.Equal(*dst, n) {
			*dst = clone(n)
			changed = true
		}
	}
	return changed
}

// Ready reports whether every parameter set the coding needs is known.
func (t *ParamSetTracker) Ready() bool {
	return len(t.sps) > 0 && len(t.pps) > 0 && (t.v != H265 || len(t.vps) > 0)
}

// Params returns the current parameter sets (vps is nil for H.264). The
// slices are the tracker's own: do not modify them.
func (t *ParamSetTracker) Params() (vps, sps, pps []byte) { return t.vps, t.sps, t.pps }
