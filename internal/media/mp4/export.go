package mp4

import (
	"errors"
	"fmt"
	"io"
	"time"

	"vigil/internal/media"
)

// MP4Options tune WriteMP4.
type MP4Options struct {
	// Start is where playback starts, measured from the first picture
	// (the lowest PTS of the first video track, else of the first
	// track). Samples before it — the pre-roll from the previous
	// keyframe — are stored, so the decoder can reach the start, but an
	// edit list hides them: players begin at Start and report the
	// duration from Start on.
	Start time.Duration
	// UserData is stored in moov/udta, as with FragmentOptions.
	UserData map[string]string
}

// SampleData returns the bytes of sample i of track ti, as stored (AVCC
// for video); WriteMP4Samples checks them against Sample.Size.
type SampleData func(ti, i int) ([]byte, error)

// chunk is a run of one track's consecutive samples stored together.
type chunk struct {
	track, first, n int
	off             int64 // relative to the mdat payload
}

// WriteMP4 writes a plain (non-fragmented) MP4 with the moov first
// ("faststart"), holding units[i] (decode order; Unit.Track is ignored)
// for tracks[i]. It keeps every unit in memory; for long exports use
// WriteMP4Samples.
func WriteMP4(w io.Writer, tracks []media.Track, units [][]media.Unit, opts MP4Options) error {
	if len(units) != len(tracks) {
		return fmt.Errorf("mp4 export: %d unit lists for %d tracks", len(units), len(tracks))
	}
	samples := make([][]Sample, len(tracks))
	data := make([][][]byte, len(tracks))
	for ti, us := range units {
		for _, u := range us {
			b := u.Data
			if tracks[ti].Codec.IsVideo() {
				b = avccSample(tracks[ti].Codec, u.NALUs)
			}
			samples[ti] = append(samples[ti], Sample{DTS: u.DTS, PTS: u.PTS, Key: u.Key || !tracks[ti].Codec.IsVideo(), Size: uint32(len(b))})
			data[ti] = append(data[ti], b)
		}
	}
	return WriteMP4Samples(w, tracks, samples, func(ti, i int) ([]byte, error) { return data[ti][i], nil }, opts)
}

// WriteMP4Samples is WriteMP4 for samples whose bytes are fetched one at a
// time (e.g. with ReadSample from recorded segments). Only DTS, PTS, Key
// and Size of the samples are used; durations follow from the DTS.
func WriteMP4Samples(w io.Writer, tracks []media.Track, samples [][]Sample, data SampleData, opts MP4Options) error {
	specs, err := resolveTracks(tracks)
	if err != nil {
		return fmt.Errorf("mp4 export: %w", err)
	}
	if len(samples) != len(specs) {
		return fmt.Errorf("mp4 export: %d sample lists for %d tracks", len(samples), len(specs))
	}
	for ti, ss := range samples {
		if len(ss) == 0 {
			return fmt.Errorf("mp4 export: track %d has no samples", ti)
		}
	}
	chunks, dataLen := layoutChunks(specs, samples)

	var ftyp boxWriter
	writeFtyp(&ftyp, "isom", "isom", "iso2", "avc1", "mp41")
	// Build moov once to learn its size, then with the real offsets.
	build := func(base int64, co64 bool) ([]byte, error) {
		mw := &boxWriter{}
		if err := writeExportMoov(mw, specs, samples, chunks, base, co64, opts); err != nil {
			return nil, err
		}
		return mw.b, nil
	}
	moov, err := build(0, false)
	if err != nil {
		return fmt.Errorf("mp4 export: %w", err)
	}
	co64 := int64(len(ftyp.b))+2*int64(len(moov))+dataLen+16 > 0xffffffff
	if co64 {
		if moov, err = build(0, true); err != nil {
			return fmt.Errorf("mp4 export: %w", err)
		}
	}
	hdr := mdatHeader(dataLen)
	base := int64(len(ftyp.b)+len(moov)) + int64(len(hdr))
	if moov, err = build(base, co64); err != nil {
		return fmt.Errorf("mp4 export: %w", err)
	}
	for _, b := range [][]byte{ftyp.b, moov, hdr} {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("mp4 export: %w", err)
		}
	}
	for _, c := range chunks {
		for i := c.first; i < c.first+c.n; i++ {
			b, err := data(c.track, i)
			if err != nil {
				return fmt.Errorf("mp4 export: track %d sample %d: %w", c.track, i, err)
			}
			if len(b) != int(samples[c.track][i].Size) {
				return fmt.Errorf("mp4 export: track %d sample %d: %d bytes, expected %d", c.track, i, len(b), samples[c.track][i].Size)
			}
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("mp4 export: %w", err)
			}
		}
	}
	return nil
}

