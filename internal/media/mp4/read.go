package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// Limits on what ReadFile loads into memory.
const (
	maxMoovSize   = 256 << 20
	maxMoofSize   = 64 << 20
	maxSampleSize = 64 << 20
)

// File is what ReadFile learned about an MP4 file.
type File struct {
	Tracks     []Track
	UserData   map[string]string // moov/udta written by FragmentOptions.UserData
	Fragmented bool
	Fragments  []Fragment

	// ValidSize is where the intact part of the file ends: after the last
	// complete fragment of a fragmented file (after moov when there is
	// none), or after the last complete top-level box of a plain one. A
	// recorder truncates a torn segment to it.
	ValidSize int64
	// TailErr says why reading stopped before the end of the file (a torn
	// or corrupt tail); nil when the whole file was read.
	TailErr error
}

// Fragment is one moof+mdat of a fragmented file.
type Fragment struct {
	Sequence uint32
	Offset   int64 // of the moof
	Size     int64 // moof and mdat
}

// ReadFile reads the structure of a fragmented or plain MP4 of size bytes:
// its tracks, every sample's position and timing, and its user data.
// Sample data is not read; see ReadSample and ReadUnit.
func ReadFile(r io.ReaderAt, size int64) (*File, error) {
	var f *File
	var trexs map[uint32]trex
	var next []int64 // per track: decode time after the last fragment
	var off int64
	var tail error
	valid := int64(0)
	for off < size {
		typ, hdr, bsize, err := readHeader(r, off, size)
		if err != nil {
			tail = err
			break
		}
		end := off + bsize
		switch typ {
		case "moov":
			if f != nil {
				return nil, errors.New("mp4: two moov boxes")
			}
			data, err := readBody(r, off+hdr, bsize-hdr, maxMoovSize)
			if err != nil {
				return nil, fmt.Errorf("mp4: moov: %w", err)
			}
			if f, trexs, err = parseMoov(data, size); err != nil {
				return nil, fmt.Errorf("mp4: %w", err)
			}
			next = make([]int64, len(f.Tracks))
		case "moof":
			if f == nil {
				return nil, errors.New("mp4: moof before moov")
			}
			mtyp, mhdr, msize, err := readHeader(r, end, size)
			if err == nil && mtyp != "mdat" {
				err = fmt.Errorf("moof at %d is followed by %q, not mdat", off, mtyp)
			}
			if err == nil {
				var data []byte
				data, err = readBody(r, off+hdr, bsize-hdr, maxMoofSize)
				if err == nil {
					err = f.addFragment(data, off, end+mhdr, end+msize, trexs, next)
				}
			}
			if err != nil {
				tail = fmt.Errorf("fragment at %d: %w", off, err)
				break
			}
			end += msize
		}
		if tail != nil {
			break
		}
		off = end
		valid = off
	}
	if f == nil {
		if tail != nil {
			return nil, fmt.Errorf("mp4: no moov: %w", tail)
		}
		return nil, errors.New("mp4: no moov")
	}
	f.ValidSize = valid
	f.TailErr = tail
	return f, nil
}

// readHeader reads the box header at off, checking that the box fits in
// the file.
func readHeader(r io.ReaderAt, off, size int64) (typ string, hdr, bsize int64, err error) {
	var b [16]byte
	n := int64(16)
	if size-off < n {
		n = size - off
	}
	if n < 8 {
		return "", 0, 0, fmt.Errorf("box header at %d: %w", off, errShort)
	}
	if _, err := r.ReadAt(b[:n], off); err != nil && !errors.Is(err, io.EOF) {
		return "", 0, 0, fmt.Errorf("box header at %d: %w", off, err)
	}
	bsize, hdr = int64(binary.BigEndian.Uint32(b[:])), 8
	typ = string(b[4:8])
	switch bsize {
	case 0:
		bsize = size - off
	case 1:
		if n < 16 {
			return "", 0, 0, fmt.Errorf("box %q at %d largesize: %w", typ, off, errShort)
		}
		bsize, hdr = int64(binary.BigEndian.Uint64(b[8:])), 16
	}
	if bsize < hdr || bsize > size-off {
		return "", 0, 0, fmt.Errorf("box %q at %d: size %d, %d bytes left: %w", typ, off, bsize, size-off, errShort)
	}
	return typ, hdr, bsize, nil
}

