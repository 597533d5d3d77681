package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// H.264 NAL unit types (ITU-T H.264 Table 7-1) and RTP payload structures
// (RFC 6184).
const (
	H264NALSlice   = 1
	H264NALIDR     = 5
	H264NALSEI     = 6
	H264NALSPS     = 7
	H264NALPPS     = 8
	H264NALAUD     = 9
	H264NALEndSeq  = 10
	H264NALEndStrm = 11
	H264NALFiller  = 12
	H264NALSTAPA   = 24
	H264NALSTAPB   = 25
	H264NALMTAP16  = 26
	H264NALMTAP24  = 27
	H264NALFUA     = 28
	H264NALFUB     = 29
)

// H264NALType returns the nal_unit_type of an H.264 NAL unit (0 when empty).
func H264NALType(nalu []byte) uint8 {
	if len(nalu) == 0 {
		return 0
	}
	return nalu[0] & 0x1f
}

// H264IsKey reports whether the access unit contains an IDR slice.
func H264IsKey(nalus [][]byte) bool {
	for _, n := range nalus {
		if H264NALType(n) == H264NALIDR {
			return true
		}
	}
	return false
}

// H264SPS is what Vigil reads from an H.264 sequence parameter set.
type H264SPS struct {
	ProfileIDC, ConstraintFlags, LevelIDC uint8
	ID                                    uint32
	Width, Height                         int     // after frame cropping
	FrameRate                             float64 // from VUI timing; 0 when not signalled
	ChromaFormatIDC                       int
	BitDepthLuma, BitDepthChroma          int

	SeparateColourPlane       bool
	Log2MaxFrameNum           int
	PicOrderCntType           int
	Log2MaxPicOrderCntLsb     int // pic_order_cnt_type 0
	FrameMbsOnly              bool
	MaxNumRefFrames           int
	MaxNumReorderFrames       int  // from VUI bitstream_restriction; -1 when absent
	BitstreamRestriction      bool // whether MaxNumReorderFrames was signalled
	TimingInfoPresent         bool
	NumUnitsInTick, TimeScale uint32
}

// highProfile reports whether profile_idc carries chroma_format_idc and
// friends in the SPS (H.264 7.3.2.1.1).
func highProfile(p uint8) bool {
	switch p {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		return true
	}
	return false
}

// ParseH264SPS parses an H.264 SPS NAL unit (with its one-byte header).
func ParseH264SPS(nalu []byte) (H264SPS, error) {
	var s H264SPS
	if len(nalu) < 4 || H264NALType(nalu) != H264NALSPS {
		return s, errors.New("parse H.264 SPS: not an SPS NAL unit")
	}
	r := &bitReader{b: rbsp(nalu[1:])}
	s.ProfileIDC, s.ConstraintFlags, s.LevelIDC = uint8(r.u(8)), uint8(r.u(8)), uint8(r.u(8))
	s.ID = r.ueMax(31, "seq_parameter_set_id")
	s.ChromaFormatIDC, s.BitDepthLuma, s.BitDepthChroma = 1, 8, 8
	if highProfile(s.ProfileIDC) {
		s.ChromaFormatIDC = int(r.ueMax(3, "chroma_format_idc"))
		if s.ChromaFormatIDC == 3 {
			s.SeparateColourPlane = r.flag()
		}
		s.BitDepthLuma = 8 + int(r.ueMax(6, "bit_depth_luma_minus8"))
		s.BitDepthChroma = 8 + int(r.ueMax(6, "bit_depth_chroma_minus8"))
		r.skip(1)     // qpprime_y_zero_transform_bypass_flag
		if r.flag() { // seq_scaling_matrix_present_flag
			n := 8
			if s.ChromaFormatIDC == 3 {
				n = 12
			}
			for i := 0; i < n && r.err == nil; i++ {
				if r.flag() {
					size := 16
					if i >= 6 {
						size = 64
					}
					skipScalingList(r, size)
				}
			}
		}
	}
	s.Log2MaxFrameNum = 4 + int(r.ueMax(12, "log2_max_frame_num_minus4"))
	s.PicOrderCntType = int(r.ueMax(2, "pic_order_cnt_type"))
	switch s.PicOrderCntType {
	case 0:
		s.Log2MaxPicOrderCntLsb = 4 + int(r.ueMax(12, "log2_max_pic_order_cnt_lsb_minus4"))
	case 1:
		r.skip(1) // delta_pic_order_always_zero_flag
		r.se()    // offset_for_non_ref_pic
		r.se()    // offset_for_top_to_bottom_field
		n := r.ueMax(255, "num_ref_frames_in_pic_order_cnt_cycle")
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.se()
		}
	}
	s.MaxNumRefFrames = int(r.ueMax(16, "max_num_ref_frames"))
	r.skip(1) // gaps_in_frame_num_value_allowed_flag
	wMbs := int(r.ueMax(1<<16, "pic_width_in_mbs_minus1")) + 1
	hMap := int(r.ueMax(1<<16, "pic_height_in_map_units_minus1")) + 1
	s.FrameMbsOnly = r.flag()
	if !s.FrameMbsOnly {
		r.skip(1) // mb_adaptive_frame_field_flag
	}
	r.skip(1) // direct_8x8_inference_flag
	frameMul := 2
	if s.FrameMbsOnly {
		frameMul = 1
	}
	s.Width, s.Height = wMbs*16, frameMul*hMap*16
	if r.flag() { // frame_cropping_flag
		l, rt := int(r.ueMax(1<<16, "frame_crop")), int(r.ueMax(1<<16, "frame_crop"))
		t, b := int(r.ueMax(1<<16, "frame_crop")), int(r.ueMax(1<<16, "frame_crop"))
		cx, cy := 1, frameMul
		if !s.SeparateColourPlane && s.ChromaFormatIDC != 0 {
			subW, subH := 2, 2
			switch s.ChromaFormatIDC {
			case 2:
				subH = 1
			case 3:
				subW, subH = 1, 1
			}
			cx, cy = subW, subH*frameMul
		}
		s.Width -= cx * (l + rt)
		s.Height -= cy * (t + b)
	}
	if r.err != nil {
		return s, fmt.Errorf("parse H.264 SPS: %w", r.err)
	}
	if s.Width <= 0 || s.Height <= 0 {
		return s, fmt.Errorf("parse H.264 SPS: cropping leaves %dx%d", s.Width, s.Height)
	}
	s.MaxNumReorderFrames = -1
	if r.flag() { // vui_parameters_present_flag
		parseH264VUI(r, &s)
		if r.err != nil {
			// A truncated or odd VUI leaves the picture size intact; keep
			// what was read and forget the VUI.
			s.FrameRate, s.TimingInfoPresent, s.BitstreamRestriction, s.MaxNumReorderFrames = 0, false, false, -1
		}
	}
	return s, nil
}

