package rtsp

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"vigil/internal/media"
	"vigil/internal/media/rtpdec"
)

type sessMode int

const (
	modePlay sessMode = iota + 1
	modeRecord
)

// sessTransport is how one track of a session travels.
type sessTransport struct {
	set      bool
	channel  int          // TCP: interleaved RTP channel
	rtpAddr  *net.UDPAddr // UDP: the client's RTP port
	rtcpAddr *net.UDPAddr
}

// serverSession is a client's play or record session.
type serverSession struct {
	c      *serverConn
	srv    *Server
	id     string
	name   string
	mode   sessMode
	tracks []media.Track
	pts    []uint8
	trans  []sessTransport
	tcp    bool
	udp    bool

	lastSeen atomic.Int64
	state    atomic.Int32 // 0 ready, 1 playing/recording, 2 closed

	reader *media.Reader // play
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex // record: receivers and source
	recv   []*rtpdec.Receiver
	last   []media.Track
	source *media.Source
}

func newServerSession(c *serverConn, name string, mode sessMode) (*serverSession, error) {
	s := &serverSession{c: c, srv: c.srv, id: newSessionID(), name: name, mode: mode}
	s.touch()
	if mode == modeRecord {
		s.tracks, s.pts = c.announced, c.announcedPT
	} else {
		rd, err := c.srv.Hub.Subscribe(name, media.ReaderOptions{QueueLen: 2048, NoGOPCache: c.srv.NoGOPCache})
		if err != nil {
			return nil, err
		}
		s.reader = rd
		s.tracks = rd.Tracks()
		for i, t := range s.tracks {
			s.pts = append(s.pts, payloadType(i, t))
		}
	}
	s.trans = make([]sessTransport, len(s.tracks))
	return s, nil
}

func (s *serverSession) touch()        { s.lastSeen.Store(time.Now().UnixNano()) }
func (s *serverSession) playing() bool { return s.state.Load() == 1 && s.mode == modePlay }
func (s *serverSession) alive(d time.Duration) bool {
	return time.Since(time.Unix(0, s.lastSeen.Load())) < d
}

// addTransport accepts t for track i if the server can serve it, and
// returns the answer's transport.
func (s *serverSession) addTransport(i int, t Transport) (Transport, bool) {
	if t.Multicast {
		return t, false
	}
	if t.TCP() {
		if s.udp {
			return t, false // one transport per session
		}
		ch := 2 * i
		if t.Interleaved != nil {
			ch = t.Interleaved[0]
		}
		s.trans[i] = sessTransport{set: true, channel: ch}
		s.tcp = true
		return Transport{Protocol: "RTP/AVP/TCP", Interleaved: &[2]int{ch, ch + 1}}, true
	}
	if s.srv.udp == nil || t.ClientPorts == nil || s.tcp {
		return t, false
	}
	ip := s.c.remoteIP()
	st := sessTransport{set: true,
		rtpAddr:  &net.UDPAddr{IP: ip, Port: t.ClientPorts[0]},
		rtcpAddr: &net.UDPAddr{IP: ip, Port: t.ClientPorts[1]}}
	s.trans[i] = st
	s.udp = true
	s.srv.udp.register(s, i, st)
	sp := s.srv.udp.ports()
	return Transport{Protocol: "RTP/AVP", ClientPorts: t.ClientPorts, ServerPorts: &sp}, true
}

