package rtsp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"vigil/internal/media"
	"vigil/internal/media/rtpdec"
)

// Session is one playing RTSP session: a camera's stream being pulled.
type Session struct {
	c      *client
	opts   *ClientOptions
	kind   TransportKind
	tracks []*clientTrack

	deliverMu sync.Mutex // serialises OnUnit / OnTracks and receiver state
	ctlMu     sync.Mutex // serialises control-connection writes after PLAY
	lastRecv  atomic.Int64
	gotFirst  chan struct{}
	firstOnce sync.Once

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}
	errMu  sync.Mutex
	err    error
	closed sync.Once

	authFails int // 401s to keep-alives in a row (readControl only)
}

type clientTrack struct {
	index   int
	control *url.URL
	recv    *rtpdec.Receiver
	last    media.Track // as last reported through OnTracks
	channel int         // interleaved RTP channel (RTCP is channel+1)
	rtp     *net.UDPConn
	rtcp    *net.UDPConn
	peer    *net.UDPAddr // where to send RTCP receiver reports
	rr      rrState
	pt      uint8 // payload type from the SDP
	ssrc    ssrcLock
	seen    rtpdec.ReceiverStats // counted into Stats so far
}

// Pull connects to rawurl, negotiates a session and starts playing it. ctx
// bounds the negotiation only; the session then lives until it fails (see
// Wait) or is closed. Units flow to opts.OnUnit meanwhile. With
// TransportAuto it tries UDP first and falls back to TCP when SETUP answers
// 461 or no packet arrives within UDPTimeout.
func Pull(ctx context.Context, rawurl string, opts ClientOptions) (*Session, error) {
	opts.defaults()
	st := opts.Stats
	u, err := ParseURL(rawurl)
	if err != nil {
		return nil, st.count(fmt.Errorf("%w: %w", ErrProtocol, err))
	}
	kinds := []TransportKind{opts.Transport}
	if opts.Transport == TransportAuto {
		kinds = []TransportKind{TransportUDP, TransportTCP}
	}
	for i, kind := range kinds {
		s, err := pullOnce(ctx, u, &opts, kind)
		last := i == len(kinds)-1
		if err != nil {
			if !last && errors.Is(err, ErrTransport) {
				st.Fallbacks.Add(1)
				opts.event(u, EventFallback, fmt.Sprintf("%s refused (%v); trying %s", kind, err, kinds[i+1]))
				continue
			}
			return nil, st.count(fmt.Errorf("pull %s: %w", redact(u), err))
		}
		if kind == TransportUDP && opts.Transport == TransportAuto {
			select {
			case <-s.gotFirst:
			case <-s.done:
			case <-time.After(opts.UDPTimeout):
				s.Close()
				st.Fallbacks.Add(1)
				opts.event(u, EventFallback, fmt.Sprintf("no UDP packet within %s; trying tcp", opts.UDPTimeout))
				continue
			case <-ctx.Done():
				s.Close()
				return nil, ctx.Err()
			}
		}
		st.Connects.Add(1)
		return s, nil
	}
	return nil, st.count(fmt.Errorf("pull %s: %w", redact(u), ErrTransport))
}

func pullOnce(ctx context.Context, u *url.URL, opts *ClientOptions, kind TransportKind) (*Session, error) {
	for redirects := 0; ; redirects++ {
		if redirects > opts.MaxRedirects {
			return nil, fmt.Errorf("%w: more than %d redirects", ErrProtocol, opts.MaxRedirects)
		}
		s, err := negotiate(ctx, u, opts, kind)
		var rd *errRedirect
		if errors.As(err, &rd) {
			opts.Stats.Redirects.Add(1)
			u = rd.to
			continue
		}
		return s, err
	}
}

