package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// maxStreamMdat bounds the mdat a StreamReader holds in memory.
const maxStreamMdat = 256 << 20

// StreamReader reads a fragmented MP4 from an io.Reader (a segment being
// uploaded, an HTTP body) one fragment at a time, without seeking.
type StreamReader struct {
	r     io.Reader
	off   int64
	f     *File
	trexs map[uint32]trex
	next  []int64
}

// NewStreamReader reads up to and including the moov box of r.
func NewStreamReader(r io.Reader) (*StreamReader, error) {
	s := &StreamReader{r: r}
	for s.f == nil {
		typ, body, err := s.box(maxMoovSize)
		if err != nil {
			return nil, fmt.Errorf("mp4 stream: before moov: %w", err)
		}
		if typ != "moov" {
			continue
		}
		if s.f, s.trexs, err = parseMoov(body, 1<<62); err != nil {
			return nil, fmt.Errorf("mp4 stream: %w", err)
		}
		for _, t := range s.f.Tracks {
			if len(t.Samples) > 0 {
				return nil, errors.New("mp4 stream: not a fragmented file (samples in moov)")
			}
		}
		s.next = make([]int64, len(s.f.Tracks))
	}
	return s, nil
}

// Tracks returns the file's tracks (without samples).
func (s *StreamReader) Tracks() []Track { return s.f.Tracks }

// UserData returns the file's moov/udta user data.
func (s *StreamReader) UserData() map[string]string { return s.f.UserData }

// Offset returns how many bytes have been consumed: after Next returns
// without error, the end of that fragment.
func (s *StreamReader) Offset() int64 { return s.off }

// Next returns the units of the next fragment, track by track in decode
// order, and io.EOF after the last complete one. A torn last fragment
// gives io.ErrUnexpectedEOF.
func (s *StreamReader) Next() ([]media.Unit, error) {
	for {
		start := s.off
		typ, moof, err := s.box(maxMoofSize)
		if err != nil {
			return nil, err
		}
		if typ != "moof" {
			continue
		}
		typ, mdat, err := s.box(maxStreamMdat)
		if err != nil {
			return nil, unexpected(err)
		}
		if typ != "mdat" {
			return nil, fmt.Errorf("mp4 stream: moof at %d followed by %q", start, typ)
		}
		payload := s.off - int64(len(mdat))
		for i := range s.f.Tracks {
			s.f.Tracks[i].Samples = s.f.Tracks[i].Samples[:0]
		}
		s.f.Fragments = s.f.Fragments[:0]
		if err := s.f.addFragment(moof, start, payload, s.off, s.trexs, s.next); err != nil {
			return nil, fmt.Errorf("mp4 stream: fragment at %d: %w", start, err)
		}
		var units []media.Unit
		for ti, t := range s.f.Tracks {
			for _, smp := range t.Samples {
				b := mdat[smp.Offset-payload : smp.Offset-payload+int64(smp.Size)]
				u := media.Unit{Track: ti, DTS: smp.DTS, PTS: smp.PTS, Key: smp.Key}
				if t.Codec.IsVideo() {
					if u.NALUs, err = codec.SplitAVCC(b, t.LengthSize); err != nil {
						return nil, fmt.Errorf("mp4 stream: track %d: %w", ti, err)
					}
				} else {
					u.Data = b
				}
				units = append(units, u)
			}
		}
		return units, nil
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// box reads the next top-level box whole (its payload, at most limit
// bytes). A clean end of stream before a header gives io.EOF.
func (s *StreamReader) box(limit int64) (string, []byte, error) {
	var h [16]byte
	if _, err := io.ReadFull(s.r, h[:8]); err != nil {
		if errors.Is(err, io.EOF) {
			return "", nil, io.EOF
		}
		return "", nil, unexpected(err)
	}
	size, hdr := int64(binary.BigEndian.Uint32(h[:])), int64(8)
	typ := string(h[4:8])
	if size == 1 {
		if _, err := io.ReadFull(s.r, h[8:16]); err != nil {
			return "", nil, unexpected(err)
		}
		size, hdr = int64(binary.BigEndian.Uint64(h[8:])), 16
	}
	if size == 0 || size < hdr {
		return "", nil, fmt.Errorf("mp4 stream: box %q at %d: size %d unsupported", typ, s.off, size)
	}
	if size-hdr > limit {
		return "", nil, fmt.Errorf("mp4 stream: box %q at %d: %d bytes exceed the limit", typ, s.off, size)
	}
	var body bytes.Buffer
	n, err := io.CopyN(&body, s.r, size-hdr)
	s.off += hdr + n
	if err != nil {
		return "", nil, unexpected(err)
	}
	return typ, body.Bytes(), nil
}
