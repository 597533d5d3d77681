package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// H.265 NAL unit types (ITU-T H.265 Table 7-1) and RTP payload structures
// (RFC 7798).
const (
	H265NALTrailN    = 0
	H265NALBLAWLP    = 16
	H265NALIDRWRADL  = 19
	H265NALIDRNLP    = 20
	H265NALCRA       = 21
	H265NALIRAPMax   = 23
	H265NALVPS       = 32
	H265NALSPS       = 33
	H265NALPPS       = 34
	H265NALAUD       = 35
	H265NALEOS       = 36
	H265NALEOB       = 37
	H265NALFD        = 38
	H265NALSEIPrefix = 39
	H265NALSEISuffix = 40
	H265NALAP        = 48
	H265NALFU        = 49
	H265NALPACI      = 50
)

// H265NALType returns the nal_unit_type of an H.265 NAL unit (0 when empty).
func H265NALType(nalu []byte) uint8 {
	if len(nalu) == 0 {
		return 0
	}
	return (nalu[0] >> 1) & 0x3f
}

// H265IsKey reports whether the access unit contains an IRAP picture
// (NAL types 16..23: BLA, IDR, CRA).
func H265IsKey(nalus [][]byte) bool {
	for _, n := range nalus {
		if t := H265NALType(n); t >= H265NALBLAWLP && t <= H265NALIRAPMax {
			return true
		}
	}
	return false
}

// H265SPS is what Vigil reads from an H.265 sequence parameter set.
type H265SPS struct {
	Width, Height                    int // after the conformance window
	GeneralProfileSpace              uint8
	GeneralTierFlag                  uint8
	GeneralProfileIDC                uint8
	GeneralProfileCompatibilityFlags uint32
	GeneralConstraintIndicatorFlags  uint64 // 48 bits
	GeneralLevelIDC                  uint8
	ChromaFormatIDC                  int
	BitDepthLuma, BitDepthChroma     int
	FrameRate                        float64 // from VUI timing; 0 when not signalled or not reached

	MaxSubLayers          int  // sps_max_sub_layers_minus1 + 1
	TemporalIDNesting     bool // sps_temporal_id_nesting_flag
	Log2MaxPicOrderCntLsb int
	MaxNumReorderPics     int // for the highest sub-layer
	MaxDecPicBuffering    int // for the highest sub-layer
}

// profileTierLevel is the general part of profile_tier_level().
type profileTierLevel struct {
	space, tier, profile uint8
	compat               uint32
	constraints          uint64
	level                uint8
}

func parsePTL(r *bitReader, maxSubLayersMinus1 int) profileTierLevel {
	var p profileTierLevel
	p.space, p.tier, p.profile = uint8(r.u(2)), uint8(r.u(1)), uint8(r.u(5))
	p.compat = uint32(r.u(32))
	p.constraints = r.u(48)
	p.level = uint8(r.u(8))
	var prof, lvl [8]bool
	for i := 0; i < maxSubLayersMinus1; i++ {
		prof[i], lvl[i] = r.flag(), r.flag()
	}
	if maxSubLayersMinus1 > 0 {
		r.skip(2 * (8 - maxSubLayersMinus1))
	}
	for i := 0; i < maxSubLayersMinus1; i++ {
		if prof[i] {
			r.skip(88)
		}
		if lvl[i] {
			r.skip(8)
		}
	}
	return p
}

