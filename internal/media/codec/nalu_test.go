package codec

import (
	"bytes"
	"testing"
)

func TestSplitAnnexB(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"4-byte", []byte{0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2}, [][]byte{{0x67, 1}, {0x68, 2}}},
		{"3-byte", []byte{0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2}, [][]byte{{0x67, 1}, {0x68, 2}}},
		{"mixed, trailing zeros", []byte{0, 0, 1, 0x65, 0, 0, 0, 0, 0, 0, 1, 0x41, 9, 0, 0}, [][]byte{{0x65}, {0x41, 9}}},
		{"junk before", []byte{9, 9, 0, 0, 1, 0x65, 3}, [][]byte{{0x65, 3}}},
		{"no start code", []byte{0x65, 1, 2}, nil},
		{"empty units", []byte{0, 0, 1, 0, 0, 1, 0x65}, [][]byte{{0x65}}},
		{"emulation prevention kept", []byte{0, 0, 1, 0x65, 0, 0, 3, 1}, [][]byte{{0x65, 0, 0, 3, 1}}},
	}
	for _, c := range cases {
		got := SplitAnnexB(c.in)
		if len(got) != len(c.want) {
			t.Errorf("%s: %x, want %x", c.name, got, c.want)
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], c.want[i]) {
				t.Errorf("%s: unit %d %x, want %x", c.name, i, got[i], c.want[i])
			}
		}
	}
}

func TestAnnexBAVCCRoundTrip(t *testing.T) {
	nalus := [][]byte{{0x67, 1, 2}, {0x68, 3}, {0x65, 0, 0, 1, 4}}[:2]
	nalus = append(nalus, []byte{0x65, 0, 0, 3, 1, 4})
	if got := SplitAnnexB(JoinAnnexB(nalus)); len(got) != 3 || !bytes.Equal(got[2], nalus[2]) {
		t.Errorf("Annex-B round trip: %x", got)
	}
	got, err := SplitAVCC(JoinAVCC(nalus), 4)
	if err != nil || len(got) != 3 || !bytes.Equal(got[2], nalus[2]) {
		t.Errorf("AVCC round trip: %x %v", got, err)
	}
	for _, bad := range []struct {
		b []byte
		n int
	}{{[]byte{0, 0, 0, 5, 1}, 4}, {[]byte{0, 0}, 4}, {[]byte{1, 2}, 3}, {[]byte{0, 3, 1}, 2}} {
		if _, err := SplitAVCC(bad.b, bad.n); err == nil {
			t.Errorf("SplitAVCC(%x, %d) accepted bad input", bad.b, bad.n)
		}
	}
}

func TestSplitAccessUnitsCountsFrames(t *testing.T) {
	for _, enc := range []string{"libx264", "libx265"} {
		stream, _ := encodeClip(t, enc, "320x240", 12, "-bf", "2", "-g", "5")
		v := H264
		if enc == "libx265" {
			v = H265
		}
		aus := SplitAccessUnits(v, SplitAnnexB(stream))
		if len(aus) != 12 {
			t.Fatalf("%s: %d access units, want 12", enc, len(aus))
		}
		keys := 0
		for _, au := range aus {
			if IsKey(v, au) {
				keys++
			}
		}
		if !IsKey(v, aus[0]) || keys < 2 {
			t.Errorf("%s: %d keyframes, first key %v", enc, keys, IsKey(v, aus[0]))
		}
	}
}

func TestCleanAUAndParamSets(t *testing.T) {
	au := [][]byte{{0x09, 0xf0}, {0x67, 1}, {0x68, 2}, {0x0c, 0xff}, {}, {0x65, 1}}
	got := CleanAU(H264, au)
	if len(got) != 3 || H264NALType(got[0]) != H264NALSPS || H264NALType(got[2]) != H264NALIDR {
		t.Errorf("CleanAU H.264: %x", got)
	}
	hau := [][]byte{{0x46, 1, 0x50}, {0x40, 1}, {0x42, 1}, {0x44, 1}, {0x4c, 1}, {0x26, 1, 0xaf}}
	got = CleanAU(H265, hau)
	if len(got) != 4 || !IsParameterSet(H265, got[0]) || !H265IsKey(got) || IsParameterSet(H265, got[3]) {
		t.Errorf("CleanAU H.265: %x", got)
	}
}

func TestParamSetTracker(t *testing.T) {
	tr := NewParamSetTracker(H264, nil, []byte{0x67, 1}, nil)
	if tr.Ready() {
		t.Fatal("ready without a PPS")
	}
	steps := []struct {
		au      [][]byte
		changed bool
	}{
		{[][]byte{{0x67, 1}, {0x68, 1}, {0x65}}, true}, // first PPS
		{[][]byte{{0x67, 1}, {0x68, 1}, {0x65}}, false},
		{[][]byte{{0x41}}, false},
		{[][]byte{{0x67, 2}, {0x68, 1}, {0x65}}, true}, // new SPS
	}
	for i, s := range steps {
		if got := tr.Update(s.au); got != s.changed {
			t.Errorf("step %d: changed %v, want %v", i, got, s.changed)
		}
	}
	if _, sps, _ := tr.Params(); !bytes.Equal(sps, []byte{0x67, 2}) || !tr.Ready() {
		t.Errorf("params %x ready %v", sps, tr.Ready())
	}
	h := NewParamSetTracker(H265, nil, nil, nil)
	h.Update([][]byte{{0x42, 1}, {0x44, 1}})
	if h.Ready() {
		t.Error("H.265 ready without a VPS")
	}
}
