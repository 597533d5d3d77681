package rtpdec

import (
	"fmt"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"vigil/internal/media"
	"vigil/internal/media/codec"
)

// ReceiverOptions tune a Receiver. The zero value is usable.
type ReceiverOptions struct {
	// ReorderWindow is how many packets may wait behind a missing one
	// before it is declared lost (default 64).
	ReorderWindow int
	// ReorderDelay is how long, by arrival time, a missing packet is waited
	// for (default 100 ms).
	ReorderDelay time.Duration
	// ContinueAfterLoss resumes video after loss at the next whole access
	// unit rather than at the next keyframe.
	ContinueAfterLoss bool
	// AAC holds the mpeg4-generic fmtp parameters; zero means AAC-hbr.
	AAC AACParams
}

// AACParams are the RFC 3640 AU-header parameters of an mpeg4-generic
// stream (AAC-hbr: 13, 3, 3).
type AACParams struct {
	SizeLength, IndexLength, IndexDeltaLength int
}

// ReceiverStats counts what a Receiver saw.
type ReceiverStats struct {
	Packets       uint64 // RTP packets accepted (not duplicates, not late)
	Lost          uint64 // packets never received
	Reordered     uint64 // packets that arrived after a later one
	Duplicates    uint64 // packets received twice
	Late          uint64 // packets that arrived after being declared lost
	Malformed     uint64 // payloads that could not be parsed
	Unsupported   uint64 // STAP-B, MTAP, FU-B, PACI, reserved payload types
	Units         uint64 // units emitted
	DroppedUnits  uint64 // units not emitted: damaged, or while waiting for a keyframe
	Resets        uint64 // sequence jumps or SSRC changes taken as a new stream
	SenderReports uint64 // RTCP sender reports used

	// ObservedClockRate is the RTP clock rate measured against arrival
	// times over the stream so far (0 until 5 s have passed). Cameras that
	// declare one rate and send another show here; the declared rate is
	// still the one used.
	ObservedClockRate float64
	// ClockMismatch is set when ObservedClockRate is more than 5 % off the
	// declared rate.
	ClockMismatch bool
}

// Jumps of more than this many sequence numbers restart the stream instead
// of counting as loss.
const maxSeqJump = 1000

// Receiver turns one track's RTP packets into media units. It is not safe
// for concurrent use.
type Receiver struct {
	track media.Track
	index int
	opts  ReceiverOptions
	stats ReceiverStats

	started   bool
	holding   bool      // at the start, packets wait so the earliest can arrive
	firstRecv time.Time // arrival of the first packet
	ssrc      uint32
	next      int64 // extended sequence number expected next
	highest   int64
	buf       map[int64]pending
	delivered [512]int64 // ring of recent extended sequence numbers handed on

	tsStarted bool
	tsRaw     int64 // last unwrapped RTP timestamp
	tsShift   int64 // added to tsRaw; moves on a reset so time keeps growing
	tsRebase  bool

	clockRecv time.Time // arrival and time of the first packet, for ObservedClockRate
	clockTS   int64

	haveSR bool
	srWall time.Time
	srTS   int64

	video  *videoDepack
	aac    *aacDepack
	vcodec codec.Video
	params *codec.ParamSetTracker
	dts    interface {
		Extract([][]byte, int64) (int64, error)
	}
	needKey bool

	out []media.Unit
}

// pending is a packet waiting in the reorder buffer: a copy, since the
// caller's packet and payload are only lent for the call.
type pending struct {
	pkt  rtp.Packet
	recv time.Time
}

