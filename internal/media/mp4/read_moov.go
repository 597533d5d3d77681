package mp4

import (
	"errors"
	"fmt"

	"vigil/internal/media"
)

// Track is one track of a file read by ReadFile.
type Track struct {
	media.Track        // codec, timescale (ClockRate) and parameter sets
	ID          uint32 // track_ID
	Format      string // sample entry type: avc1, hvc1, mp4a, alaw, ...
	LengthSize  int    // video: bytes of each NAL length prefix

	// Edit list: presentation starts at media time EditStart (track
	// ticks) and lasts EditDuration (movie ticks, 0 = to the end);
	// EditEmpty is an initial empty edit (movie ticks).
	EditStart    int64
	EditDuration int64
	EditEmpty    int64

	Samples []Sample // in decode order
}

// Sample locates one sample of a track.
type Sample struct {
	DTS, PTS int64 // track ticks
	Duration uint32
	Key      bool
	Offset   int64 // byte offset of its data in the file
	Size     uint32
}

// parseMoov reads the tracks of a moov box, their sample tables (plain
// MP4) and the trex defaults (fragmented MP4).
func parseMoov(data []byte, fileSize int64) (*File, map[uint32]trex, error) {
	boxes, err := parseBoxes(data)
	if err != nil {
		return nil, nil, fmt.Errorf("moov: %w", err)
	}
	f := &File{}
	movieScale := uint32(movieTimescale)
	if mvhd := child(boxes, "mvhd"); mvhd != nil {
		r := &reader{b: mvhd.data}
		if v, _ := r.fullHeader(); v == 1 {
			r.skip(16)
		} else {
			r.skip(8)
		}
		movieScale = r.u32()
		if r.err != nil || movieScale == 0 {
			return nil, nil, errors.New("moov: bad mvhd")
		}
	}
	for _, b := range boxes {
		if b.typ != "trak" {
			continue
		}
		t, err := parseTrak(&b, fileSize)
		if err != nil {
			return nil, nil, fmt.Errorf("moov: track %d: %w", len(f.Tracks), err)
		}
		f.Tracks = append(f.Tracks, *t)
	}
	if len(f.Tracks) == 0 {
		return nil, nil, errors.New("moov: no tracks")
	}
	trexs := map[uint32]trex{}
	if mvex := child(boxes, "mvex"); mvex != nil {
		f.Fragmented = true
		kids, err := mvex.children()
		if err != nil {
			return nil, nil, err
		}
		for _, k := range kids {
			if k.typ != "trex" {
				continue
			}
			r := &reader{b: k.data}
			r.fullHeader()
			id := r.u32()
			r.u32()
			x := trex{dur: r.u32(), size: r.u32(), flags: r.u32()}
			if r.err != nil {
				return nil, nil, fmt.Errorf("trex: %w", r.err)
			}
			trexs[id] = x
		}
	}
	if ud, err := path(boxes, "udta", "vigl"); err == nil && ud != nil {
		if f.UserData, err = parseUdta(ud.data); err != nil {
			return nil, nil, err
		}
	}
	return f, trexs, nil
}

// trex holds a track's fragment defaults.
type trex struct{ dur, size, flags uint32 }

