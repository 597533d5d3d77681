package rtsp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"

	"vigil/internal/media"
	"vigil/internal/media/rtpdec"
)

// serverConn is one client's RTSP connection; it holds at most one session.
type serverConn struct {
	srv  *Server
	nc   net.Conn
	conn *Conn
	sess *serverSession

	// From ANNOUNCE, until RECORD.
	announced     []media.Track
	announcedPT   []uint8
	announcedOpts []rtpdec.ReceiverOptions
	announcedCtl  []string // each track's a=control, as the publisher will SETUP it
	announcedName string
}

func (c *serverConn) serve() {
	defer c.nc.Close()
	defer func() {
		if c.sess != nil {
			c.sess.close()
		}
	}()
	for {
		c.nc.SetReadDeadline(c.readDeadline())
		m, err := c.conn.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && c.sess != nil && c.sess.alive(c.srv.SessionTimeout) {
				continue // a UDP session whose client pings over RTCP
			}
			if c.srv.ctx.Err() == nil && (!errors.Is(err, io.EOF) || c.sess != nil) {
				c.srv.logf("rtsp server: %s: connection ends: %v", c.nc.RemoteAddr(), err)
			}
			return
		}
		if c.sess != nil {
			c.sess.touch()
		}
		switch m := m.(type) {
		case *Frame:
			if c.sess != nil {
				c.sess.handleFrame(m)
			}
		case *Response:
			// Answers to nothing we asked: ignore.
		case *Request:
			resp := c.handle(m)
			if c.srv.Faults.BadHeader {
				resp.junk = "X-Vendor-Extension-Without-Colon"
			}
			resp.Header.Set("CSeq", m.Header.Get("CSeq"))
			resp.Header.Set("Server", "Vigil")
			if c.sess != nil && resp.Header.Get("Session") == "" && m.Method != MethodTeardown {
				resp.Header.Set("Session", c.sess.id+";timeout="+strconv.Itoa(int(c.srv.SessionTimeout/time.Second)))
			}
			var werr error
			if m.Method == MethodPlay && resp.StatusCode == StatusOK && c.sess != nil {
				werr = c.sess.play(resp, c.conn)
			} else {
				c.nc.SetWriteDeadline(time.Now().Add(c.srv.WriteTimeout))
				werr = c.conn.WriteResponse(resp)
			}
			if werr != nil || m.Method == MethodTeardown {
				if werr != nil {
					c.srv.logf("rtsp server: %s: %s: %v", c.nc.RemoteAddr(), m.Method, werr)
				}
				return
			}
		}
	}
}

func (c *serverConn) readDeadline() time.Time {
	if c.sess != nil && c.sess.playing() && c.sess.tcp {
		return time.Time{} // the client may be silent; writes notice a dead one
	}
	return time.Now().Add(c.srv.SessionTimeout)
}

func status(code int) *Response { return &Response{StatusCode: code, Header: Header{}} }

func (c *serverConn) handle(req *Request) *Response {
	name, track := streamPath(req.URL.Path)
	switch req.Method {
	case MethodOptions:
		r := status(StatusOK)
		r.Header.Set("Public", "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER")
		return r
	case MethodGetParameter, MethodSetParameter:
		if r := c.staleNonce(req); r != nil {
			return r
		}
		if cn := c.srv.Counters; cn != nil && c.sess != nil {
			cn.KeepAlives.Add(1)
		}
		return status(StatusOK)
	case MethodDescribe:
		return c.describe(req, name)
	case MethodAnnounce:
		return c.announce(req, name)
	case MethodSetup:
		return c.setup(req, name, track)
	case MethodPlay:
		if r := c.checkSession(req, modePlay); r != nil {
			return r
		}
		return status(StatusOK) // serve() starts the stream with the answer
	case MethodRecord:
		if r := c.checkSession(req, modeRecord); r != nil {
			return r
		}
		if err := c.sess.record(); err != nil {
			c.srv.logf("rtsp server: RECORD %s: %v", c.sess.name, err)
			if errors.Is(err, media.ErrSourceExists) {
				return status(StatusForbidden)
			}
			return status(StatusInternalServerError)
		}
		return status(StatusOK)
	case MethodPause:
		return status(StatusNotImplemented)
	case MethodTeardown:
		if c.sess != nil {
			c.sess.close()
			c.sess = nil
		}
		return status(StatusOK)
	}
	return status(StatusNotImplemented)
}