// negotiate runs OPTIONS, DESCRIBE, SETUP and PLAY on a new connection.
func negotiate(ctx context.Context, u *url.URL, opts *ClientOptions, kind TransportKind) (_ *Session, err error) {
	c, err := dialClient(ctx, u, opts)
	if err != nil {
		return nil, err
	}
	s := &Session{c: c, opts: opts, kind: kind, gotFirst: make(chan struct{}), done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			s.cancel()
			s.closeSockets()
			c.close()
		}
	}()
	resp, err := c.options(ctx)
	if err != nil {
		return nil, err
	}
	if isRedirect(resp.StatusCode) {
		to, err := redirectTarget(u, resp)
		if err != nil {
			return nil, err
		}
		return nil, &errRedirect{to: to}
	}
	if resp.StatusCode == StatusUnauthorized {
		return nil, checkStatus(MethodOptions, resp)
	}
	req := &Request{Method: MethodDescribe, URL: c.url, Header: Header{"Accept": {"application/sdp"}}}
	resp, err = c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if isRedirect(resp.StatusCode) {
		to, err := redirectTarget(u, resp)
		if err != nil {
			return nil, err
		}
		return nil, &errRedirect{to: to}
	}
	if err := checkStatus(MethodDescribe, resp); err != nil {
		return nil, err
	}
	if err := s.describe(resp); err != nil {
		return nil, err
	}
	if opts.OnTracks != nil {
		opts.OnTracks(s.Tracks())
	}
	c.onFrame = s.handleFrame // RTP may precede the PLAY answer
	for _, t := range s.tracks {
		if err := s.setup(ctx, t); err != nil {
			return nil, err
		}
	}
	resp, err = c.do(ctx, &Request{Method: MethodPlay, URL: s.aggregateURL(), Header: Header{"Range": {"npt=0.000-"}}})
	if err != nil {
		return nil, err
	}
	if err := checkStatus(MethodPlay, resp); err != nil {
		return nil, err
	}
	s.start()
	return s, nil
}

// aggregateURL is the URL for PLAY and TEARDOWN: the session-level control.
func (s *Session) aggregateURL() *url.URL { return s.c.url }

func (s *Session) describe(resp *Response) error {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(resp.Body)); err != nil {
		return fmt.Errorf("%w: DESCRIBE: parse SDP: %v", ErrProtocol, err)
	}
	base := contentBase(resp.Header, s.c.url)
	if ctl, ok := sd.Attribute("control"); ok && ctl != "*" && ctl != "" {
		agg, err := resolveControl(base, ctl)
		if err != nil {
			return err
		}
		base = agg
		s.c.url = agg
	}
	var skipped []string
	for _, md := range sd.MediaDescriptions {
		tr, pt, err := rtpdec.TrackFromMediaDescription(md)
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		ctl, _ := md.Attribute("control")
		cu, err := resolveControl(base, ctl)
		if err != nil {
			return err
		}
		idx := len(s.tracks)
		ropts := rtpdec.OptionsFromMediaDescription(md)
		ropts.OnEvent = func(e rtpdec.Event) {
			s.opts.event(s.c.url, e.Kind, fmt.Sprintf("track %d (%s): %s", idx, tr.Codec, e.Detail))
		}
		recv, err := rtpdec.NewReceiver(tr, idx, ropts)
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		s.tracks = append(s.tracks, &clientTrack{index: idx, control: cu, recv: recv, last: recv.Track(), channel: 2 * idx, pt: pt})
	}
	if len(s.tracks) == 0 {
		return fmt.Errorf("%w: DESCRIBE: no supported track (%s)", ErrProtocol, strings.Join(skipped, "; "))
	}
	return nil
}