// NewReceiver returns a receiver for track, whose units carry Track=index.
func NewReceiver(track media.Track, index int, opts ReceiverOptions) (*Receiver, error) {
	if opts.ReorderWindow <= 0 {
		opts.ReorderWindow = 64
	}
	if opts.ReorderDelay <= 0 {
		opts.ReorderDelay = 100 * time.Millisecond
	}
	r := &Receiver{track: track, index: index, opts: opts, buf: map[int64]pending{}}
	for i := range r.delivered {
		r.delivered[i] = -1 << 62
	}
	switch track.Codec {
	case media.H264, media.H265:
		if r.track.ClockRate <= 0 {
			r.track.ClockRate = 90000
		}
		r.vcodec = codec.H264
		var sps []byte
		if track.Codec == media.H265 {
			r.vcodec = codec.H265
			x := codec.NewH265DTSExtractor()
			if len(track.SPS) > 0 && x.SetSPS(track.SPS) == nil {
				sps = track.SPS
			}
			r.dts = x
		} else {
			x := codec.NewH264DTSExtractor()
			if len(track.SPS) > 0 && x.SetSPS(track.SPS) == nil {
				sps = track.SPS
			}
			r.dts = x
		}
		r.params = codec.NewParamSetTracker(r.vcodec, track.VPS, sps, track.PPS)
		r.video = &videoDepack{hevc: r.vcodec == codec.H265, r: r}
		r.needKey = true
	case media.AAC:
		if r.track.ClockRate <= 0 {
			r.track.ClockRate = track.SampleRate
		}
		p := opts.AAC
		if p == (AACParams{}) {
			p = AACParams{13, 3, 3}
		}
		if p.SizeLength <= 0 || p.SizeLength > 16 || p.IndexLength < 0 || p.IndexLength > 8 || p.IndexDeltaLength < 0 || p.IndexDeltaLength > 8 {
			return nil, fmt.Errorf("rtp receiver: AAC sizeLength %d indexLength %d indexDeltaLength %d not supported", p.SizeLength, p.IndexLength, p.IndexDeltaLength)
		}
		r.aac = &aacDepack{p: p, r: r}
	case media.PCMA, media.PCMU:
		if r.track.ClockRate <= 0 {
			r.track.ClockRate = 8000
		}
	case media.Opus:
		if r.track.ClockRate <= 0 {
			r.track.ClockRate = 48000
		}
	default:
		return nil, fmt.Errorf("rtp receiver: codec %q not supported", track.Codec)
	}
	if r.track.ClockRate <= 0 {
		return nil, fmt.Errorf("rtp receiver: %s track without a clock rate", track.Codec)
	}
	return r, nil
}

// Track returns the track as currently known: parameter sets and picture
// size follow what the stream carries in-band.
func (r *Receiver) Track() media.Track { return r.track }

// Stats returns the counters so far.
func (r *Receiver) Stats() ReceiverStats {
	s := r.stats
	if s.ObservedClockRate > 0 {
		ratio := s.ObservedClockRate / float64(r.track.ClockRate)
		s.ClockMismatch = ratio < 0.95 || ratio > 1.05
	}
	return s
}

// HandleRTP takes one packet, received at recv, and returns the units it
// completes, in order. Packets may arrive out of order or twice. The
// receiver copies what it keeps of pkt, so the caller may reuse the packet
// and its payload buffer once HandleRTP returns. The returned slice is
// valid until the next call of HandleRTP or Flush; the units' data is the
// caller's to keep.
func (r *Receiver) HandleRTP(pkt *rtp.Packet, recv time.Time) []media.Unit {
	if pkt == nil {
		return nil
	}
	clear(r.out) // drop the previous units' references
	r.out = r.out[:0]
	if r.started && pkt.SSRC != r.ssrc {
		r.reset()
	}
	if !r.started {
		r.start(pkt, recv)
	}
	ext := r.highest + int64(int16(pkt.SequenceNumber-uint16(r.highest)))
	if ext-r.next > maxSeqJump || r.next-ext > maxSeqJump {
		r.reset()
		r.start(pkt, recv)
		ext = r.next
	}
	if r.holding && ext < r.next {
		r.next = ext
	}
	switch _, dup := r.buf[ext]; {
	case dup || ext < r.next && r.delivered[ext&511] == ext:
		r.stats.Duplicates++
		return nil
	case ext < r.next:
		r.stats.Late++
		return nil
	}
	if ext < r.highest {
		r.stats.Reordered++
	} else {
		r.highest = ext
	}
	r.stats.Packets++
	if ext == r.next && !r.holding && len(r.buf) == 0 {
		// In order with nothing waiting (always, over TCP): hand it on
		// without a trip through the reorder buffer.
		r.delivered[ext&511] = ext
		r.next++
		r.deliver(pkt, recv)
		return r.out
	}
	p := pending{pkt: *pkt, recv: recv}
	p.pkt.Payload = append([]byte(nil), pkt.Payload...)
	p.pkt.CSRC = append([]uint32(nil), pkt.CSRC...)
	p.pkt.Extensions = nil // not used past here; they would alias the caller's buffer
	r.buf[ext] = p
	r.drain(recv, false)
	return r.out
}

