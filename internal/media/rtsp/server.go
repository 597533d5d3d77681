package rtsp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"vigil/internal/media"
)

// Faults make a server misbehave the way real cameras do, for the
// simulator and for tests of the client's resilience. The zero value is a
// well-behaved server.
type Faults struct {
	DropPercent     float64       // drop this share (0–100) of outgoing RTP packets
	GarbagePercent  float64       // send this share of extra garbage packets
	DisconnectEvery time.Duration // close each playing session after this long
	StallEvery      time.Duration // every StallEvery of playing,
	Stall           time.Duration // send nothing for Stall
	OmitSprop       bool          // leave sprop-parameter-sets (and VPS/SPS/PPS) out of the SDP
	EarlyRTP        bool          // send RTP before the PLAY answer
	RefuseUDP       bool          // answer UDP SETUPs with 461
	ReorderPercent  float64       // send this share of RTP packets after the packet that follows them

	// TimestampJump: after this long playing, RTP time jumps forward 1 h;
	// after twice this long, back 5 s (MED-4, RET-3).
	TimestampJump time.Duration
	// ClockRate, when set, is the video clock rate the SDP announces
	// (e.g. 1000), while packets are stamped at 90 kHz.
	ClockRate int
	// SSRCEvery restarts the RTP stream (new SSRC, sequence number and
	// timestamp offset) every interval.
	SSRCEvery time.Duration
	// BadHeader adds a header line without a colon to every answer.
	BadHeader bool
	// StaleNonce answers keep-alives whose Digest nonce is older than this
	// with 401 and a fresh nonce, stale=true.
	StaleNonce time.Duration
	// Every BurstEvery, the sender holds units for Burst, then sends them
	// back to back (a camera that buffers and bursts).
	BurstEvery, Burst time.Duration
}

// ServerCounters count what a Server sent to players. Fields are updated
// atomically.
type ServerCounters struct {
	VideoUnits atomic.Int64 // video access units packetised and written
	AudioUnits atomic.Int64 // audio units packetised and written
	// VideoWhole counts video units of which every packet was sent
	// (Faults.DropPercent drops some): what a receiver can keep whole.
	VideoWhole  atomic.Int64
	StaleNonces atomic.Int64 // keep-alives answered 401 stale (Faults.StaleNonce)
	KeepAlives  atomic.Int64 // keep-alives answered 200 in a playing session
}

// Server serves the streams of a hub over RTSP and accepts published ones.
// Set the fields, then call Start; Close stops it.
type Server struct {
	Hub *media.Hub
	// Auth decides every DESCRIBE/SETUP/PLAY (ActionRead) and
	// ANNOUNCE/SETUP/RECORD (ActionPublish). Nil allows everything.
	Auth       AuthFunc
	Realm      string // Digest realm; default "Vigil"
	AllowBasic bool   // accept Basic credentials as well as Digest
	// SessionTimeout is announced in the Session header; a session whose
	// client sends nothing for that long is closed (default 60 s).
	SessionTimeout time.Duration
	// WriteTimeout bounds a write to a client; a client that cannot take
	// the stream for that long is disconnected (default 10 s).
	WriteTimeout time.Duration
	// NoUDP disables UDP transport (SETUPs asking for it get 461).
	NoUDP bool
	// NoGOPCache starts players at the next keyframe instead of bursting
	// the hub's GOP cache at PLAY: a slower first picture, but no burst to
	// confuse clients that time packets by their arrival (GStreamer's
	// rtspsrc in its default buffer-mode, auto).
	NoGOPCache bool
	Faults     Faults
	// Counters, when set, counts what the server sent (benchmarks compare
	// it with what clients received).
	Counters *ServerCounters
	// Logf logs connection-level events; nil discards them.
	Logf func(format string, args ...any)

	ln     net.Listener
	udp    *udpPair
	auth   *serverAuth
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[*serverConn]struct{}
}

// Start listens on addr ("127.0.0.1:8554"; port 0 picks one) and serves in
// the background. UDP uses a pair of ports chosen at start.
func (s *Server) Start(addr string) error {
	if s.Hub == nil {
		return errors.New("rtsp server: no hub")
	}
	if s.Realm == "" {
		s.Realm = "Vigil"
	}
	if s.SessionTimeout <= 0 {
		s.SessionTimeout = 60 * time.Second
	}
	if s.WriteTimeout <= 0 {
		s.WriteTimeout = 10 * time.Second
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("rtsp server: listen %s: %w", addr, err)
	}
	s.ln = ln
	s.auth = newServerAuth(s.Realm, s.AllowBasic)
	s.conns = map[*serverConn]struct{}{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if !s.NoUDP && !s.Faults.RefuseUDP {
		host := ln.Addr().(*net.TCPAddr).IP
		rtpc, rtcpc, err := listenUDPPair(host)
		if err != nil {
			ln.Close()
			return fmt.Errorf("rtsp server: %w", err)
		}
		s.udp = newUDPPair(s, rtpc, rtcpc)
		s.wg.Add(2)
		go s.udp.read(&s.wg, false)
		go s.udp.read(&s.wg, true)
	}
	s.wg.Add(1)
	go s.accept()
	return nil
}

// Addr returns the TCP address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server: the listener, every connection and session.
// It waits for all of the server's goroutines.
func (s *Server) Close() error {
	if s.ln == nil {
		return nil
	}
	s.cancel()
	err := s.ln.Close()
	if s.udp != nil {
		s.udp.close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Connections returns how many client connections are open.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			s.logf("rtsp server: accept: %v", err)
			return
		}
		c := &serverConn{srv: s, nc: nc, conn: NewConn(nc)}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

func newSessionID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// streamPath splits a request path into the stream name and the track index
// of a "/trackID=N" suffix (-1 without one).
func streamPath(path string) (name string, track int) {
	p := strings.Trim(path, "/")
	track = -1
	if i := strings.LastIndex(p, "/trackID="); i >= 0 {
		if n, err := strconv.Atoi(p[i+len("/trackID="):]); err == nil && n >= 0 && n < 64 {
			return p[:i], n
		}
	}
	if strings.HasPrefix(p, "trackID=") { // control relative to a root stream
		if n, err := strconv.Atoi(p[len("trackID="):]); err == nil && n >= 0 && n < 64 {
			return "", n
		}
	}
	return p, track
}

// authorize runs the AuthFunc. It returns the response to send when the
// request may not proceed, or nil.
func (s *Server) authorize(c *serverConn, req *Request, name string, action Action) *Response {
	if s.Auth == nil {
		return nil
	}
	ar := &AuthRequest{Path: name, Action: action, Method: req.Method, RemoteAddr: c.nc.RemoteAddr().String()}
	now := time.Now()
	if h := req.Header.Get("Authorization"); h != "" {
		user, check, err := s.auth.credentials(req.Method, h, now)
		if err == nil {
			ar.User, ar.check = user, check
		}
	}
	err := s.Auth(ar)
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrAuth) {
		resp := &Response{StatusCode: StatusUnauthorized, Header: Header{}}
		for _, ch := range s.auth.challenges(now) {
			resp.Header.Add("WWW-Authenticate", ch)
		}
		return resp
	}
	return &Response{StatusCode: StatusForbidden, Header: Header{}}
}