func (s *serverSession) close() {
	if s.state.Swap(2) == 2 {
		return
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.reader != nil {
		s.reader.Close()
	}
	if s.srv.udp != nil {
		s.srv.udp.unregister(s)
	}
	s.wg.Wait()
	s.mu.Lock()
	if s.source != nil {
		s.source.Close()
	}
	s.mu.Unlock()
}

// play answers PLAY and starts sending. With Faults.EarlyRTP the first
// packets go out before the answer.
func (s *serverSession) play(resp *Response, conn *Conn) error {
	if !s.state.CompareAndSwap(0, 1) {
		conn.SetWriteDeadline(time.Now().Add(s.srv.WriteTimeout))
		return conn.WriteResponse(resp)
	}
	ctx, cancel := context.WithCancel(s.srv.ctx)
	s.cancel = cancel
	snd, err := newSender(s)
	if err != nil {
		s.srv.logf("rtsp server: PLAY %s: %v", s.name, err)
		resp.StatusCode, resp.Reason = StatusInternalServerError, ""
		conn.SetWriteDeadline(time.Now().Add(s.srv.WriteTimeout))
		return conn.WriteResponse(resp)
	}
	started := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if !s.srv.Faults.EarlyRTP {
			select {
			case <-started:
			case <-ctx.Done():
				return
			}
		}
		snd.run(ctx, started)
	}()
	if s.srv.Faults.EarlyRTP {
		select { // the sender signals after its first unit
		case <-started:
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	conn.SetWriteDeadline(time.Now().Add(s.srv.WriteTimeout))
	err = conn.WriteResponse(resp)
	if !s.srv.Faults.EarlyRTP {
		close(started)
	}
	return err
}

// record publishes the announced stream into the hub.
func (s *serverSession) record() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, err := s.srv.Hub.Publish(s.name, s.tracks)
	if err != nil {
		return err
	}
	s.source = src
	for i, t := range s.tracks {
		r, err := rtpdec.NewReceiver(t, i, s.c.announcedOpts[i])
		if err != nil {
			src.Close()
			s.source = nil
			return fmt.Errorf("track %d: %w", i, err)
		}
		s.recv = append(s.recv, r)
		s.last = append(s.last, t)
	}
	s.state.Store(1)
	return nil
}

func (s *serverSession) handleFrame(f *Frame) {
	if s.mode != modeRecord {
		return // RTCP receiver reports from a player: touch() was enough
	}
	for i, t := range s.trans {
		if t.set && int(f.Channel) == t.channel {
			s.recordRTP(i, f.Payload)
			return
		}
	}
}

// recordRTP depacketises a published packet into the hub.
func (s *serverSession) recordRTP(i int, b []byte) {
	var pkt rtp.Packet
	if pkt.Unmarshal(b) != nil {
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.source == nil || i >= len(s.recv) {
		return
	}
	for _, u := range s.recv[i].HandleRTP(&pkt, now) {
		if u.Key {
			if cur := s.recv[i].Track(); trackChanged(s.last[i], cur) {
				s.last[i] = cur
				all := make([]media.Track, len(s.recv))
				for j, r := range s.recv {
					all[j] = r.Track()
				}
				s.source.SetTracks(all)
			}
		}
		s.source.Write(u)
	}
}

func (s *serverSession) recordRTCP(i int, b []byte) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < len(s.recv) {
		for _, p := range pkts {
			s.recv[i].HandleRTCP(p)
		}
	}
}

// sender packetises a reader's units for one playing session.
type sender struct {
	s    *serverSession
	pk   []*rtpdec.Packetizer
	gen  uint64
	last []media.Unit // the last unit sent per track, for sender reports
	buf  bytes.Buffer
	rng  *rand.Rand

	late    []byte       // a packet held back to be sent after the next (Faults.ReorderPercent)
	held    []media.Unit // units held back (Faults.Burst)
	jumped  int          // timestamp jumps played (Faults.TimestampJump)
	ssrcAt  time.Time    // last SSRC restart (Faults.SSRCEvery)
	burstAt time.Time    // start of the next burst hold (Faults.BurstEvery)
}

func newSender(s *serverSession) (*sender, error) {
	n := len(s.tracks)
	snd := &sender{s: s, pk: make([]*rtpdec.Packetizer, n), last: make([]media.Unit, n),
		rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	for i, t := range s.tracks {
		pk, err := rtpdec.NewPacketizer(t, s.pts[i], rand.Uint32(), 1400)
		if err != nil {
			return nil, fmt.Errorf("track %d: %w", i, err)
		}
		snd.pk[i] = pk
	}
	return snd, nil
}

func (snd *sender) run(ctx context.Context, started chan struct{}) {
	s := snd.s
	defer func() {
		if ctx.Err() == nil { // the stream ended or the client is gone: hang up
			s.c.nc.Close()
		}
	}()
	f := s.srv.Faults
	start := time.Now()
	nextStall := start.Add(f.StallEvery)
	lastSR := time.Time{}
	first := true
	for {
		u, err := s.reader.Next(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		if f.DisconnectEvery > 0 && now.Sub(start) > f.DisconnectEvery {
			return
		}
		if f.StallEvery > 0 && f.Stall > 0 && now.After(nextStall) {
			select {
			case <-time.After(f.Stall):
			case <-ctx.Done():
				return
			}
			nextStall = time.Now().Add(f.StallEvery)
		}
		if u.Track >= len(s.trans) || !s.trans[u.Track].set {
			continue
		}
		if f.BurstEvery > 0 && f.Burst > 0 {
			if snd.burstAt.IsZero() {
				snd.burstAt = start.Add(f.BurstEvery)
			}
			if !now.Before(snd.burstAt) && now.Before(snd.burstAt.Add(f.Burst)) {
				snd.held = append(snd.held, u) // held, sent at the end of the hold
				continue
			}
			if !now.Before(snd.burstAt.Add(f.Burst)) {
				snd.burstAt = snd.burstAt.Add(f.BurstEvery)
			}
			for _, h := range snd.held {
				if err := snd.send(h); err != nil {
					return
				}
			}
			clear(snd.held)
			snd.held = snd.held[:0]
		}
		snd.faults(now.Sub(start), now)
		if g := s.reader.Generation(); g != snd.gen {
			snd.gen = g
			for i, t := range s.reader.Tracks() {
				if i < len(snd.pk) {
					snd.pk[i].SetTrack(t)
				}
			}
		}
		if err := snd.send(u); err != nil {
			return
		}
		if c := s.srv.Counters; c != nil {
			if u.Track < len(s.tracks) && s.tracks[u.Track].Codec.IsVideo() {
				c.VideoUnits.Add(1)
			} else {
				c.AudioUnits.Add(1)
			}
		}
		if first {
			first = false
			if f.EarlyRTP {
				close(started)
			}
		}
		if now.Sub(lastSR) > 2*time.Second {
			lastSR = now
			if err := snd.senderReports(); err != nil {
				return
			}
		}
	}
}

func (snd *sender) send(u media.Unit) error {
	s := snd.s
	pkts, err := snd.pk[u.Track].Packetize(u)
	if err != nil {
		return nil // a unit we cannot packetise is skipped, not fatal
	}
	snd.last[u.Track] = media.Unit{PTS: u.PTS, Wall: u.Wall}
	f := s.srv.Faults
	tr := s.trans[u.Track]
	snd.buf.Reset()
	whole := true
	for _, p := range pkts {
		if f.DropPercent > 0 && snd.rng.Float64()*100 < f.DropPercent {
			whole = false
			continue
		}
		b, err := p.Marshal()
		if err != nil {
			whole = false
			continue
		}
		if f.ReorderPercent > 0 && snd.late == nil && snd.rng.Float64()*100 < f.ReorderPercent {
			snd.late = b // sent after the next packet
			continue
		}
		if err := snd.emit(tr, b, false); err != nil {
			return err
		}
		if snd.late != nil {
			late := snd.late
			snd.late = nil
			if err := snd.emit(tr, late, false); err != nil {
				return err
			}
		}
		if f.GarbagePercent > 0 && snd.rng.Float64()*100 < f.GarbagePercent {
			g := make([]byte, 12+snd.rng.IntN(200))
			for i := range g {
				g[i] = byte(snd.rng.Uint32())
			}
			if err := snd.emit(tr, g, false); err != nil {
				return err
			}
		}
	}
	if c := s.srv.Counters; c != nil && whole && u.Track < len(s.tracks) && s.tracks[u.Track].Codec.IsVideo() {
		c.VideoWhole.Add(1)
	}
	return snd.flush()
}

// faults plays the timing faults: timestamp jumps and SSRC restarts.
func (snd *sender) faults(playing time.Duration, now time.Time) {
	f := snd.s.srv.Faults
	if f.TimestampJump > 0 && snd.jumped < 2 && playing >= time.Duration(snd.jumped+1)*f.TimestampJump {
		by := int64(3600) // +1 h, then −5 s
		if snd.jumped == 1 {
			by = -5
		}
		snd.jumped++
		for i, pk := range snd.pk {
			pk.SetTimestampOffset(pk.TimestampOffset() + uint32(by*int64(snd.s.tracks[i].ClockRate)))
		}
	}
	if f.SSRCEvery > 0 {
		if snd.ssrcAt.IsZero() {
			snd.ssrcAt = now
		}
		if now.Sub(snd.ssrcAt) >= f.SSRCEvery {
			snd.ssrcAt = now
			for _, pk := range snd.pk {
				pk.Restart(rand.Uint32())
			}
		}
	}
}

// emit queues a TCP frame (flushed per unit) or sends a UDP datagram.
func (snd *sender) emit(tr sessTransport, b []byte, isRTCP bool) error {
	if tr.rtpAddr != nil {
		if isRTCP {
			snd.s.srv.udp.sendRTCP(b, tr.rtcpAddr)
		} else {
			snd.s.srv.udp.sendRTP(b, tr.rtpAddr)
		}
		return nil
	}
	ch := tr.channel
	if isRTCP {
		ch++
	}
	var hdr [4]byte
	hdr[0], hdr[1] = '$', byte(ch)
	binary.BigEndian.PutUint16(hdr[2:], uint16(len(b)))
	snd.buf.Write(hdr[:])
	snd.buf.Write(b)
	return nil
}

func (snd *sender) flush() error {
	if snd.buf.Len() == 0 {
		return nil
	}
	c := snd.s.c.conn
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(snd.s.srv.WriteTimeout))
	_, err := c.nc.Write(snd.buf.Bytes())
	snd.buf.Reset()
	return err
}

// senderReports sends an RTCP SR per track mapping the wall-clock time of
// the last unit sent (its capture time) to its RTP timestamp.
func (snd *sender) senderReports() error {
	s := snd.s
	for i, tr := range s.trans {
		if !tr.set || snd.last[i].Wall.IsZero() {
			continue
		}
		b, err := snd.pk[i].SenderReport(snd.last[i].Wall, snd.last[i].PTS).Marshal()
		if err != nil {
			continue
		}
		if err := snd.emit(tr, b, true); err != nil {
			return err
		}
	}
	return snd.flush()
}