// layoutChunks interleaves the tracks in decode-time order, in chunks of
// at most half a second of one track.
func layoutChunks(specs []trackSpec, samples [][]Sample) ([]chunk, int64) {
	next := make([]int, len(samples))
	var chunks []chunk
	var off int64
	for {
		// The track whose next sample decodes first.
		best := -1
		for ti := range samples {
			if next[ti] >= len(samples[ti]) {
				continue
			}
			if best < 0 || seconds(samples[ti][next[ti]].DTS-samples[ti][0].DTS, specs[ti].timescale) <
				seconds(samples[best][next[best]].DTS-samples[best][0].DTS, specs[best].timescale) {
				best = ti
			}
		}
		if best < 0 {
			return chunks, off
		}
		ss := samples[best]
		c := chunk{track: best, first: next[best], off: off}
		limit := ss[c.first].DTS + int64(specs[best].timescale)/2
		for i := c.first; i < len(ss) && (i == c.first || ss[i].DTS < limit); i++ {
			off += int64(ss[i].Size)
			c.n++
		}
		next[best] += c.n
		chunks = append(chunks, c)
	}
}

func seconds(ticks int64, scale uint32) float64 { return float64(ticks) / float64(scale) }

// durations returns each sample's duration from the DTS of the next; the
// last sample takes its predecessor's.
func durations(s *trackSpec, ss []Sample) []uint32 {
	d := make([]uint32, len(ss))
	for i := 0; i+1 < len(ss); i++ {
		d[i] = uint32(max(ss[i+1].DTS-ss[i].DTS, 1))
	}
	if len(ss) > 1 {
		d[len(ss)-1] = d[len(ss)-2]
	} else {
		d[0] = s.defaultDuration(int(ss[0].Size))
	}
	return d
}

func writeExportMoov(w *boxWriter, specs []trackSpec, samples [][]Sample, chunks []chunk, base int64, co64 bool, opts MP4Options) error {
	// The reference start: lowest PTS of the first video track (else track
	// 0), plus Start.
	ref := 0
	for i := range specs {
		if specs[i].video() {
			ref = i
			break
		}
	}
	refPTS := samples[ref][0].PTS
	for _, s := range samples[ref] {
		refPTS = min(refPTS, s.PTS)
	}
	refScale := int64(specs[ref].timescale)
	startRef := refPTS + rescale(int64(opts.Start), int64(time.Second), refScale)

	type edit struct{ empty, dur, mediaTime int64 }
	edits := make([]edit, len(specs))
	durs := make([][]uint32, len(specs))
	var movieDur int64
	for ti := range specs {
		s, ss := &specs[ti], samples[ti]
		scale := int64(s.timescale)
		durs[ti] = durations(s, ss)
		d0 := ss[0].DTS
		first, end := ss[0].PTS, int64(0)
		for i, x := range ss {
			first = min(first, x.PTS)
			end = max(end, x.PTS+int64(durs[ti][i]))
		}
		start := rescale(startRef, refScale, scale)
		var e edit
		if start >= first {
			e.mediaTime = start - d0
		} else {
			e.empty = rescale(first-start, scale, movieTimescale)
			e.mediaTime, start = first-d0, first
		}
		if end <= start {
			return errors.New("start lies after the end of the samples")
		}
		e.dur = rescale(end-start, scale, movieTimescale)
		edits[ti] = e
		movieDur = max(movieDur, e.empty+e.dur)
	}

	w.start("moov")
	writeMvhd(w, uint64(movieDur), uint32(len(specs)+1))
	for ti := range specs {
		s, ss, d, e := &specs[ti], samples[ti], durs[ti], edits[ti]
		var mediaDur uint64
		for _, x := range d {
			mediaDur += uint64(x)
		}
		edts := func(w *boxWriter) {
			w.start("edts")
			w.startFull("elst", 1, 0)
			if e.empty > 0 {
				w.u32(2)
				w.u64(uint64(e.empty))
				w.u64(^uint64(0)) // media_time -1: empty edit
				w.u32(0x00010000)
			} else {
				w.u32(1)
			}
			w.u64(uint64(e.dur))
			w.u64(uint64(e.mediaTime))
			w.u32(0x00010000)
			w.end()
			w.end()
		}
		var trackChunks []chunk
		for _, c := range chunks {
			if c.track == ti {
				trackChunks = append(trackChunks, c)
			}
		}
		stbl := func(w *boxWriter) { writeTables(w, s, ss, d, trackChunks, base, co64) }
		if err := writeTrak(w, s, uint64(e.empty+e.dur), mediaDur, edts, stbl); err != nil {
			return err
		}
	}
	writeUdta(w, opts.UserData)
	w.end()
	return nil
}

