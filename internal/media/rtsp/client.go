package rtsp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigil/internal/media"
)

// TransportKind selects how the client asks for RTP.
type TransportKind int

// Transport kinds.
const (
	TransportAuto      TransportKind = iota // UDP, falling back to TCP
	TransportTCP                            // interleaved on the RTSP connection
	TransportUDP                            // unicast UDP only
	TransportMulticast                      // UDP multicast
)

func (k TransportKind) String() string {
	switch k {
	case TransportTCP:
		return "tcp"
	case TransportUDP:
		return "udp"
	case TransportMulticast:
		return "multicast"
	}
	return "auto"
}

// ParseTransportKind parses "auto", "tcp", "udp" or "multicast".
func ParseTransportKind(s string) (TransportKind, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return TransportAuto, nil
	case "tcp":
		return TransportTCP, nil
	case "udp":
		return TransportUDP, nil
	case "multicast", "udp_multicast":
		return TransportMulticast, nil
	}
	return 0, fmt.Errorf("unknown RTSP transport %q (want auto, tcp, udp or multicast)", s)
}

// ClientOptions configure Pull.
type ClientOptions struct {
	Transport TransportKind
	// Username and Password override the URL's user information.
	Username, Password string
	// Timeout bounds each request and the silence of a playing session
	// (default 10 s).
	Timeout time.Duration
	// UDPTimeout is how long TransportAuto waits for the first UDP packet
	// before falling back to TCP (default 3 s).
	UDPTimeout   time.Duration
	MaxRedirects int    // default 5
	UserAgent    string // default "Vigil"
	Stats        *Stats // optional; counted into
	// OnUnit receives every access unit, in order per track. Calls are
	// serialised. It must not block for long: it runs on the read path.
	OnUnit func(media.Unit)
	// OnTracks is called (serialised with OnUnit) with the tracks of the
	// SDP before the first unit, and again whenever a track's parameters
	// change, e.g. when the stream delivers parameter sets the SDP lacked.
	OnTracks func([]media.Track)
	// Dialer dials the RTSP connection; nil uses net.Dialer.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// Log, if set, gets a line for each camera fault handled (Event),
	// never one per packet.
	Log *slog.Logger
	// OnEvent, if set, is told of each camera fault handled. It must not
	// block: it may run on the read path.
	OnEvent func(Event)
}

func (o *ClientOptions) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.UDPTimeout <= 0 {
		o.UDPTimeout = 3 * time.Second
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 5
	}
	if o.UserAgent == "" {
		o.UserAgent = "Vigil"
	}
	if o.Stats == nil {
		o.Stats = &Stats{}
	}
	if o.Dialer == nil {
		var d net.Dialer
		o.Dialer = d.DialContext
	}
}

// client is one RTSP control connection.
type client struct {
	opts    *ClientOptions
	url     *url.URL // the presentation URL, credentials stripped
	conn    *Conn
	cseq    int
	session string
	timeout int // session timeout in seconds, from the Session header
	auth    *clientAuth
	user    string
	pass    string
	public  []string
	onFrame func(*Frame) // frames that arrive while waiting for a response
	badSeen bool         // malformed header lines were reported once
}

// noteBadLines counts malformed header lines a response carried and
// reports the first ones.
func (c *client) noteBadLines(method string, n int) {
	if n == 0 {
		return
	}
	c.opts.Stats.BadHeaderLines.Add(int64(n))
	if !c.badSeen {
		c.badSeen = true
		c.opts.event(c.url, EventBadHeader, fmt.Sprintf("%d malformed header line(s) in the answer to %s skipped", n, method))
	}
}

func dialClient(ctx context.Context, u *url.URL, opts *ClientOptions) (*client, error) {
	c := &client{opts: opts, user: opts.Username, pass: opts.Password}
	if u.User != nil && c.user == "" {
		c.user = u.User.Username()
		c.pass, _ = u.User.Password()
	}
	cu := *u
	cu.User = nil
	c.url = &cu
	dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	nc, err := opts.Dialer(dctx, "tcp", hostPort(u))
	if err != nil {
		if classify(err) != err {
			return nil, fmt.Errorf("dial %s: %w", hostPort(u), classify(err))
		}
		return nil, fmt.Errorf("%w: dial %s: %w", ErrConnect, hostPort(u), err)
	}
	c.conn = NewConn(nc)
	return c, nil
}

func (c *client) close() { c.conn.Close() }

// do sends req and waits for its response, answering one 401 challenge.
func (c *client) do(ctx context.Context, req *Request) (*Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.roundTrip(ctx, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == StatusUnauthorized && attempt == 0 && c.user != "" {
			a, err := newClientAuth(c.user, c.pass, resp.Header.Values("WWW-Authenticate"))
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", req.Method, redact(req.URL), err)
			}
			c.auth = a
			continue
		}
		return resp, nil
	}
}