// Flush gives up waiting for missing packets: everything buffered is handed
// on (the gaps counted as lost) and the units it completes are returned. Call
// it when the stream ends or stalls.
func (r *Receiver) Flush() []media.Unit {
	clear(r.out)
	r.out = r.out[:0]
	r.drain(time.Time{}, true)
	return r.out
}

// drain hands on the packets that are in sequence, declaring missing ones
// lost when the window is full, they are overdue, or force is set.
func (r *Receiver) drain(now time.Time, force bool) {
	if r.holding {
		if !force && len(r.buf) < r.opts.ReorderWindow && now.Sub(r.firstRecv) < r.opts.ReorderDelay {
			return
		}
		r.holding = false
	}
	for len(r.buf) > 0 {
		if p, ok := r.buf[r.next]; ok {
			delete(r.buf, r.next)
			r.delivered[r.next&511] = r.next
			r.next++
			r.deliver(&p.pkt, p.recv)
			continue
		}
		first, oldest := int64(1<<62), now
		for seq, p := range r.buf {
			first = min(first, seq)
			if p.recv.Before(oldest) {
				oldest = p.recv
			}
		}
		if !force && len(r.buf) < r.opts.ReorderWindow && now.Sub(oldest) < r.opts.ReorderDelay {
			return
		}
		r.stats.Lost += uint64(first - r.next)
		r.next = first
		r.lost()
	}
}

func (r *Receiver) start(pkt *rtp.Packet, recv time.Time) {
	r.started, r.holding, r.ssrc, r.firstRecv = true, true, pkt.SSRC, recv
	r.next, r.highest = int64(pkt.SequenceNumber), int64(pkt.SequenceNumber)
}

// reset flushes the reorder buffer and starts over, as after a camera
// restart; time keeps growing across it.
func (r *Receiver) reset() {
	r.stats.Resets++
	r.drain(time.Time{}, true)
	r.lost()
	r.started, r.haveSR, r.tsRebase, r.clockRecv = false, false, true, time.Time{}
}

func (r *Receiver) lost() {
	if r.video != nil {
		r.video.lost()
		if !r.opts.ContinueAfterLoss {
			r.needKey = true
		}
	}
	if r.aac != nil {
		r.aac.lost()
	}
}

// unwrapTS extends a 32-bit RTP timestamp to the track's int64 time.
func (r *Receiver) unwrapTS(ts uint32) int64 {
	switch {
	case !r.tsStarted:
		r.tsStarted, r.tsRaw = true, int64(ts)
	case r.tsRebase:
		// A new stream: continue a tenth of a second after the old one.
		last := r.tsRaw + r.tsShift
		r.tsRaw, r.tsRebase = int64(ts), false
		r.tsShift = last + int64(r.track.ClockRate/10) - r.tsRaw
	default:
		r.tsRaw += int64(int32(ts - uint32(r.tsRaw)))
	}
	return r.tsRaw + r.tsShift
}

