package rtsp

import (
	"math/rand/v2"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// rrState keeps what a receiver report needs (RFC 3550 §6.4.2, A.3).
type rrState struct {
	ssrc      uint32 // the sender's SSRC
	own       uint32 // our SSRC
	started   bool
	baseSeq   uint16
	maxSeq    uint16
	cycles    uint32
	nrecv     uint32
	expPrior  uint32
	recvPrior uint32
	lsr       uint32    // middle 32 bits of the last SR's NTP time
	lsrAt     time.Time // when it arrived
}

func (r *rrState) received(p *rtp.Packet) {
	if !r.started {
		r.started = true
		r.ssrc = p.SSRC
		r.baseSeq = p.SequenceNumber
		r.maxSeq = p.SequenceNumber
		r.own = rand.Uint32()
	}
	r.nrecv++
	if d := p.SequenceNumber - r.maxSeq; d < 0x8000 && d != 0 {
		if p.SequenceNumber < r.maxSeq {
			r.cycles += 1 << 16
		}
		r.maxSeq = p.SequenceNumber
	}
}

func (r *rrState) report(now time.Time) *rcpReport {
	if !r.started {
		return nil
	}
	ext := r.cycles | uint32(r.maxSeq)
	expected := ext - uint32(r.baseSeq) + 1
	lost := int64(expected) - int64(r.nrecv)
	if lost < 0 {
		lost = 0
	}
	expInt := expected - r.expPrior
	recvInt := r.nrecv - r.recvPrior
	r.expPrior, r.recvPrior = expected, r.nrecv
	var frac uint8
	if expInt > 0 && expInt > recvInt {
		frac = uint8((expInt - recvInt) << 8 / expInt)
	}
	var dlsr uint32
	if !r.lsrAt.IsZero() {
		dlsr = uint32(now.Sub(r.lsrAt).Seconds() * 65536)
	}
	return &rcpReport{own: r.own, rep: rtcp.ReceptionReport{
		SSRC: r.ssrc, FractionLost: frac, TotalLost: uint32(min(lost, 0x7fffff)),
		LastSequenceNumber: ext, LastSenderReport: r.lsr, Delay: dlsr,
	}}
}

type rcpReport struct {
	own uint32
	rep rtcp.ReceptionReport
}

func (s *Session) handleRTCP(t *clientTrack, b []byte) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	now := time.Now()
	s.lastRecv.Store(now.UnixNano())
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	for _, p := range pkts {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			t.rr.lsr = uint32(sr.NTPTime >> 16)
			t.rr.lsrAt = now
		}
		t.recv.HandleRTCP(p)
	}
}

// sendReceiverReports sends one RR per track, on UDP to the server's RTCP
// port or interleaved on the track's RTCP channel.
func (s *Session) sendReceiverReports() {
	now := time.Now()
	for _, t := range s.tracks {
		s.deliverMu.Lock()
		r := t.rr.report(now)
		peer := t.peer
		s.deliverMu.Unlock()
		if r == nil {
			continue
		}
		b, err := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: r.own, Reports: []rtcp.ReceptionReport{r.rep}}})
		if err != nil {
			continue
		}
		switch {
		case s.kind == TransportTCP:
			s.c.conn.SetWriteDeadline(now.Add(s.opts.Timeout))
			s.c.conn.WriteFrame(uint8(t.channel+1), b)
		case t.rtcp != nil && peer != nil:
			t.rtcp.WriteToUDP(b, peer)
		}
	}
}

// ssrcLock holds a track to the SSRC it started with, so that stray or
// garbage packets cannot reset the depacketiser. A new SSRC is followed
// as soon as a second packet confirms it (the next sequence number from
// the same SSRC: a camera that restarted its encoder, never garbage); its
// first packet is held meanwhile and replayed, so nothing is lost.
type ssrcLock struct {
	set       bool
	ssrc      uint32
	candidate uint32
	candSeq   uint16
	candOn    bool
	held      []byte // the candidate's first packet (reused buffer)
}

// accept reports whether a packet of ssrc with sequence number seq and
// bytes raw is to be taken; on a switch, replay is the held first packet
// of the new SSRC, to be taken before this one. replay is valid until the
// next call.
func (l *ssrcLock) accept(ssrc uint32, seq uint16, raw []byte) (ok bool, replay []byte) {
	switch {
	case !l.set:
		l.set, l.ssrc = true, ssrc
		return true, nil
	case ssrc == l.ssrc:
		return true, nil
	case l.candOn && ssrc == l.candidate && seq == l.candSeq+1:
		l.ssrc, l.candOn = ssrc, false
		return true, l.held
	default:
		l.candidate, l.candSeq, l.candOn = ssrc, seq, true
		l.held = append(l.held[:0], raw...)
		return false, nil
	}
}