func (s *Session) setup(ctx context.Context, t *clientTrack) error {
	var want Transport
	switch s.kind {
	case TransportTCP:
		want = Transport{Protocol: "RTP/AVP/TCP", Interleaved: &[2]int{t.channel, t.channel + 1}}
	case TransportMulticast:
		want = Transport{Protocol: "RTP/AVP", Multicast: true}
	default:
		rtpc, rtcpc, err := listenUDPPair(localIP(s.c.conn.NetConn()))
		if err != nil {
			return fmt.Errorf("SETUP: %w", err)
		}
		t.rtp, t.rtcp = rtpc, rtcpc
		p := rtpc.LocalAddr().(*net.UDPAddr).Port
		want = Transport{Protocol: "RTP/AVP", ClientPorts: &[2]int{p, p + 1}}
	}
	req := &Request{Method: MethodSetup, URL: t.control, Header: Header{}}
	req.Header.Set("Transport", want.String())
	resp, err := s.c.do(ctx, req)
	if err != nil {
		return err
	}
	if err := checkStatus(MethodSetup, resp); err != nil {
		return err
	}
	if v := resp.Header.Get("Session"); v != "" {
		s.c.session, s.c.timeout = ParseSession(v)
	}
	got := want
	if v := resp.Header.Get("Transport"); v != "" {
		ts, err := ParseTransports(v)
		if err != nil {
			return fmt.Errorf("SETUP: %w", err)
		}
		got = ts[0]
	}
	switch s.kind {
	case TransportTCP:
		if !got.TCP() && resp.Header.Get("Transport") != "" {
			return fmt.Errorf("%w: SETUP: asked for TCP, server answered %q", ErrTransport, got.String())
		}
		if got.Interleaved != nil {
			t.channel = got.Interleaved[0]
		}
	case TransportMulticast:
		if got.Destination == "" || got.Ports == nil || !validMulticast(got.Destination) {
			return fmt.Errorf("%w: SETUP: multicast answer without group or port: %q", ErrTransport, got.String())
		}
		return s.joinMulticast(t, got)
	default:
		if got.TCP() || got.Multicast {
			return fmt.Errorf("%w: SETUP: asked for UDP, server answered %q", ErrTransport, got.String())
		}
		host := s.c.conn.NetConn().RemoteAddr().(*net.TCPAddr).IP
		if got.ServerPorts != nil {
			t.peer = &net.UDPAddr{IP: host, Port: got.ServerPorts[1]}
		}
	}
	return nil
}

// start launches the readers and the goroutine that keeps the session
// alive and watches it.
func (s *Session) start() {
	s.lastRecv.Store(time.Now().UnixNano())
	s.wg.Add(2)
	go s.readControl()
	go s.maintain()
	for _, t := range s.tracks {
		if t.rtp != nil {
			s.wg.Add(2)
			go s.readUDP(t, false)
			go s.readUDP(t, true)
		}
	}
}

func (s *Session) fail(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
	s.shutdown(false)
}

func (s *Session) shutdown(teardown bool) {
	s.closed.Do(func() {
		s.cancel()
		if teardown {
			s.ctlMu.Lock()
			s.c.teardown()
			s.ctlMu.Unlock()
		}
		s.c.close()
		s.closeSockets()
		go func() {
			s.wg.Wait()
			close(s.done)
		}()
	})
}

func (s *Session) closeSockets() {
	for _, t := range s.tracks {
		if t.rtp != nil {
			t.rtp.Close()
		}
		if t.rtcp != nil {
			t.rtcp.Close()
		}
	}
}

