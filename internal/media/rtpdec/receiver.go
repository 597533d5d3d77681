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
	// ReorderDelay is the reorder window: how long, by arrival time, a
	// missing packet is waited for (default 100 ms).
	ReorderDelay time.Duration
	// ReorderWindow bounds the memory of the reorder window: at most this
	// many packets wait behind a missing one (default 480, a large
	// keyframe); the window itself is ReorderDelay.
	ReorderWindow int
	// AAC holds the mpeg4-generic fmtp parameters; zero means AAC-hbr.
	AAC AACParams
	// OnEvent, if set, is told of the sender faults the receiver corrected
	// (a timestamp jump, a wrong clock rate, a new SSRC). It is called from
	// HandleRTP, once per fault, never per packet.
	OnEvent func(Event)
}

// Event kinds (Event.Kind).
const (
	EventTimestampJump = "timestamp_jump" // RTP time jumped against arrival time: re-anchored
	EventClockRate     = "clock_rate"     // the SDP's clock rate disagrees with arrival times: corrected
	EventSSRC          = "ssrc_change"    // the sender changed SSRC: a new timeline, continued
)

// Event is a sender fault the receiver noticed and corrected.
type Event struct {
	Kind   string
	Detail string // for people: what was seen and what was done
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
	Units         uint64 // units emitted (damaged ones included)
	DamagedUnits  uint64 // video units emitted with a part missing (Unit.Damaged)
	DroppedUnits  uint64 // units not emitted: nothing usable left, or before the first keyframe
	Resets        uint64 // sequence jumps or SSRC changes taken as a new stream
	SSRCChanges   uint64 // of which SSRC changes
	SenderReports uint64 // RTCP sender reports used

	// TimestampJumps counts RTP timestamp jumps (against arrival time)
	// that were re-anchored; ClockCorrections counts clock rates corrected.
	TimestampJumps   uint64
	ClockCorrections uint64
	// ObservedClockRate is the RTP clock rate last measured against arrival
	// times (0 until measured). ClockRate is the rate in use: the declared
	// one, or the corrected one when the SDP's was wrong (ClockMismatch).
	// Unit times are always in the declared rate's ticks.
	ObservedClockRate float64
	ClockRate         int
	ClockMismatch     bool
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

	// Timing: out = baseOut + (rawU-baseRaw)·declared/rate.
	tsStarted bool
	tsRebase  bool  // the next packet starts a new timeline (after a reset)
	rawU      int64 // last unwrapped RTP timestamp
	baseRaw   int64
	baseOut   int64
	rate      int64 // RTP ticks per second the sender really uses
	outLast   int64
	recvLast  time.Time // arrival of the last packet with a new timestamp
	inJump    bool      // the previous timestamp step was a jump

	// Clock-rate measurement window.
	measOn    bool
	measRecv  time.Time
	measRaw   int64
	measSteps int
	measJumps int
	measPrev  float64 // ratio of the previous window, 0 when none

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
	needKey bool // before the first keyframe whose parameter sets are known

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
		opts.ReorderWindow = 480
	}
	opts.ReorderWindow = min(opts.ReorderWindow, 480) // within the delivered ring
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
	s.ClockRate = r.track.ClockRate
	if r.rate > 0 {
		s.ClockRate = int(r.rate)
	}
	s.ClockMismatch = s.ClockRate != r.track.ClockRate
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
		old := r.ssrc
		r.reset()
		r.stats.SSRCChanges++
		if r.opts.OnEvent != nil {
			r.opts.OnEvent(Event{Kind: EventSSRC, Detail: fmt.Sprintf("SSRC %08x replaced %08x; timeline continued", pkt.SSRC, old)})
		}
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
	r.started, r.haveSR = false, false
	if r.tsStarted {
		r.tsRebase = true
	}
}

// lost tells the depacketisers packets went missing. Video goes on: whole
// units after the loss are kept, the unit the loss touched is passed on
// marked Damaged (MED-1).
func (r *Receiver) lost() {
	if r.video != nil {
		r.video.lost()
	}
	if r.aac != nil {
		r.aac.lost()
	}
}

func (r *Receiver) deliver(pkt *rtp.Packet, recv time.Time) {
	ts := r.timestamp(pkt.Timestamp, recv)
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
		r.srTS = r.outOf(r.rawU + int64(int32(sr.RTPTime-uint32(r.rawU))))
	} else {
		r.haveSR = false // its RTP time belongs to a timeline not yet started
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
	if len(nalus) == 0 {
		r.stats.DroppedUnits++
		return
	}
	if r.params.Update(nalus) {
		r.updateTrack()
	}
	key := codec.IsKey(r.vcodec, nalus)
	if r.needKey && !(key && !damaged && r.params.Ready()) {
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
	if damaged {
		r.stats.DamagedUnits++
		key = false // a keyframe missing a slice is no place to start decoding
	}
	r.out = append(r.out, media.Unit{Track: r.index, PTS: ts, DTS: dts, Key: key, Damaged: damaged, NALUs: nalus, Wall: r.wall(ts, recv)})
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
