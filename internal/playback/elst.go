package playback

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// elstPatcher passes a FragmentWriter's output through, inserting into
// the init segment (its first write: ftyp and moov) an edit list per
// track that starts presentation at mediaTime. The fragments that follow
// are untouched.
type elstPatcher struct {
	w         io.Writer
	mediaTime []int64 // per track: where presentation starts, in its ticks
	duration  time.Duration
	done      bool
}

func (p *elstPatcher) Write(b []byte) (int, error) {
	if p.done {
		return p.w.Write(b)
	}
	p.done = true
	out, err := patchInit(b, p.mediaTime, p.duration)
	if err != nil {
		return 0, fmt.Errorf("edit list: %w", err)
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// movieTimescale is the mvhd timescale mp4 writes.
const movieTimescale = 1000

// patchInit returns init with an edts box after each trak's tkhd and a
// mehd box giving the duration.
func patchInit(init []byte, mediaTime []int64, duration time.Duration) ([]byte, error) {
	var out []byte
	off := 0
	for off < len(init) {
		size, typ, err := boxAt(init, off)
		if err != nil {
			return nil, err
		}
		box := init[off : off+size]
		if typ == "moov" {
			moov, err := patchMoov(box, mediaTime, duration)
			if err != nil {
				return nil, err
			}
			box = moov
		}
		out = append(out, box...)
		off += size
	}
	return out, nil
}

func boxAt(b []byte, off int) (int, string, error) {
	if len(b)-off < 8 {
		return 0, "", errors.New("short box header")
	}
	size := int(binary.BigEndian.Uint32(b[off:]))
	if size < 8 || off+size > len(b) {
		return 0, "", fmt.Errorf("box size %d at %d of %d", size, off, len(b))
	}
	return size, string(b[off+4 : off+8]), nil
}

func patchMoov(moov []byte, mediaTime []int64, duration time.Duration) ([]byte, error) {
	body := []byte{}
	ti := 0
	for off := 8; off < len(moov); {
		size, typ, err := boxAt(moov, off)
		if err != nil {
			return nil, err
		}
		box := moov[off : off+size]
		if typ == "mvex" {
			// mehd: the fragments' total duration, so players know it
			// before reading them.
			mehd := []byte{0, 0, 0, 0}
			mehd = binary.BigEndian.AppendUint32(mehd, uint32(duration.Milliseconds()))
			box = wrap("mvex", append(wrap("mehd", mehd), box[8:]...))
		}
		if typ == "trak" {
			if ti >= len(mediaTime) {
				return nil, errors.New("more traks than tracks")
			}
			if box, err = patchTrak(box, mediaTime[ti], duration); err != nil {
				return nil, err
			}
			ti++
		}
		body = append(body, box...)
		off += size
	}
	return wrap("moov", body), nil
}

func patchTrak(trak []byte, mediaTime int64, duration time.Duration) ([]byte, error) {
	body := []byte{}
	for off := 8; off < len(trak); {
		size, typ, err := boxAt(trak, off)
		if err != nil {
			return nil, err
		}
		body = append(body, trak[off:off+size]...)
		if typ == "tkhd" {
			body = append(body, edts(mediaTime, duration)...)
		}
		off += size
	}
	return wrap("trak", body), nil
}

// edts is an edit list of one edit: from mediaTime, for duration.
func edts(mediaTime int64, duration time.Duration) []byte {
	elst := make([]byte, 0, 28)
	elst = append(elst, 1, 0, 0, 0) // version 1, flags 0
	elst = binary.BigEndian.AppendUint32(elst, 1)
	elst = binary.BigEndian.AppendUint64(elst, uint64(duration.Milliseconds()))
	elst = binary.BigEndian.AppendUint64(elst, uint64(mediaTime))
	elst = binary.BigEndian.AppendUint32(elst, 0x00010000)
	return wrap("edts", wrap("elst", elst))
}

func wrap(typ string, body []byte) []byte {
	b := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint32(b, uint32(8+len(body)))
	copy(b[4:], typ)
	return append(b, body...)
}