func readBody(r io.ReaderAt, off, n, limit int64) ([]byte, error) {
	if n > limit {
		return nil, fmt.Errorf("%d bytes exceed the limit of %d", n, limit)
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && len(b) == int(n)) {
		return nil, err
	}
	return b, nil
}

// addFragment parses one moof (payload data, at moofOff) whose mdat
// payload spans [mdatStart, mdatEnd).
func (f *File) addFragment(data []byte, moofOff, mdatStart, mdatEnd int64, trexs map[uint32]trex, next []int64) error {
	boxes, err := parseBoxes(data)
	if err != nil {
		return err
	}
	frag := Fragment{Offset: moofOff, Size: mdatEnd - moofOff}
	if mfhd := child(boxes, "mfhd"); mfhd != nil {
		r := &reader{b: mfhd.data}
		r.fullHeader()
		frag.Sequence = r.u32()
	}
	added := make([]int, len(f.Tracks)) // to roll back on error
	for i := range f.Tracks {
		added[i] = len(f.Tracks[i].Samples)
	}
	rollback := func(err error) error {
		for i := range f.Tracks {
			f.Tracks[i].Samples = f.Tracks[i].Samples[:added[i]]
		}
		return err
	}
	dataEnd := mdatStart // where the previous traf's data ended
	// Every real sample takes at least a byte of mdat; the budget stops
	// a hostile moof from declaring billions of empty samples.
	budget := mdatEnd - mdatStart + 16
	for _, b := range boxes {
		if b.typ != "traf" {
			continue
		}
		if dataEnd, err = f.addTraf(&b, moofOff, mdatStart, mdatEnd, dataEnd, trexs, next, &budget); err != nil {
			return rollback(err)
		}
	}
	f.Fragments = append(f.Fragments, frag)
	return nil
}