// Close tears the session down and waits for its goroutines.
func (s *Session) Close() error {
	s.errMu.Lock()
	if s.err == nil {
		s.err = errClosed
	}
	s.errMu.Unlock()
	s.shutdown(true)
	<-s.done
	return nil
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Wait blocks until the session ends and returns why. A session ended by
// Close returns nil.
func (s *Session) Wait() error {
	<-s.done
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if s.err == errClosed {
		return nil
	}
	return s.err
}

// Transport reports the transport in use (never TransportAuto).
func (s *Session) Transport() TransportKind { return s.kind }

// URL returns the presentation URL after redirects, without credentials.
func (s *Session) URL() string { return s.c.url.String() }

// Tracks returns the tracks' current descriptions.
func (s *Session) Tracks() []media.Track {
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	out := make([]media.Track, len(s.tracks))
	for i, t := range s.tracks {
		out[i] = t.recv.Track()
	}
	return out
}

func (s *Session) readControl() {
	defer s.wg.Done()
	for {
		m, err := s.c.conn.ReadMessage()
		if err != nil {
			if s.ctx.Err() == nil {
				s.fail(s.opts.Stats.count(fmt.Errorf("read %s: %w", redact(s.c.url), classify(err))))
			}
			return
		}
		switch m := m.(type) {
		case *Frame:
			s.handleFrame(m)
		case *Request:
			s.ctlMu.Lock()
			s.c.answerServerRequest(m)
			s.ctlMu.Unlock()
		case *Response:
			s.c.noteBadLines("keep-alive", m.BadLines)
			switch {
			case m.StatusCode == StatusUnauthorized:
				if err := s.reauth(m); err != nil {
					s.fail(s.opts.Stats.count(err))
					return
				}
				continue
			case m.StatusCode >= 200 && m.StatusCode < 300:
				s.authFails = 0
			}
			switch {
			case m.StatusCode == StatusSessionNotFound:
				s.fail(s.opts.Stats.count(fmt.Errorf("%w: keep-alive: session lost (454)", ErrProtocol)))
				return
			case m.StatusCode == StatusNotImplemented || m.StatusCode == StatusMethodNotAllowed:
				s.ctlMu.Lock()
				s.c.public = []string{MethodOptions} // fall back to OPTIONS pings
				s.ctlMu.Unlock()
			}
		}
	}
}

// rrInterval is how often receiver reports are sent.
const rrInterval = 5 * time.Second

// watchInterval is how often a session checks for silence: an eighth of
// the timeout, between 250 ms and 1 s, so that a session wakes at most a
// few times a second (hundreds of cameras share the machine).
func watchInterval(timeout time.Duration) time.Duration {
	return min(max(timeout/8, 250*time.Millisecond), time.Second)
}

// maintain is the session's one timer-driven goroutine: it ends the session
// when no packet came for Options.Timeout, sends keep-alives and sends
// receiver reports.
func (s *Session) maintain() {
	defer s.wg.Done()
	defer s.syncStats()
	ka := s.c.keepAliveInterval()
	// Keep-alives go out at most a quarter interval late.
	every := max(min(watchInterval(s.opts.Timeout), ka/4), 250*time.Millisecond)
	start := time.Now()
	tk := time.NewTicker(every)
	defer tk.Stop()
	nextKA, nextRR := start.Add(ka), start.Add(rrInterval)
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-tk.C:
			if now.Sub(time.Unix(0, s.lastRecv.Load())) > s.opts.Timeout {
				s.fail(s.opts.Stats.count(fmt.Errorf("%w: no RTP from %s for %s", ErrTimeout, redact(s.c.url), s.opts.Timeout)))
				return
			}
			if !now.Before(nextKA) {
				nextKA = now.Add(ka)
				if err := s.c.sendKeepAlive(&s.ctlMu); err != nil {
					s.fail(s.opts.Stats.count(fmt.Errorf("keep-alive: %w", classify(err))))
					return
				}
			}
			if !now.Before(nextRR) {
				nextRR = now.Add(rrInterval)
				s.sendReceiverReports()
			}
			s.syncStats()
		}
	}
}

func (s *Session) handleFrame(f *Frame) {
	for _, t := range s.tracks {
		switch int(f.Channel) {
		case t.channel:
			s.handleRTP(t, f.Payload)
			return
		case t.channel + 1:
			s.handleRTCP(t, f.Payload)
			return
		}
	}
}

func (s *Session) handleRTP(t *clientTrack, b []byte) {
	var pkt rtp.Packet
	st := s.opts.Stats
	if err := pkt.Unmarshal(b); err != nil || pkt.Version != 2 || pkt.PayloadType != t.pt {
		st.Discarded.Add(1) // garbage: a camera's problem, not a reason to drop the session
		return
	}
	now := time.Now()
	s.lastRecv.Store(now.UnixNano())
	s.firstOnce.Do(func() { close(s.gotFirst) })
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	ok, replay := t.ssrc.accept(pkt.SSRC, pkt.SequenceNumber, b)
	if !ok {
		return // held: the first packet of what may be a new SSRC
	}
	if replay != nil {
		// A new SSRC, confirmed by its second packet: its first goes first.
		var first rtp.Packet
		if first.Unmarshal(replay) == nil {
			s.receive(t, &first, now)
		}
	}
	s.receive(t, &pkt, now)
}