func (c *client) roundTrip(ctx context.Context, req *Request) (*Response, error) {
	c.cseq++
	cseq := c.cseq
	if req.Header == nil {
		req.Header = Header{}
	}
	req.Header.Set("CSeq", strconv.Itoa(cseq))
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if c.session != "" {
		req.Header.Set("Session", c.session)
	}
	if c.auth != nil {
		req.Header.Set("Authorization", c.auth.header(req.Method, req.URL.String()))
	}
	deadline := time.Now().Add(c.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.conn.SetWriteDeadline(deadline)
	if err := c.conn.WriteRequest(req); err != nil {
		return nil, fmt.Errorf("%s %s: write: %w", req.Method, redact(req.URL), classify(err))
	}
	c.conn.SetWriteDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { c.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	c.conn.SetReadDeadline(deadline)
	defer c.conn.SetReadDeadline(time.Time{})
	for {
		m, err := c.conn.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%s %s: read response: %w", req.Method, redact(req.URL), classify(err))
		}
		switch m := m.(type) {
		case *Frame:
			if c.onFrame != nil {
				c.onFrame(m)
			}
		case *Request:
			c.answerServerRequest(m)
		case *Response:
			if got := m.Header.Get("CSeq"); got != "" && got != strconv.Itoa(cseq) {
				continue // a late answer to an earlier request
			}
			c.noteBadLines(req.Method, m.BadLines)
			return m, nil
		}
	}
}

// answerServerRequest answers requests a server sends to the client
// (GET_PARAMETER pings, ANNOUNCE of a change): 200 for pings, 501 otherwise.
func (c *client) answerServerRequest(r *Request) {
	resp := &Response{StatusCode: StatusOK, Header: Header{}}
	if r.Method != MethodGetParameter && r.Method != MethodOptions && r.Method != MethodSetParameter {
		resp.StatusCode = StatusNotImplemented
	}
	resp.Header.Set("CSeq", r.Header.Get("CSeq"))
	c.conn.WriteResponse(resp)
}

// checkStatus turns a non-2xx response into a StatusError.
func checkStatus(method string, resp *Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &StatusError{Method: method, Code: resp.StatusCode, Reason: resp.Reason}
}

func (c *client) supports(method string) bool {
	if c.public == nil {
		return true // unknown: try it
	}
	for _, m := range c.public {
		if m == method {
			return true
		}
	}
	return false
}

// options sends OPTIONS; failures other than redirects and auth are
// tolerated (some cameras answer OPTIONS badly but play fine).
func (c *client) options(ctx context.Context) (*Response, error) {
	resp, err := c.do(ctx, &Request{Method: MethodOptions, URL: c.url})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == StatusOK {
		c.public = ParsePublic(resp.Header.Get("Public"))
	}
	return resp, nil
}

func isRedirect(code int) bool {
	return code == StatusMovedPermanently || code == StatusFound || code == 303 || code == 305 || code == 307
}

// errRedirect carries a redirect target up to the connect loop.
type errRedirect struct{ to *url.URL }

func (e *errRedirect) Error() string { return "redirect to " + redact(e.to) }

func redirectTarget(cur *url.URL, resp *Response) (*url.URL, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, fmt.Errorf("%w: %d without Location", ErrProtocol, resp.StatusCode)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("%w: redirect Location %q: %v", ErrProtocol, trunc(loc), err)
	}
	u = cur.ResolveReference(u)
	if u.User == nil && cur.User != nil {
		u.User = cur.User
	}
	return u, nil
}

// keepAliveInterval is half the session timeout (default 60 s).
func (c *client) keepAliveInterval() time.Duration {
	t := c.timeout
	if t <= 0 {
		t = 60
	}
	d := time.Duration(t) * time.Second / 2
	if d < time.Second {
		d = time.Second
	}
	return d
}

// sendKeepAlive writes a GET_PARAMETER (or OPTIONS when the server did not
// list GET_PARAMETER) without waiting for the answer: the session's reader
// consumes it.
func (c *client) sendKeepAlive(mu *sync.Mutex) error {
	mu.Lock()
	defer mu.Unlock()
	method := MethodGetParameter
	if !c.supports(MethodGetParameter) {
		method = MethodOptions
	}
	c.cseq++
	req := &Request{Method: method, URL: c.url, Header: Header{}}
	req.Header.Set("CSeq", strconv.Itoa(c.cseq))
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if c.session != "" {
		req.Header.Set("Session", c.session)
	}
	if c.auth != nil {
		req.Header.Set("Authorization", c.auth.header(method, c.url.String()))
	}
	c.conn.SetWriteDeadline(time.Now().Add(c.opts.Timeout))
	defer c.conn.SetWriteDeadline(time.Time{})
	return c.conn.WriteRequest(req)
}

func (c *client) teardown() {
	if c.session == "" {
		return
	}
	req := &Request{Method: MethodTeardown, URL: c.url, Header: Header{}}
	c.cseq++
	req.Header.Set("CSeq", strconv.Itoa(c.cseq))
	req.Header.Set("Session", c.session)
	if c.auth != nil {
		req.Header.Set("Authorization", c.auth.header(MethodTeardown, c.url.String()))
	}
	c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	c.conn.WriteRequest(req) // best effort; we do not wait for the answer
}

var errClosed = errors.New("rtsp: session closed")
