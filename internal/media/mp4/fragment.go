package mp4

import (
	"fmt"
	"io"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// Sample flags (ISO/IEC 14496-12 8.8.3.1): a sync sample depends on no
// other (sample_depends_on=2); any other sample depends on others
// (sample_depends_on=1) and is_non_sync.
const (
	flagsSync    = 0x02000000
	flagsNonSync = 0x01010000
)

// FragmentOptions tune a FragmentWriter.
type FragmentOptions struct {
	// Duration is the length of a fragment (of its video track when there
	// is one): a fragment is written once its samples span this much. A
	// recorder that crashes loses at most the fragment being gathered.
	// Default 1 s.
	Duration time.Duration
	// UserData is stored in moov/udta and read back by ReadFile (the
	// recorder keeps the stream id and segment sequence there).
	UserData map[string]string
	// KeepTimestamps writes the units' DTS as they are instead of
	// rebasing the file to start at zero, so that consecutive segments of
	// one stream share a timeline. Units with a negative DTS are refused.
	KeepTimestamps bool
	// FirstSequence is the mfhd sequence number of the first fragment
	// (default 1).
	FirstSequence uint32
	// OnFragment, when set, is called after each fragment has been
	// written to the output (a recorder fsyncs there). An error it
	// returns is returned by the WriteUnit or Flush that wrote the
	// fragment.
	OnFragment func(FragmentInfo) error
}

// FragmentInfo describes one fragment (moof+mdat) written.
type FragmentInfo struct {
	Sequence uint32
	Offset   int64         // byte offset of the moof in the writer's output
	Size     int64         // bytes of moof and mdat
	Start    time.Duration // decode time of its first sample since the file's origin
	Duration time.Duration // span of its samples (of the video track when there is one)
	Key      bool          // its first video sample is a keyframe
	Samples  int
}

// FragmentWriter writes a fragmented MP4: an init segment (ftyp, moov)
// then a moof+mdat fragment per FragmentOptions.Duration.
//
// A sample's duration is the distance to the next sample's DTS, so the
// writer holds each track's newest sample back until the next one arrives;
// Flush writes the held samples too, giving each the duration of the
// sample before it. Timestamps are rebased so the file starts at zero;
// the tracks keep their relative offsets (unless KeepTimestamps). DTS that do not grow are nudged
// one tick past the previous sample; a caller that sees a timestamp
// discontinuity (a camera restart) should start a new file instead.
type FragmentWriter struct {
	w       io.Writer
	opts    FragmentOptions
	tracks  []*fragTrack
	primary int // the track whose span cuts fragments
	seq     uint32
	size    int64

	originSet   bool
	originTicks int64
	originClock int64
}

type fragTrack struct {
	spec      trackSpec
	samples   []pendSample // complete: duration known
	data      chunkList    // the samples' bytes, in order, the held sample's last
	held      pendSample
	hasHeld   bool
	lastDur   uint32
	span      int64 // sum of durations of samples
	origin    int64
	originSet bool
}

type pendSample struct {
	dts  int64 // rebased
	cto  int64 // PTS - DTS
	dur  uint32
	key  bool
	size int // bytes of the sample
}

// NewFragmentWriter writes the init segment of tracks to w and returns a
// writer for their units. Video tracks need their parameter sets.
func NewFragmentWriter(w io.Writer, tracks []media.Track, opts FragmentOptions) (*FragmentWriter, error) {
	specs, err := resolveTracks(tracks)
	if err != nil {
		return nil, fmt.Errorf("fmp4 init: %w", err)
	}
	init, err := initSegment(specs, opts.UserData)
	if err != nil {
		return nil, fmt.Errorf("fmp4 init: %w", err)
	}
	if opts.Duration <= 0 {
		opts.Duration = time.Second
	}
	if opts.FirstSequence == 0 {
		opts.FirstSequence = 1
	}
	fw := &FragmentWriter{w: w, opts: opts, seq: opts.FirstSequence}
	for i := range specs {
		fw.tracks = append(fw.tracks, &fragTrack{spec: specs[i]})
	}
	for i, s := range specs {
		if s.video() {
			fw.primary = i
			break
		}
	}
	n, err := w.Write(init)
	fw.size += int64(n)
	if err != nil {
		return nil, fmt.Errorf("fmp4 init: %w", err)
	}
	return fw, nil
}

// InitSegment returns the init segment (ftyp and moov) NewFragmentWriter
// would write for tracks.
func InitSegment(tracks []media.Track, userData map[string]string) ([]byte, error) {
	specs, err := resolveTracks(tracks)
	if err != nil {
		return nil, fmt.Errorf("fmp4 init: %w", err)
	}
	return initSegment(specs, userData)
}

func initSegment(specs []trackSpec, ud map[string]string) ([]byte, error) {
	w := &boxWriter{}
	writeFtyp(w, "iso5", "iso5", "iso6", "mp41")
	w.start("moov")
	writeMvhd(w, 0, uint32(len(specs)+1))
	for i := range specs {
		if err := writeTrak(w, &specs[i], 0, 0, nil, writeEmptyTables); err != nil {
			return nil, err
		}
	}
	w.start("mvex")
	for _, s := range specs {
		w.startFull("trex", 0, 0)
		w.u32(s.id)
		w.u32(1) // sample description index
		w.u32(0)
		w.u32(0)
		w.u32(0)
		w.end()
	}
	w.end()
	writeUdta(w, ud)
	w.end()
	return w.b, nil
}

// Size returns the bytes written so far.
func (fw *FragmentWriter) Size() int64 { return fw.size }

// WriteUnit adds u to the fragment being gathered, writing the fragment
// out once it spans FragmentOptions.Duration.
func (fw *FragmentWriter) WriteUnit(u media.Unit) error {
	if u.Track < 0 || u.Track >= len(fw.tracks) {
		return fmt.Errorf("fmp4: unit for track %d of %d", u.Track, len(fw.tracks))
	}
	t := fw.tracks[u.Track]
	clock := int64(t.spec.timescale)
	if !fw.originSet {
		fw.originSet, fw.originTicks, fw.originClock = true, u.DTS, clock
		if fw.opts.KeepTimestamps {
			fw.originTicks = 0
		}
	}
	if fw.opts.KeepTimestamps && u.DTS < 0 {
		return fmt.Errorf("fmp4: track %d: negative DTS %d with KeepTimestamps", u.Track, u.DTS)
	}
	if !t.originSet {
		t.originSet = true
		t.origin = rescale(fw.originTicks, fw.originClock, clock)
		if u.DTS < t.origin && !fw.opts.KeepTimestamps {
			t.origin = u.DTS
		}
	}
	s := pendSample{dts: u.DTS - t.origin, cto: u.PTS - u.DTS, key: u.Key}
	if t.spec.video() {
		s.size = sampleSize(videoCoding(t.spec.t.Codec), u.NALUs)
	} else {
		s.size = len(u.Data)
		s.key = true
	}
	if s.size == 0 {
		return nil // nothing to store (an access unit of delimiters only)
	}
	if t.hasHeld {
		if s.dts <= t.held.dts {
			s.cto += s.dts - (t.held.dts + 1)
			s.dts = t.held.dts + 1
		}
		t.complete(uint32(min(s.dts-t.held.dts, 0xffffffff)))
	}
	// The sample is copied now: the caller may reuse its buffers.
	if t.spec.video() {
		t.data.writeAVCC(videoCoding(t.spec.t.Codec), u.NALUs)
	} else {
		t.data.write(u.Data)
	}
	t.held, t.hasHeld = s, true

	d := rescale(int64(fw.opts.Duration), int64(time.Second), clock)
	p := fw.tracks[fw.primary]
	pd := rescale(int64(fw.opts.Duration), int64(time.Second), int64(p.spec.timescale))
	if p.span >= pd || t.span >= 3*d {
		return fw.emit()
	}
	return nil
}

// complete moves the held sample to the fragment with duration dur.
func (t *fragTrack) complete(dur uint32) {
	t.held.dur = dur
	t.lastDur = dur
	t.samples = append(t.samples, t.held)
	t.span += int64(dur)
	t.hasHeld = false
}

// completeBytes is the size of the complete samples' bytes: all of data
// but the held sample's.
func (t *fragTrack) completeBytes() int {
	if t.hasHeld {
		return t.data.n - t.held.size
	}
	return t.data.n
}

// sampleSize is the size of an access unit as an AVCC sample.
func sampleSize(v codec.Video, nalus [][]byte) int {
	n := 0
	for _, u := range nalus {
		if keepNALU(v, u) {
			n += 4 + len(u)
		}
	}
	return n
}

// Flush writes everything gathered as a fragment now, the held-back
// samples included (each with its predecessor's duration). Call it before
// closing the file.
func (fw *FragmentWriter) Flush() error {
	for _, t := range fw.tracks {
		if t.hasHeld {
			dur := t.lastDur
			if dur == 0 {
				dur = t.spec.defaultDuration(t.held.size)
			}
			t.complete(dur)
		}
	}
	return fw.emit()
}

// defaultDuration guesses a lone sample's duration.
func (s *trackSpec) defaultDuration(size int) uint32 {
	switch s.t.Codec {
	case media.AAC:
		return 1024
	case media.PCMA, media.PCMU:
		return uint32(max(size/max(s.t.Channels, 1), 1))
	case CodecLPCM:
		return uint32(max(size/2/max(s.t.Channels, 1), 1))
	}
	if s.video() {
		return s.timescale / 25
	}
	return s.timescale / 50 // 20 ms, the usual audio packet
}

// emit writes the complete samples of every track as one fragment, in one
// write from a pooled buffer.
func (fw *FragmentWriter) emit() error {
	var n, size int
	for _, t := range fw.tracks {
		n += len(t.samples)
		size += t.completeBytes() + 200 + 16*len(t.samples) // bytes and an upper bound of their traf
	}
	if n == 0 {
		return nil
	}
	bp := fragPool.Get().(*[]byte)
	defer fragPool.Put(bp)
	if cap(*bp) < size+64 {
		*bp = make([]byte, 0, size+size/4+64)
	}
	w := &boxWriter{b: (*bp)[:0]}
	w.start("moof")
	w.startFull("mfhd", 0, 0)
	w.u32(fw.seq)
	w.end()
	type patch struct{ at, dataOff int }
	var patches []patch
	var dataLen int
	for _, t := range fw.tracks {
		if len(t.samples) == 0 {
			continue
		}
		w.start("traf")
		w.startFull("tfhd", 0, 0x020000) // default-base-is-moof
		w.u32(t.spec.id)
		w.end()
		w.startFull("tfdt", 1, 0)
		w.u64(uint64(t.samples[0].dts))
		w.end()
		flags := uint32(0x000001 | 0x000100 | 0x000200 | 0x000400)
		if t.spec.video() {
			flags |= 0x000800
			w.startFull("trun", 1, flags)
		} else {
			w.startFull("trun", 0, flags)
		}
		w.u32(uint32(len(t.samples)))
		patches = append(patches, patch{w.pos(), dataLen})
		w.u32(0) // data_offset, patched below
		for _, s := range t.samples {
			w.u32(s.dur)
			w.u32(uint32(s.size))
			if s.key {
				w.u32(flagsSync)
			} else {
				w.u32(flagsNonSync)
			}
			if t.spec.video() {
				w.u32(uint32(int32(s.cto)))
			}
		}
		dataLen += t.completeBytes()
		w.end() // trun
		w.end() // traf
	}
	w.end() // moof
	moofLen := w.pos()
	hdr := mdatHeader(int64(dataLen))
	for _, p := range patches {
		w.putU32(p.at, uint32(moofLen+len(hdr)+p.dataOff))
	}
	w.bytes(hdr)

	info := FragmentInfo{Sequence: fw.seq, Offset: fw.size, Samples: n}
	p := fw.tracks[fw.primary]
	ref := p
	if len(ref.samples) == 0 {
		for _, t := range fw.tracks {
			if len(t.samples) > 0 {
				ref = t
				break
			}
		}
	}
	clock := int(ref.spec.timescale)
	info.Start = media.Duration(ref.samples[0].dts, clock)
	info.Duration = media.Duration(ref.span, clock)
	info.Key = len(p.samples) > 0 && p.samples[0].key && p.spec.video()

	for _, t := range fw.tracks {
		n := t.completeBytes()
		w.b = t.data.appendPrefix(w.b, n)
		t.data.dropPrefix(n) // the held sample's bytes stay
		t.samples = t.samples[:0]
		t.span = 0
	}
	*bp = w.b[:0]
	info.Size = int64(len(w.b))
	fw.seq++
	m, err := fw.w.Write(w.b)
	fw.size += int64(m)
	if err != nil {
		return fmt.Errorf("fmp4 fragment %d: %w", info.Sequence, err)
	}
	if fw.opts.OnFragment != nil {
		if err := fw.opts.OnFragment(info); err != nil {
			return fmt.Errorf("fmp4 fragment %d: %w", info.Sequence, err)
		}
	}
	return nil
}

// avccSample joins an access unit's NAL units with 4-byte lengths,
// leaving out access unit delimiters and filler data. It does not modify
// nalus, which the hub shares between readers.
func avccSample(c media.Codec, nalus [][]byte) []byte {
	v := codec.H264
	if c == media.H265 {
		v = codec.H265
	}
	keep := make([][]byte, 0, len(nalus))
	keep = append(keep, nalus...)
	return codec.JoinAVCC(codec.CleanAU(v, keep))
}

// rescale converts v ticks of clock from to ticks of clock to.
func rescale(v, from, to int64) int64 {
	if from == to || from == 0 {
		return v
	}
	q, r := v/from, v%from
	return q*to + r*to/from
}
