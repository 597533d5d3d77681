package codec

import (
	"fmt"
	"sort"
)

// dtsReorder turns presentation timestamps in decode order into decode
// timestamps, given the stream's reorder depth R (max_num_reorder_frames,
// sps_max_num_reorder_pics): no picture has more than R pictures before it in
// decode order and after it in output order, so once R+1 pictures wait, the
// smallest of their PTS belongs to the next picture in output order and is a
// decode time that never passes the current PTS and never decreases. Until R+1
// pictures have arrived, DTS is the first PTS minus the missing pictures'
// durations.
type dtsReorder struct {
	reorder  int
	frameDur int64   // ticks per picture, for the first R pictures
	pending  []int64 // sorted PTS not yet used as a DTS
	popped   bool
	started  bool
	first    int64
	count    int
	prev     int64
}

func (d *dtsReorder) next(pts int64) (int64, error) {
	if d.started && pts < d.prev {
		return 0, fmt.Errorf("DTS: PTS %d is before the previous DTS %d (reordering deeper than %d pictures)", pts, d.prev, d.reorder)
	}
	i := sort.Search(len(d.pending), func(i int) bool { return d.pending[i] > pts })
	d.pending = append(d.pending, 0)
	copy(d.pending[i+1:], d.pending[i:])
	d.pending[i] = pts
	if !d.started {
		d.started, d.first = true, pts
	}
	d.count++
	var dts int64
	switch {
	case len(d.pending) > d.reorder:
		// More than one only when a new SPS lowered the depth.
		dts = d.pending[0]
		d.pending = d.pending[len(d.pending)-d.reorder:]
		d.popped = true
	case !d.popped:
		dts = d.first - int64(d.reorder+1-d.count)*d.frameDur
	default: // the reorder depth grew mid-stream: hold the decode clock
		dts = d.prev
	}
	if d.count > 1 && dts < d.prev {
		dts = d.prev
	}
	if dts > pts {
		dts = pts
	}
	d.prev = dts
	return dts, nil
}

func frameDur90k(fps float64) int64 {
	if fps < 1 || fps > 240 {
		return 3600 // 25 fps, the PAL rate Chinese cameras default to
	}
	return int64(90000/fps + 0.5)
}

// H264DTSExtractor derives decode timestamps for an H.264 stream whose
// access units arrive in decode order with 90 kHz presentation timestamps.
//
// The reorder depth comes from the SPS's VUI (max_num_reorder_frames); it is
// 0 for pic_order_cnt_type 2 and the Baseline profile. When the SPS does not
// signal it, the extractor watches picture order counts (type 0) and grows
// the depth when a picture skips ahead of the ones still to come, holding the
// decode clock for that picture.
type H264DTSExtractor struct {
	sps     *H264SPS
	d       dtsReorder
	adapt   bool
	prevMsb int
	prevLsb int
	maxPOC  int
	seenIDR bool
}

// NewH264DTSExtractor returns an extractor; it learns the SPS from the
// access units or from SetSPS.
func NewH264DTSExtractor() *H264DTSExtractor { return &H264DTSExtractor{} }

// SetSPS tells the extractor the stream's SPS (from the SDP, say).
func (e *H264DTSExtractor) SetSPS(nalu []byte) error {
	s, err := ParseH264SPS(nalu)
	if err != nil {
		return err
	}
	e.sps = &s
	e.d.frameDur = frameDur90k(s.FrameRate)
	e.adapt = false
	switch {
	case s.BitstreamRestriction:
		e.d.reorder = s.MaxNumReorderFrames
	case s.PicOrderCntType == 2 || s.ProfileIDC == 66:
		e.d.reorder = 0
	case s.PicOrderCntType == 1:
		e.d.reorder = 2 // not tracked; enough for the IBBP patterns cameras use
	default:
		e.adapt = true
	}
	return nil
}