// receive hands one accepted packet to the track's receiver and delivers
// the units it completes. deliverMu is held.
func (s *Session) receive(t *clientTrack, pkt *rtp.Packet, now time.Time) {
	st := s.opts.Stats
	st.Packets.Add(1)
	st.Bytes.Add(int64(len(pkt.Payload)))
	t.rr.received(pkt)
	units := t.recv.HandleRTP(pkt, now)
	for _, u := range units {
		if u.Key && s.opts.OnTracks != nil {
			if cur := t.recv.Track(); trackChanged(t.last, cur) {
				t.last = cur
				all := make([]media.Track, len(s.tracks))
				for i, tt := range s.tracks {
					all[i] = tt.recv.Track()
				}
				s.opts.OnTracks(all)
			}
		}
		st.Units.Add(1)
		if s.opts.OnUnit != nil {
			s.opts.OnUnit(u)
		}
	}
}

func trackChanged(a, b media.Track) bool {
	return a.Width != b.Width || a.Height != b.Height || !bytes.Equal(a.SPS, b.SPS) ||
		!bytes.Equal(a.PPS, b.PPS) || !bytes.Equal(a.VPS, b.VPS) || !bytes.Equal(a.AACConfig, b.AACConfig)
}

// syncStats adds what the receivers counted since the last call to Stats.
func (s *Session) syncStats() {
	st := s.opts.Stats
	s.deliverMu.Lock()
	defer s.deliverMu.Unlock()
	for _, t := range s.tracks {
		r := t.recv.Stats()
		st.PacketsLost.Add(int64(r.Lost - t.seen.Lost))
		st.FramesDropped.Add(int64(r.DroppedUnits - t.seen.DroppedUnits))
		st.FramesDamaged.Add(int64(r.DamagedUnits - t.seen.DamagedUnits))
		st.TimestampJumps.Add(int64(r.TimestampJumps) - int64(t.seen.TimestampJumps))
		st.ClockCorrections.Add(int64(r.ClockCorrections - t.seen.ClockCorrections))
		st.SSRCChanges.Add(int64(r.SSRCChanges - t.seen.SSRCChanges))
		t.seen = r
	}
}

// maxAuthRetries bounds the 401 answers to keep-alives in a row before the
// session is given up as unauthorised.
const maxAuthRetries = 3

// reauth answers a 401 to a keep-alive (a camera that rotates its nonce
// and says stale=true): it takes the new challenge and sends the
// keep-alive again at once.
func (s *Session) reauth(m *Response) error {
	s.authFails++
	if s.c.user == "" || s.authFails > maxAuthRetries {
		return fmt.Errorf("keep-alive: %w", &StatusError{Method: "keep-alive", Code: m.StatusCode, Reason: m.Reason})
	}
	s.ctlMu.Lock()
	a, err := newClientAuth(s.c.user, s.c.pass, m.Header.Values("WWW-Authenticate"))
	if err == nil {
		s.c.auth = a
	}
	s.ctlMu.Unlock()
	if err != nil {
		return fmt.Errorf("keep-alive: %w", err)
	}
	s.opts.Stats.AuthRetries.Add(1)
	stale := strings.Contains(strings.ToLower(strings.Join(m.Header.Values("WWW-Authenticate"), " ")), "stale=true")
	s.opts.event(s.c.url, EventAuthRetry, fmt.Sprintf("keep-alive answered 401 (stale nonce: %v); retried with the new nonce", stale))
	return s.c.sendKeepAlive(&s.ctlMu)
}