func (c *serverConn) checkSession(req *Request, m sessMode) *Response {
	if c.sess == nil || c.sess.mode != m {
		return status(StatusMethodNotValidInState)
	}
	if id, _ := ParseSession(req.Header.Get("Session")); id != c.sess.id {
		return status(StatusSessionNotFound)
	}
	return nil
}

func (c *serverConn) baseURL(req *Request, name string) string {
	host := req.URL.Host
	if host == "" {
		host = c.nc.LocalAddr().String()
	}
	return "rtsp://" + host + "/" + name + "/"
}

func (c *serverConn) describe(req *Request, name string) *Response {
	if r := c.srv.authorize(c, req, name, ActionRead); r != nil {
		return r
	}
	rd, err := c.srv.Hub.Subscribe(name, media.ReaderOptions{QueueLen: 1})
	if err != nil {
		return status(StatusNotFound)
	}
	tracks := rd.Tracks()
	rd.Close()
	body, err := c.srv.sdpFor(tracks, c.nc.LocalAddr())
	if err != nil {
		c.srv.logf("rtsp server: DESCRIBE %s: %v", name, err)
		return status(StatusInternalServerError)
	}
	r := status(StatusOK)
	r.Header.Set("Content-Type", "application/sdp")
	r.Header.Set("Content-Base", c.baseURL(req, name))
	r.Body = body
	return r
}

// sdpFor builds the SDP of a stream: one media per track, control trackID=N.
func (s *Server) sdpFor(tracks []media.Track, local net.Addr) ([]byte, error) {
	ip := "0.0.0.0"
	if a, ok := local.(*net.TCPAddr); ok && a.IP.To4() != nil {
		ip = a.IP.String()
	}
	sd := sdp.SessionDescription{
		Origin: sdp.Origin{Username: "-", SessionID: uint64(time.Now().UnixNano() & 0x7fffffff), SessionVersion: 1,
			NetworkType: "IN", AddressType: "IP4", UnicastAddress: ip},
		SessionName:           "Vigil",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4", Address: &sdp.Address{Address: "0.0.0.0"}},
		TimeDescriptions:      []sdp.TimeDescription{{}},
	}
	sd.Attributes = append(sd.Attributes, sdp.NewAttribute("tool", "Vigil"), sdp.NewAttribute("control", "*"))
	for i, t := range tracks {
		if s.Faults.OmitSprop {
			t.VPS, t.SPS, t.PPS = nil, nil, nil
		}
		md := rtpdec.MediaDescription(t, payloadType(i, t))
		if md == nil {
			return nil, fmt.Errorf("track %d: codec %s cannot be described", i, t.Codec)
		}
		if s.Faults.ClockRate > 0 && t.Codec.IsVideo() {
			for j, a := range md.Attributes {
				if a.Key == "rtpmap" {
					md.Attributes[j].Value = strings.Replace(a.Value, "/90000", "/"+strconv.Itoa(s.Faults.ClockRate), 1)
				}
			}
		}
		md.Attributes = append(md.Attributes, sdp.NewAttribute("control", "trackID="+strconv.Itoa(i)))
		sd.MediaDescriptions = append(sd.MediaDescriptions, md)
	}
	return sd.Marshal()
}

// payloadType is the RTP payload type the server uses for track i.
func payloadType(i int, t media.Track) uint8 {
	switch t.Codec {
	case media.PCMU:
		if t.ClockRate == 8000 && t.Channels <= 1 {
			return 0
		}
	case media.PCMA:
		if t.ClockRate == 8000 && t.Channels <= 1 {
			return 8
		}
	}
	return uint8(96 + i)
}