func (f *File) addTraf(traf *box, moofOff, mdatStart, mdatEnd, dataEnd int64, trexs map[uint32]trex, next []int64, budget *int64) (int64, error) {
	kids, err := traf.children()
	if err != nil {
		return 0, err
	}
	tfhd := child(kids, "tfhd")
	if tfhd == nil {
		return 0, errors.New("traf without tfhd")
	}
	r := &reader{b: tfhd.data}
	_, fl := r.fullHeader()
	id := r.u32()
	ti := -1
	for i := range f.Tracks {
		if f.Tracks[i].ID == id {
			ti = i
		}
	}
	if ti < 0 {
		return 0, fmt.Errorf("traf for unknown track %d", id)
	}
	def := trexs[id]
	base := dataEnd
	if fl&0x01 != 0 {
		base = int64(r.u64())
	} else if fl&0x020000 != 0 {
		base = moofOff
	}
	if fl&0x02 != 0 {
		r.u32()
	}
	if fl&0x08 != 0 {
		def.dur = r.u32()
	}
	if fl&0x10 != 0 {
		def.size = r.u32()
	}
	if fl&0x20 != 0 {
		def.flags = r.u32()
	}
	if r.err != nil {
		return 0, fmt.Errorf("tfhd: %w", r.err)
	}
	t := &f.Tracks[ti]
	dts := next[ti]
	if tfdt := child(kids, "tfdt"); tfdt != nil {
		r := &reader{b: tfdt.data}
		if v, _ := r.fullHeader(); v == 1 {
			dts = int64(r.u64())
		} else {
			dts = int64(r.u32())
		}
		if r.err != nil || dts < 0 {
			return 0, errors.New("bad tfdt")
		}
	}
	pos := base
	for _, b := range kids {
		if b.typ != "trun" {
			continue
		}
		r := &reader{b: b.data}
		v, fl := r.fullHeader()
		n := int64(r.u32())
		if fl&0x01 != 0 {
			pos = base + int64(int32(r.u32()))
		}
		firstFlags, hasFirst := uint32(0), fl&0x04 != 0
		if hasFirst {
			firstFlags = r.u32()
		}
		per := 0
		for _, bit := range []uint32{0x100, 0x200, 0x400, 0x800} {
			if fl&bit != 0 {
				per += 4
			}
		}
		if *budget -= n; *budget < 0 {
			return 0, fmt.Errorf("trun: %d samples for %d bytes of mdat", n, mdatEnd-mdatStart)
		}
		if per > 0 && n*int64(per) > int64(len(r.rest())) {
			return 0, fmt.Errorf("trun: %d samples do not fit", n)
		}
		for i := int64(0); i < n; i++ {
			s := Sample{Duration: def.dur, Size: def.size, Offset: pos}
			sfl := def.flags
			if i == 0 && hasFirst {
				sfl = firstFlags
			}
			var cto int64
			if fl&0x100 != 0 {
				s.Duration = r.u32()
			}
			if fl&0x200 != 0 {
				s.Size = r.u32()
			}
			if fl&0x400 != 0 {
				sfl = r.u32()
			}
			if fl&0x800 != 0 {
				if v == 0 {
					cto = int64(r.u32())
				} else {
					cto = int64(int32(r.u32()))
				}
			}
			if r.err != nil {
				return 0, fmt.Errorf("trun: %w", r.err)
			}
			if s.Offset < mdatStart || s.Offset+int64(s.Size) > mdatEnd {
				return 0, fmt.Errorf("sample at %d+%d outside mdat [%d,%d)", s.Offset, s.Size, mdatStart, mdatEnd)
			}
			s.DTS, s.PTS = dts, dts+cto
			s.Key = sfl&0x10000 == 0
			if !t.Codec.IsVideo() {
				s.Key = true
			}
			dts += int64(s.Duration)
			pos += int64(s.Size)
			t.Samples = append(t.Samples, s)
		}
	}
	next[ti] = dts
	return pos, nil
}

// ReadSample reads a sample's bytes.
func ReadSample(r io.ReaderAt, s Sample) ([]byte, error) {
	if s.Size > maxSampleSize {
		return nil, fmt.Errorf("mp4: sample of %d bytes", s.Size)
	}
	b := make([]byte, s.Size)
	if _, err := r.ReadAt(b, s.Offset); err != nil && !(errors.Is(err, io.EOF) && len(b) == int(s.Size)) {
		return nil, fmt.Errorf("mp4: read sample at %d: %w", s.Offset, err)
	}
	return b, nil
}

// ReadUnit reads sample i of track ti as a media.Unit: video samples are
// split into NAL units, audio samples returned as they are.
func (f *File) ReadUnit(r io.ReaderAt, ti, i int) (media.Unit, error) {
	if ti < 0 || ti >= len(f.Tracks) || i < 0 || i >= len(f.Tracks[ti].Samples) {
		return media.Unit{}, fmt.Errorf("mp4: no sample %d of track %d", i, ti)
	}
	t := &f.Tracks[ti]
	s := t.Samples[i]
	b, err := ReadSample(r, s)
	if err != nil {
		return media.Unit{}, err
	}
	u := media.Unit{Track: ti, PTS: s.PTS, DTS: s.DTS, Key: s.Key}
	if t.Codec.IsVideo() {
		if u.NALUs, err = codec.SplitAVCC(b, t.LengthSize); err != nil {
			return media.Unit{}, fmt.Errorf("mp4: track %d sample %d: %w", ti, i, err)
		}
	} else {
		u.Data = b
	}
	return u, nil
}

// MediaTracks returns the tracks as media.Tracks.
func (f *File) MediaTracks() []media.Track {
	out := make([]media.Track, len(f.Tracks))
	for i, t := range f.Tracks {
		out[i] = t.Track
	}
	return out
}