// Extract returns the decode timestamp of the access unit nalus with
// presentation timestamp pts.
func (e *H264DTSExtractor) Extract(nalus [][]byte, pts int64) (int64, error) {
	var slice []byte
	idr := false
	for _, n := range nalus {
		switch H264NALType(n) {
		case H264NALSPS:
			// An SPS we cannot read leaves what we knew (or, with nothing
			// known, DTS = PTS) rather than failing every access unit.
			_ = e.SetSPS(n)
		case H264NALIDR:
			idr = true
			fallthrough
		case H264NALSlice:
			if slice == nil {
				slice = n
			}
		}
	}
	if e.sps == nil {
		return pts, nil // nothing known: assume no reordering
	}
	if e.adapt && slice != nil {
		if poc, ok := e.poc(slice, idr); ok {
			if idr {
				e.maxPOC = poc
			} else if poc > e.maxPOC {
				// Pictures whose POC lies between maxPOC and poc are still
				// to come; they each need a slot of reordering.
				step := 2
				if !e.sps.FrameMbsOnly {
					step = 1
				}
				if missing := (poc-e.maxPOC)/step - 1; missing > e.d.reorder {
					e.d.reorder = min(missing, 16)
				}
				e.maxPOC = poc
			}
		}
	}
	dts, err := e.d.next(pts)
	if err != nil {
		return 0, fmt.Errorf("H.264 %w", err)
	}
	return dts, nil
}

// poc computes the picture order count of a slice for pic_order_cnt_type 0.
func (e *H264DTSExtractor) poc(slice []byte, idr bool) (int, bool) {
	s := e.sps
	if s.PicOrderCntType != 0 || len(slice) < 2 {
		return 0, false
	}
	hdr := slice[0]
	r := &bitReader{b: rbsp(slice[1:min(len(slice), 64)])}
	r.ue() // first_mb_in_slice
	r.ue() // slice_type
	r.ue() // pic_parameter_set_id
	if s.SeparateColourPlane {
		r.skip(2)
	}
	r.skip(s.Log2MaxFrameNum)
	if !s.FrameMbsOnly && r.flag() { // field_pic_flag
		r.skip(1)
	}
	if idr {
		r.ue() // idr_pic_id
	}
	lsb := int(r.u(s.Log2MaxPicOrderCntLsb))
	if r.err != nil {
		return 0, false
	}
	if idr {
		e.prevMsb, e.prevLsb = 0, 0
	}
	max := 1 << s.Log2MaxPicOrderCntLsb
	msb := e.prevMsb
	switch {
	case lsb < e.prevLsb && e.prevLsb-lsb >= max/2:
		msb += max
	case lsb > e.prevLsb && lsb-e.prevLsb > max/2:
		msb -= max
	}
	if hdr&0x60 != 0 { // a reference picture anchors the next computation
		e.prevMsb, e.prevLsb = msb, lsb
	}
	return msb + lsb, true
}

// H265DTSExtractor derives decode timestamps for an H.265 stream whose
// access units arrive in decode order with 90 kHz presentation timestamps,
// from the SPS's sps_max_num_reorder_pics.
type H265DTSExtractor struct {
	d     dtsReorder
	known bool
}

// NewH265DTSExtractor returns an extractor; it learns the SPS from the
// access units or from SetSPS.
func NewH265DTSExtractor() *H265DTSExtractor { return &H265DTSExtractor{} }

// SetSPS tells the extractor the stream's SPS.
func (e *H265DTSExtractor) SetSPS(nalu []byte) error {
	s, err := ParseH265SPS(nalu)
	if err != nil {
		return err
	}
	e.known = true
	e.d.reorder = s.MaxNumReorderPics
	e.d.frameDur = frameDur90k(s.FrameRate)
	return nil
}

// Extract returns the decode timestamp of the access unit nalus with
// presentation timestamp pts.
func (e *H265DTSExtractor) Extract(nalus [][]byte, pts int64) (int64, error) {
	for _, n := range nalus {
		if H265NALType(n) == H265NALSPS {
			_ = e.SetSPS(n) // as for H.264: an unreadable SPS changes nothing
		}
	}
	if !e.known {
		return pts, nil
	}
	dts, err := e.d.next(pts)
	if err != nil {
		return 0, fmt.Errorf("H.265 %w", err)
	}
	return dts, nil
}