// ParseH265SPS parses an H.265 SPS NAL unit (with its two-byte header).
// FrameRate is read from the VUI when the parse gets that far.
func ParseH265SPS(nalu []byte) (H265SPS, error) {
	var s H265SPS
	if len(nalu) < 3 || H265NALType(nalu) != H265NALSPS {
		return s, errors.New("parse H.265 SPS: not an SPS NAL unit")
	}
	r := &bitReader{b: rbsp(nalu[2:])}
	r.skip(4) // sps_video_parameter_set_id
	msl := int(r.u(3))
	s.MaxSubLayers = msl + 1
	s.TemporalIDNesting = r.flag()
	p := parsePTL(r, msl)
	s.GeneralProfileSpace, s.GeneralTierFlag, s.GeneralProfileIDC = p.space, p.tier, p.profile
	s.GeneralProfileCompatibilityFlags, s.GeneralConstraintIndicatorFlags, s.GeneralLevelIDC = p.compat, p.constraints, p.level
	r.ueMax(15, "sps_seq_parameter_set_id")
	s.ChromaFormatIDC = int(r.ueMax(3, "chroma_format_idc"))
	separate := false
	if s.ChromaFormatIDC == 3 {
		separate = r.flag()
	}
	s.Width = int(r.ueMax(1<<16, "pic_width_in_luma_samples"))
	s.Height = int(r.ueMax(1<<16, "pic_height_in_luma_samples"))
	if r.flag() { // conformance_window_flag
		l, rt := int(r.ueMax(1<<16, "conf_win")), int(r.ueMax(1<<16, "conf_win"))
		t, b := int(r.ueMax(1<<16, "conf_win")), int(r.ueMax(1<<16, "conf_win"))
		subW, subH := 1, 1
		if !separate {
			switch s.ChromaFormatIDC {
			case 1:
				subW, subH = 2, 2
			case 2:
				subW = 2
			}
		}
		s.Width -= subW * (l + rt)
		s.Height -= subH * (t + b)
	}
	s.BitDepthLuma = 8 + int(r.ueMax(8, "bit_depth_luma_minus8"))
	s.BitDepthChroma = 8 + int(r.ueMax(8, "bit_depth_chroma_minus8"))
	s.Log2MaxPicOrderCntLsb = 4 + int(r.ueMax(12, "log2_max_pic_order_cnt_lsb_minus4"))
	first := msl
	if r.flag() { // sps_sub_layer_ordering_info_present_flag
		first = 0
	}
	for i := first; i <= msl; i++ {
		s.MaxDecPicBuffering = int(r.ueMax(16, "sps_max_dec_pic_buffering_minus1")) + 1
		s.MaxNumReorderPics = int(r.ueMax(16, "sps_max_num_reorder_pics"))
		r.ue() // sps_max_latency_increase_plus1
	}
	if r.err != nil {
		return s, fmt.Errorf("parse H.265 SPS: %w", r.err)
	}
	if s.Width <= 0 || s.Height <= 0 {
		return s, fmt.Errorf("parse H.265 SPS: picture size %dx%d", s.Width, s.Height)
	}
	// The rest only leads to the VUI's frame rate; failing there keeps the
	// fields above.
	parseH265SPSTail(r, &s)
	return s, nil
}