func parseTrak(trak *box, fileSize int64) (*Track, error) {
	kids, err := trak.children()
	if err != nil {
		return nil, err
	}
	t := &Track{}
	tkhd := child(kids, "tkhd")
	if tkhd == nil {
		return nil, errors.New("no tkhd")
	}
	r := &reader{b: tkhd.data}
	if v, _ := r.fullHeader(); v == 1 {
		r.skip(16)
	} else {
		r.skip(8)
	}
	t.ID = r.u32()
	if r.err != nil {
		return nil, fmt.Errorf("tkhd: %w", r.err)
	}
	mdhd, err := path(kids, "mdia", "mdhd")
	if err != nil || mdhd == nil {
		return nil, fmt.Errorf("no mdhd: %v", err)
	}
	r = &reader{b: mdhd.data}
	if v, _ := r.fullHeader(); v == 1 {
		r.skip(16)
	} else {
		r.skip(8)
	}
	t.ClockRate = int(r.u32())
	if r.err != nil || t.ClockRate <= 0 {
		return nil, errors.New("bad mdhd timescale")
	}
	if elst, _ := path(kids, "edts", "elst"); elst != nil {
		if err := t.parseElst(elst.data); err != nil {
			return nil, err
		}
	}
	stbl, err := path(kids, "mdia", "minf", "stbl")
	if err != nil || stbl == nil {
		return nil, fmt.Errorf("no stbl: %v", err)
	}
	tables, err := stbl.children()
	if err != nil {
		return nil, err
	}
	stsd := child(tables, "stsd")
	if stsd == nil {
		return nil, errors.New("no stsd")
	}
	if err := t.parseStsd(stsd.data); err != nil {
		return nil, fmt.Errorf("stsd: %w", err)
	}
	if err := t.parseSampleTables(tables, fileSize); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Track) parseElst(b []byte) error {
	r := &reader{b: b}
	v, _ := r.fullHeader()
	size := 12
	if v == 1 {
		size = 20
	}
	n := r.count(size)
	for i := 0; i < n; i++ {
		var dur, mt int64
		if v == 1 {
			dur, mt = int64(r.u64()), int64(r.u64())
		} else {
			dur, mt = int64(r.u32()), int64(int32(r.u32()))
		}
		r.u32() // media rate
		if mt == -1 {
			t.EditEmpty += dur
			continue
		}
		t.EditStart, t.EditDuration = mt, dur
		break
	}
	if r.err != nil {
		return fmt.Errorf("elst: %w", r.err)
	}
	return nil
}

// parseStsd reads the first sample entry.
func (t *Track) parseStsd(b []byte) error {
	r := &reader{b: b}
	r.fullHeader()
	if r.u32() == 0 || r.err != nil {
		return errors.New("no sample entry")
	}
	entries, err := parseBoxes(r.rest())
	if err != nil || len(entries) == 0 {
		return fmt.Errorf("sample entry: %v", err)
	}
	e := entries[0]
	t.Format = e.typ
	switch e.typ {
	case "avc1", "avc3", "hvc1", "hev1":
		r := &reader{b: e.data}
		r.skip(24)
		t.Width, t.Height = int(r.u16()), int(r.u16())
		r.skip(50)
		if r.err != nil {
			return fmt.Errorf("%s: %w", e.typ, r.err)
		}
		kids, err := parseBoxes(r.rest())
		if err != nil {
			return fmt.Errorf("%s: %w", e.typ, err)
		}
		if e.typ[0] == 'a' {
			t.Codec = media.H264
			c := child(kids, "avcC")
			if c == nil {
				return errors.New("avc1 without avcC")
			}
			return t.parseAvcC(c.data)
		}
		t.Codec = media.H265
		c := child(kids, "hvcC")
		if c == nil {
			return errors.New("hvc1 without hvcC")
		}
		return t.parseHvcC(c.data)
	case "mp4a", "alaw", "ulaw", "sowt", "fLaC":
		r := &reader{b: e.data}
		r.skip(8)
		version := r.u16()
		r.skip(6)
		t.Channels = int(r.u16())
		r.skip(6)
		t.SampleRate = int(r.u32() >> 16)
		switch version {
		case 1:
			r.skip(16)
		case 2:
			r.skip(36)
		}
		if r.err != nil {
			return fmt.Errorf("%s: %w", e.typ, r.err)
		}
		switch e.typ {
		case "alaw":
			t.Codec = media.PCMA
		case "ulaw":
			t.Codec = media.PCMU
		case "sowt":
			t.Codec = CodecLPCM
		case "fLaC":
			t.Codec = CodecFLAC
		case "mp4a":
			t.Codec = media.AAC
			kids, err := parseBoxes(r.rest())
			if err != nil {
				return fmt.Errorf("mp4a: %w", err)
			}
			esds := child(kids, "esds")
			if esds == nil {
				// QuickTime puts esds inside a wave box.
				if wave := child(kids, "wave"); wave != nil {
					if wk, err := wave.children(); err == nil {
						esds = child(wk, "esds")
					}
				}
			}
			if esds == nil {
				return errors.New("mp4a without esds")
			}
			asc, err := parseESDS(esds.data)
			if err != nil {
				return err
			}
			t.AACConfig = asc
		}
		if t.SampleRate == 0 {
			t.SampleRate = t.ClockRate
		}
	default:
		t.Codec = media.Codec(e.typ) // kept so callers can see what it was
	}
	return nil
}