func (r *Receiver) deliver(pkt *rtp.Packet, recv time.Time) {
	ts := r.unwrapTS(pkt.Timestamp)
	if r.clockRecv.IsZero() {
		r.clockRecv, r.clockTS = recv, ts
	} else if el := recv.Sub(r.clockRecv); el >= 5*time.Second {
		r.stats.ObservedClockRate = float64(ts-r.clockTS) / el.Seconds()
	}
	switch {
	case r.video != nil:
		r.video.push(pkt, ts, recv)
	case r.aac != nil:
		r.aac.push(pkt, ts, recv)
	default: // G.711, Opus: the payload is the frame
		if len(pkt.Payload) > 0 {
			r.emitAudio(ts, append([]byte(nil), pkt.Payload...), recv)
		}
	}
}

// HandleRTCP takes an RTCP packet of the track's session. Sender reports
// map RTP time to the sender's wall clock, which then stamps Unit.Wall.
func (r *Receiver) HandleRTCP(p rtcp.Packet) {
	sr, ok := p.(*rtcp.SenderReport)
	if !ok || (r.started && sr.SSRC != r.ssrc) || sr.NTPTime == 0 {
		return
	}
	r.stats.SenderReports++
	r.haveSR = true
	r.srWall = ntpTime(sr.NTPTime)
	if r.tsStarted && !r.tsRebase {
		r.srTS = r.tsRaw + int64(int32(sr.RTPTime-uint32(r.tsRaw))) + r.tsShift
	} else {
		r.srTS = int64(sr.RTPTime) + r.tsShift
	}
}

const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970

func ntpTime(ntp uint64) time.Time {
	sec := int64(ntp>>32) - ntpEpochOffset
	nsec := int64((ntp & 0xffffffff) * 1e9 >> 32)
	return time.Unix(sec, nsec).UTC()
}

func toNTP(t time.Time) uint64 {
	sec := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}

func (r *Receiver) wall(ts int64, recv time.Time) time.Time {
	if r.haveSR {
		return r.srWall.Add(media.Duration(ts-r.srTS, r.track.ClockRate))
	}
	return recv
}

func (r *Receiver) emitAudio(ts int64, data []byte, recv time.Time) {
	r.stats.Units++
	r.out = append(r.out, media.Unit{Track: r.index, PTS: ts, DTS: ts, Key: true, Data: data, Wall: r.wall(ts, recv)})
}

// emitVideo takes a reassembled access unit and emits it unless it is
// damaged or a keyframe is awaited.
func (r *Receiver) emitVideo(ts int64, nalus [][]byte, damaged bool, recv time.Time) {
	nalus = codec.CleanAU(r.vcodec, nalus)
	if damaged || len(nalus) == 0 {
		r.stats.DroppedUnits++
		if damaged && !r.opts.ContinueAfterLoss {
			r.needKey = true
		}
		return
	}
	if r.params.Update(nalus) {
		r.updateTrack()
	}
	key := codec.IsKey(r.vcodec, nalus)
	if r.needKey && !(key && r.params.Ready()) {
		r.stats.DroppedUnits++
		return
	}
	dts, err := r.dts.Extract(nalus, ts)
	if err != nil {
		r.stats.DroppedUnits++
		return
	}
	r.needKey = false
	r.stats.Units++
	r.out = append(r.out, media.Unit{Track: r.index, PTS: ts, DTS: dts, Key: key, NALUs: nalus, Wall: r.wall(ts, recv)})
}

func (r *Receiver) updateTrack() {
	vps, sps, pps := r.params.Params()
	t := &r.track
	t.VPS, t.SPS, t.PPS = vps, sps, pps
	if r.vcodec == codec.H265 {
		if s, err := codec.ParseH265SPS(sps); err == nil {
			t.Width, t.Height = s.Width, s.Height
		}
	} else if s, err := codec.ParseH264SPS(sps); err == nil {
		t.Width, t.Height = s.Width, s.Height
	}
}