func parseH265SPSTail(r *bitReader, s *H265SPS) {
	for i := 0; i < 6; i++ { // log2_min_luma_coding_block_size_minus3 … max_transform_hierarchy_depth_intra
		r.ue()
	}
	if r.flag() && r.flag() { // scaling_list_enabled_flag, sps_scaling_list_data_present_flag
		for sizeID := 0; sizeID < 4; sizeID++ {
			step := 1
			if sizeID == 3 {
				step = 3
			}
			for m := 0; m < 6; m += step {
				if !r.flag() { // scaling_list_pred_mode_flag
					r.ue()
					continue
				}
				coefs := 64
				if c := 1 << (4 + sizeID<<1); c < coefs {
					coefs = c
				}
				if sizeID > 1 {
					r.se()
				}
				for k := 0; k < coefs && r.err == nil; k++ {
					r.se()
				}
			}
		}
	}
	r.skip(2)     // amp_enabled_flag, sample_adaptive_offset_enabled_flag
	if r.flag() { // pcm_enabled_flag
		r.skip(8)
		r.ue()
		r.ue()
		r.skip(1)
	}
	nSets := int(r.ueMax(64, "num_short_term_ref_pic_sets"))
	numDelta := make([]int, nSets)
	for i := 0; i < nSets && r.err == nil; i++ {
		if i != 0 && r.flag() { // inter_ref_pic_set_prediction_flag
			r.skip(1) // delta_rps_sign
			r.ue()    // abs_delta_rps_minus1
			n := 0
			for j := 0; j <= numDelta[i-1] && r.err == nil; j++ {
				if r.flag() || r.flag() { // used_by_curr_pic_flag, else use_delta_flag
					n++
				}
			}
			numDelta[i] = n
			continue
		}
		neg, pos := int(r.ueMax(16, "num_negative_pics")), int(r.ueMax(16, "num_positive_pics"))
		for j := 0; j < neg+pos && r.err == nil; j++ {
			r.ue()
			r.skip(1)
		}
		numDelta[i] = neg + pos
	}
	if r.flag() { // long_term_ref_pics_present_flag
		n := int(r.ueMax(32, "num_long_term_ref_pics_sps"))
		for i := 0; i < n && r.err == nil; i++ {
			r.skip(s.Log2MaxPicOrderCntLsb + 1)
		}
	}
	r.skip(2)                      // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
	if !r.flag() || r.err != nil { // vui_parameters_present_flag
		return
	}
	if r.flag() { // aspect_ratio_info_present_flag
		if r.u(8) == 255 {
			r.skip(32)
		}
	}
	if r.flag() { // overscan_info_present_flag
		r.skip(1)
	}
	if r.flag() { // video_signal_type_present_flag
		r.skip(4)
		if r.flag() {
			r.skip(24)
		}
	}
	if r.flag() { // chroma_loc_info_present_flag
		r.ue()
		r.ue()
	}
	r.skip(3)     // neutral_chroma_indication_flag, field_seq_flag, frame_field_info_present_flag
	if r.flag() { // default_display_window_flag
		for i := 0; i < 4; i++ {
			r.ue()
		}
	}
	if r.flag() { // vui_timing_info_present_flag
		units, scale := r.u(32), r.u(32)
		if r.err == nil && units > 0 && scale > 0 {
			s.FrameRate = float64(scale) / float64(units)
		}
	}
}

// H265ConfigRecord builds the HEVCDecoderConfigurationRecord (ISO/IEC
// 14496-15 8.3.3.1) carried in an MP4 hvcC box: one array each for the VPS,
// SPS and PPS with array_completeness set, and 4-byte NAL lengths.
func H265ConfigRecord(vps, sps, pps []byte) ([]byte, error) {
	s, err := ParseH265SPS(sps)
	if err != nil {
		return nil, fmt.Errorf("hvcC: %w", err)
	}
	if H265NALType(vps) != H265NALVPS || len(vps) < 3 {
		return nil, errors.New("hvcC: not a VPS NAL unit")
	}
	if H265NALType(pps) != H265NALPPS || len(pps) < 3 {
		return nil, errors.New("hvcC: not a PPS NAL unit")
	}
	b := make([]byte, 0, 23+3*5+len(vps)+len(sps)+len(pps))
	b = append(b, 1, s.GeneralProfileSpace<<6|s.GeneralTierFlag<<5|s.GeneralProfileIDC)
	b = binary.BigEndian.AppendUint32(b, s.GeneralProfileCompatibilityFlags)
	c := s.GeneralConstraintIndicatorFlags
	b = append(b, byte(c>>40), byte(c>>32), byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
	b = append(b, s.GeneralLevelIDC, 0xf0, 0x00, 0xfc, 0xfc|byte(s.ChromaFormatIDC),
		0xf8|byte(s.BitDepthLuma-8), 0xf8|byte(s.BitDepthChroma-8), 0, 0)
	nesting := byte(0)
	if s.TemporalIDNesting {
		nesting = 1
	}
	b = append(b, byte(s.MaxSubLayers)<<3|nesting<<2|3, 3)
	for _, ps := range [][]byte{vps, sps, pps} {
		if len(ps) > 0xffff {
			return nil, errors.New("hvcC: parameter set longer than 65535 bytes")
		}
		b = append(b, 0x80|H265NALType(ps), 0, 1)
		b = binary.BigEndian.AppendUint16(b, uint16(len(ps)))
		b = append(b, ps...)
	}
	return b, nil
}