func skipScalingList(r *bitReader, size int) {
	last, next := int32(8), int32(8)
	for j := 0; j < size && r.err == nil; j++ {
		if next != 0 {
			next = (last + r.se() + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}

func parseH264VUI(r *bitReader, s *H264SPS) {
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
	if r.flag() { // timing_info_present_flag
		s.NumUnitsInTick, s.TimeScale = uint32(r.u(32)), uint32(r.u(32))
		r.skip(1) // fixed_frame_rate_flag
		if r.err == nil && s.NumUnitsInTick > 0 && s.TimeScale > 0 {
			s.TimingInfoPresent = true
			s.FrameRate = float64(s.TimeScale) / float64(2*uint64(s.NumUnitsInTick))
		}
	}
	nal, vcl := r.flag(), false
	if nal {
		skipH264HRD(r)
	}
	vcl = r.flag()
	if vcl {
		skipH264HRD(r)
	}
	if nal || vcl {
		r.skip(1) // low_delay_hrd_flag
	}
	r.skip(1)     // pic_struct_present_flag
	if r.flag() { // bitstream_restriction_flag
		r.skip(1)
		for i := 0; i < 4; i++ {
			r.ue()
		}
		reorder := r.ueMax(16, "max_num_reorder_frames")
		r.ue() // max_dec_frame_buffering
		if r.err == nil {
			s.BitstreamRestriction, s.MaxNumReorderFrames = true, int(reorder)
		}
	}
}

func skipH264HRD(r *bitReader) {
	n := r.ueMax(31, "cpb_cnt_minus1") + 1
	r.skip(8)
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.ue()
		r.ue()
		r.skip(1)
	}
	r.skip(20)
}

// H264ConfigRecord builds the AVCDecoderConfigurationRecord (ISO/IEC
// 14496-15 5.3.3.1) carried in an MP4 avcC box, with 4-byte NAL lengths.
func H264ConfigRecord(sps, pps []byte) ([]byte, error) {
	s, err := ParseH264SPS(sps)
	if err != nil {
		return nil, fmt.Errorf("avcC: %w", err)
	}
	if len(pps) == 0 || H264NALType(pps) != H264NALPPS {
		return nil, errors.New("avcC: not a PPS NAL unit")
	}
	if len(sps) > 0xffff || len(pps) > 0xffff {
		return nil, errors.New("avcC: parameter set longer than 65535 bytes")
	}
	b := []byte{1, sps[1], sps[2], sps[3], 0xfc | 3, 0xe0 | 1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	b = append(b, pps...)
	switch s.ProfileIDC {
	case 100, 110, 122, 144:
		b = append(b, 0xfc|byte(s.ChromaFormatIDC), 0xf8|byte(s.BitDepthLuma-8), 0xf8|byte(s.BitDepthChroma-8), 0)
	}
	return b, nil
}