func (c *serverConn) announce(req *Request, name string) *Response {
	if r := c.srv.authorize(c, req, name, ActionPublish); r != nil {
		return r
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(req.Body)); err != nil {
		return status(StatusBadRequest)
	}
	c.announced, c.announcedPT, c.announcedOpts, c.announcedCtl = nil, nil, nil, nil
	for _, md := range sd.MediaDescriptions {
		t, pt, err := rtpdec.TrackFromMediaDescription(md)
		if err != nil {
			c.srv.logf("rtsp server: ANNOUNCE %s: skip media: %v", name, err)
			continue
		}
		c.announced = append(c.announced, t)
		c.announcedPT = append(c.announcedPT, pt)
		c.announcedOpts = append(c.announcedOpts, rtpdec.OptionsFromMediaDescription(md))
		ctl, _ := md.Attribute("control")
		c.announcedCtl = append(c.announcedCtl, ctl)
	}
	if len(c.announced) == 0 {
		return status(StatusUnsupportedMediaType)
	}
	c.announcedName = name
	return status(StatusOK)
}

func (c *serverConn) setup(req *Request, name string, track int) *Response {
	mode := modePlay
	if c.announced != nil {
		if n, t, ok := c.announcedTrack(req.URL.Path); ok {
			name, track, mode = n, t, modeRecord
		}
	}
	action := ActionRead
	if mode == modeRecord {
		action = ActionPublish
	}
	if r := c.srv.authorize(c, req, name, action); r != nil {
		return r
	}
	ts, err := ParseTransports(req.Header.Get("Transport"))
	if err != nil {
		return status(StatusBadRequest)
	}
	if c.sess == nil {
		sess, err := newServerSession(c, name, mode)
		if err != nil {
			return status(StatusNotFound)
		}
		c.sess = sess
	} else if c.sess.name != name || c.sess.mode != mode {
		return status(StatusMethodNotValidInState)
	} else if id, _ := ParseSession(req.Header.Get("Session")); id != "" && id != c.sess.id {
		return status(StatusSessionNotFound)
	}
	if track < 0 {
		track = 0 // single-track streams are set up at their base URL
	}
	if track >= len(c.sess.tracks) {
		return status(StatusNotFound)
	}
	for _, t := range ts {
		ans, ok := c.sess.addTransport(track, t)
		if !ok {
			continue
		}
		r := status(StatusOK)
		r.Header.Set("Transport", ans.String())
		return r
	}
	return status(StatusUnsupportedTransport)
}

// announcedTrack matches a SETUP path against the controls the publisher
// announced ("streamid=0" from ffmpeg, "trackID=1", absolute URLs).
func (c *serverConn) announcedTrack(path string) (string, int, bool) {
	p := strings.Trim(path, "/")
	name := c.announcedName
	if p == name && len(c.announced) == 1 {
		return name, 0, true
	}
	rest, ok := strings.CutPrefix(p, name+"/")
	if !ok {
		return "", 0, false
	}
	for i, ctl := range c.announcedCtl {
		if u, err := url.Parse(ctl); err == nil && u.Scheme != "" {
			ctl = strings.TrimPrefix(strings.Trim(u.Path, "/"), name+"/")
		}
		if ctl == rest {
			return name, i, true
		}
	}
	return "", 0, false
}

func (c *serverConn) remoteIP() net.IP {
	if a, ok := c.nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP
	}
	return nil
}

// staleNonce plays Faults.StaleNonce: a keep-alive of a playing session
// whose Digest nonce is older than that gets 401 with a fresh nonce and
// stale=true, as cameras that rotate nonces answer.
func (c *serverConn) staleNonce(req *Request) *Response {
	f := c.srv.Faults.StaleNonce
	if f <= 0 || c.srv.auth == nil || c.sess == nil {
		return nil
	}
	h := req.Header.Get("Authorization")
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "digest") {
		return nil
	}
	now := time.Now()
	age, ok := c.srv.auth.nonceAge(parseAuthParams(rest)["nonce"], now)
	if ok && age < f {
		return nil
	}
	if cn := c.srv.Counters; cn != nil {
		cn.StaleNonces.Add(1)
	}
	resp := status(StatusUnauthorized)
	for _, ch := range c.srv.auth.challenges(now) {
		if strings.HasPrefix(ch, "Digest ") {
			ch += ", stale=true"
		}
		resp.Header.Add("WWW-Authenticate", ch)
	}
	return resp
}