func (t *Track) parseAvcC(b []byte) error {
	r := &reader{b: b}
	r.skip(4)
	t.LengthSize = int(r.u8()&3) + 1
	nsps := int(r.u8() & 0x1f)
	for i := 0; i < nsps; i++ {
		ps := r.bytes(int(r.u16()))
		if i == 0 {
			t.SPS = ps
		}
	}
	npps := int(r.u8())
	for i := 0; i < npps; i++ {
		ps := r.bytes(int(r.u16()))
		if i == 0 {
			t.PPS = ps
		}
	}
	if r.err != nil {
		return fmt.Errorf("avcC: %w", r.err)
	}
	return nil
}

func (t *Track) parseHvcC(b []byte) error {
	r := &reader{b: b}
	r.skip(21)
	t.LengthSize = int(r.u8()&3) + 1
	arrays := int(r.u8())
	for i := 0; i < arrays; i++ {
		typ := r.u8() & 0x3f
		n := int(r.u16())
		for j := 0; j < n; j++ {
			ps := r.bytes(int(r.u16()))
			if j > 0 || r.err != nil {
				continue
			}
			switch typ {
			case 32:
				t.VPS = ps
			case 33:
				t.SPS = ps
			case 34:
				t.PPS = ps
			}
		}
	}
	if r.err != nil {
		return fmt.Errorf("hvcC: %w", r.err)
	}
	return nil
}