// writeTables writes stts, ctts, stss, stsz, stsc and stco/co64.
func writeTables(w *boxWriter, s *trackSpec, ss []Sample, d []uint32, chunks []chunk, base int64, co64 bool) {
	type run struct{ n, v uint32 }
	rle := func(vals func(i int) uint32) []run {
		var rs []run
		for i := range ss {
			v := vals(i)
			if len(rs) > 0 && rs[len(rs)-1].v == v {
				rs[len(rs)-1].n++
			} else {
				rs = append(rs, run{1, v})
			}
		}
		return rs
	}
	w.startFull("stts", 0, 0)
	rs := rle(func(i int) uint32 { return d[i] })
	w.u32(uint32(len(rs)))
	for _, r := range rs {
		w.u32(r.n)
		w.u32(r.v)
	}
	w.end()

	hasCTO, negCTO := false, false
	for _, x := range ss {
		hasCTO = hasCTO || x.PTS != x.DTS
		negCTO = negCTO || x.PTS < x.DTS
	}
	if hasCTO {
		v := uint8(0)
		if negCTO {
			v = 1
		}
		w.startFull("ctts", v, 0)
		rs := rle(func(i int) uint32 { return uint32(int32(ss[i].PTS - ss[i].DTS)) })
		w.u32(uint32(len(rs)))
		for _, r := range rs {
			w.u32(r.n)
			w.u32(r.v)
		}
		w.end()
	}

	var keys []uint32
	for i, x := range ss {
		if x.Key {
			keys = append(keys, uint32(i+1))
		}
	}
	if s.video() && len(keys) < len(ss) {
		w.startFull("stss", 0, 0)
		w.u32(uint32(len(keys)))
		for _, k := range keys {
			w.u32(k)
		}
		w.end()
	}

	w.startFull("stsz", 0, 0)
	w.u32(0)
	w.u32(uint32(len(ss)))
	for _, x := range ss {
		w.u32(x.Size)
	}
	w.end()

	w.startFull("stsc", 0, 0)
	at := w.pos()
	w.u32(0)
	var n uint32
	for i, c := range chunks {
		if i == 0 || c.n != chunks[i-1].n {
			w.u32(uint32(i + 1))
			w.u32(uint32(c.n))
			w.u32(1)
			n++
		}
	}
	w.putU32(at, n)
	w.end()

	if co64 {
		w.startFull("co64", 0, 0)
		w.u32(uint32(len(chunks)))
		for _, c := range chunks {
			w.u64(uint64(base + c.off))
		}
	} else {
		w.startFull("stco", 0, 0)
		w.u32(uint32(len(chunks)))
		for _, c := range chunks {
			w.u32(uint32(base + c.off))
		}
	}
	w.end()
}