// parseESDS digs the AudioSpecificConfig out of an ES_Descriptor.
func parseESDS(b []byte) ([]byte, error) {
	r := &reader{b: b}
	r.fullHeader()
	// descriptor reads a tag and its expandable size.
	descriptor := func() (byte, int) {
		tag := r.u8()
		n := 0
		for i := 0; i < 4; i++ {
			c := r.u8()
			n = n<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		return tag, n
	}
	if tag, _ := descriptor(); tag != 0x03 {
		return nil, errors.New("esds: no ES_Descriptor")
	}
	r.skip(2)
	fl := r.u8()
	if fl&0x80 != 0 {
		r.skip(2)
	}
	if fl&0x40 != 0 {
		r.skip(int(r.u8()))
	}
	if fl&0x20 != 0 {
		r.skip(2)
	}
	if tag, _ := descriptor(); tag != 0x04 {
		return nil, errors.New("esds: no DecoderConfigDescriptor")
	}
	r.skip(13)
	tag, n := descriptor()
	if tag != 0x05 {
		return nil, errors.New("esds: no DecoderSpecificInfo")
	}
	asc := r.bytes(n)
	if r.err != nil {
		return nil, fmt.Errorf("esds: %w", r.err)
	}
	return asc, nil
}

// parseSampleTables expands a plain MP4's stts/ctts/stss/stsz/stsc/stco
// into samples. Empty tables (a fragmented file's moov) give no samples.
func (t *Track) parseSampleTables(tables []box, fileSize int64) error {
	stsz := child(tables, "stsz")
	if stsz == nil {
		return nil
	}
	r := &reader{b: stsz.data}
	r.fullHeader()
	constSize := r.u32()
	var sizes []uint32
	var n int
	if constSize != 0 {
		n = int(r.u32())
		if uint64(n) > uint64(fileSize) || uint64(n)*uint64(constSize) > uint64(fileSize) {
			return errors.New("stsz: samples larger than the file")
		}
	} else {
		n = r.count(4)
		sizes = make([]uint32, n)
		for i := range sizes {
			sizes[i] = r.u32()
		}
	}
	if r.err != nil {
		return fmt.Errorf("stsz: %w", r.err)
	}
	if n == 0 {
		return nil
	}
	t.Samples = make([]Sample, n)
	for i := range t.Samples {
		if sizes != nil {
			t.Samples[i].Size = sizes[i]
		} else {
			t.Samples[i].Size = constSize
		}
		t.Samples[i].Key = true
	}

	// Decode times.
	stts := child(tables, "stts")
	if stts == nil {
		return errors.New("no stts")
	}
	r = &reader{b: stts.data}
	r.fullHeader()
	var dts int64
	i := 0
	for e, ne := 0, r.count(8); e < ne && i < n; e++ {
		cnt, delta := r.u32(), r.u32()
		for ; cnt > 0 && i < n; cnt-- {
			t.Samples[i].DTS, t.Samples[i].PTS, t.Samples[i].Duration = dts, dts, delta
			dts += int64(delta)
			i++
		}
	}
	if r.err != nil || i < n {
		return fmt.Errorf("stts covers %d of %d samples: %v", i, n, r.err)
	}
	if ctts := child(tables, "ctts"); ctts != nil {
		r = &reader{b: ctts.data}
		r.fullHeader()
		i = 0
		for e, ne := 0, r.count(8); e < ne && i < n; e++ {
			cnt, off := r.u32(), int64(int32(r.u32()))
			for ; cnt > 0 && i < n; cnt-- {
				t.Samples[i].PTS = t.Samples[i].DTS + off
				i++
			}
		}
		if r.err != nil {
			return fmt.Errorf("ctts: %w", r.err)
		}
	}
	if stss := child(tables, "stss"); stss != nil {
		for i := range t.Samples {
			t.Samples[i].Key = false
		}
		r = &reader{b: stss.data}
		r.fullHeader()
		for e, ne := 0, r.count(4); e < ne; e++ {
			if k := int(r.u32()); k >= 1 && k <= n {
				t.Samples[k-1].Key = true
			}
		}
		if r.err != nil {
			return fmt.Errorf("stss: %w", r.err)
		}
	}
	return t.parseChunks(tables, fileSize)
}

// parseChunks assigns file offsets from stsc and stco/co64.
func (t *Track) parseChunks(tables []box, fileSize int64) error {
	var offsets []int64
	if co := child(tables, "co64"); co != nil {
		r := &reader{b: co.data}
		r.fullHeader()
		offsets = make([]int64, r.count(8))
		for i := range offsets {
			offsets[i] = int64(r.u64())
		}
		if r.err != nil {
			return fmt.Errorf("co64: %w", r.err)
		}
	} else if co := child(tables, "stco"); co != nil {
		r := &reader{b: co.data}
		r.fullHeader()
		offsets = make([]int64, r.count(4))
		for i := range offsets {
			offsets[i] = int64(r.u32())
		}
		if r.err != nil {
			return fmt.Errorf("stco: %w", r.err)
		}
	} else {
		return errors.New("no stco/co64")
	}
	stsc := child(tables, "stsc")
	if stsc == nil {
		return errors.New("no stsc")
	}
	r := &reader{b: stsc.data}
	r.fullHeader()
	ne := r.count(12)
	type run struct{ first, per uint32 }
	runs := make([]run, ne)
	for i := range runs {
		runs[i] = run{r.u32(), r.u32()}
		r.u32()
	}
	if r.err != nil {
		return fmt.Errorf("stsc: %w", r.err)
	}
	s := 0
	for ri, rn := range runs {
		last := uint32(len(offsets))
		if ri+1 < len(runs) {
			last = runs[ri+1].first - 1
		}
		if rn.first == 0 || last > uint32(len(offsets)) {
			return errors.New("stsc: chunk out of range")
		}
		for c := rn.first; c <= last && s < len(t.Samples); c++ {
			off := offsets[c-1]
			for k := uint32(0); k < rn.per && s < len(t.Samples); k++ {
				t.Samples[s].Offset = off
				off += int64(t.Samples[s].Size)
				s++
			}
		}
	}
	if s < len(t.Samples) {
		return fmt.Errorf("stsc places %d of %d samples", s, len(t.Samples))
	}
	for i := range t.Samples {
		if t.Samples[i].Offset < 0 || t.Samples[i].Offset+int64(t.Samples[i].Size) > fileSize {
			return fmt.Errorf("sample %d lies outside the file", i)
		}
	}
	return nil
}
