// Package whepclient is a WHEP (RFC 9725) player in Go on pion/webrtc: it
// posts an SDP offer, applies the answer, and hands the H.264 access units
// it receives to a callback. Vigil uses it in tests and in bench/live to
// measure start-up time and to load the server with viewers.
//
// Invariants: the client only receives (recvonly video and audio); the
// offer is sent with all its candidates (no trickle); Close deletes the
// session on the server (the view's end is registered there) and closes
// the peer connection.
package whepclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"vigil/internal/media"
	"vigil/internal/media/rtpdec"
)

// Options configure a client.
type Options struct {
	HTTP   *http.Client // default http.DefaultClient
	Header http.Header  // sent with POST and DELETE (cookies, Authorization)
	// OnUnit is called with each whole video access unit received, on
	// the receiving goroutine.
	OnUnit func(u media.Unit, at time.Time)
	// Loopback gathers only loopback candidates (both ends on one host).
	Loopback bool
	// TCPOnly connects over ICE-TCP only (as behind a firewall that
	// blocks UDP).
	TCPOnly bool
}

// Client is one WHEP viewer.
type Client struct {
	// Location is the session URL the server answered with.
	Location string
	// Answer is the server's SDP answer.
	Answer string

	opts   Options
	pc     *webrtc.PeerConnection
	base   *url.URL
	units  atomic.Uint64
	audio  atomic.Uint64
	first  atomic.Int64
	firstP atomic.Int64
	rstats atomic.Value // rtpdec.ReceiverStats
	posted time.Time
	once   sync.Once
}

// Dial offers to endpoint (the camera's …/whep URL, with its purpose
// query) and returns once the answer is applied; media flows once ICE
// connects. An HTTP error answer is returned as *HTTPError.
func Dial(ctx context.Context, endpoint string, opts Options) (*Client, error) {
	if opts.HTTP == nil {
		opts.HTTP = http.DefaultClient
	}
	base, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("whep: endpoint: %w", err)
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("whep: codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("whep: interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if opts.Loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	}
	if opts.TCPOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("whep: peer connection: %w", err)
	}
	c := &Client{opts: opts, pc: pc, base: base}
	ok := false
	defer func() {
		if !ok {
			pc.Close()
		}
	}()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return nil, fmt.Errorf("whep: transceiver: %w", err)
		}
	}
	pc.OnTrack(c.onTrack)
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return nil, fmt.Errorf("whep: offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return nil, fmt.Errorf("whep: local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewBufferString(pc.LocalDescription().SDP))
	if err != nil {
		return nil, err
	}
	for k, v := range opts.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/sdp")
	c.posted = time.Now()
	resp, err := opts.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("whep: post offer: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return nil, &HTTPError{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}
	}
	loc, err := base.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return nil, fmt.Errorf("whep: answer without a usable Location %q", resp.Header.Get("Location"))
	}
	c.Location, c.Answer = loc.String(), string(body)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: c.Answer}); err != nil {
		return nil, fmt.Errorf("whep: apply answer: %w", err)
	}
	ok = true
	return c, nil
}

// HTTPError is a non-201 answer to the offer.
type HTTPError struct {
	Status      int
	ContentType string
	Body        []byte
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("whep: server answered %d (%s): %s", e.Status, e.ContentType, e.Body)
}

func (c *Client) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	if tr.Kind() == webrtc.RTPCodecTypeAudio {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			c.audio.Add(1)
		}
	}
	rcv, err := rtpdec.NewReceiver(media.Track{Codec: media.H264, ClockRate: 90000}, 0, rtpdec.ReceiverOptions{})
	if err != nil {
		return
	}
	buf := make([]byte, 1500)
	var dropped uint64
	var lastPLI time.Time
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		var p rtp.Packet // the receiver keeps packets: not buf's bytes
		if p.Unmarshal(append([]byte(nil), buf[:n]...)) != nil {
			continue
		}
		now := time.Now()
		c.firstP.CompareAndSwap(0, now.UnixNano())
		units := rcv.HandleRTP(&p, now)
		st := rcv.Stats()
		c.rstats.Store(st)
		// Waiting for a keyframe: ask for one, as a browser does.
		if st.DroppedUnits > dropped && now.Sub(lastPLI) > 300*time.Millisecond {
			lastPLI = now
			c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}})
		}
		dropped = st.DroppedUnits
		for _, u := range units {
			if c.units.Add(1) == 1 {
				c.first.Store(now.UnixNano())
			}
			if c.opts.OnUnit != nil {
				c.opts.OnUnit(u, now)
			}
		}
	}
}

// Units returns how many video access units have been received.
func (c *Client) Units() uint64 { return c.units.Load() }

// AudioPackets returns how many audio RTP packets have been received.
func (c *Client) AudioPackets() uint64 { return c.audio.Load() }

// FirstUnit returns the time from posting the offer to the first whole
// video access unit, or 0 before it.
func (c *Client) FirstUnit() time.Duration {
	f := c.first.Load()
	if f == 0 {
		return 0
	}
	return time.Unix(0, f).Sub(c.posted)
}

// FirstPacket returns the time from posting the offer to the first video
// RTP packet, or 0 before it.
func (c *Client) FirstPacket() time.Duration {
	f := c.firstP.Load()
	if f == 0 {
		return 0
	}
	return time.Unix(0, f).Sub(c.posted)
}

// ReceiverStats returns the video depacketiser's counters.
func (c *Client) ReceiverStats() rtpdec.ReceiverStats {
	st, _ := c.rstats.Load().(rtpdec.ReceiverStats)
	return st
}

// State returns the peer connection's state.
func (c *Client) State() webrtc.PeerConnectionState { return c.pc.ConnectionState() }

// Close deletes the session on the server and closes the connection.
func (c *Client) Close(ctx context.Context) error {
	var err error
	c.once.Do(func() {
		defer c.pc.Close()
		req, rerr := http.NewRequestWithContext(ctx, http.MethodDelete, c.Location, nil)
		if rerr != nil {
			err = rerr
			return
		}
		for k, v := range c.opts.Header {
			req.Header[k] = v
		}
		resp, rerr := c.opts.HTTP.Do(req)
		if rerr != nil {
			err = fmt.Errorf("whep: delete: %w", rerr)
			return
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			err = fmt.Errorf("whep: delete answered %d", resp.StatusCode)
		}
	})
	return err
}

// CloseQuietly closes the connection without telling the server (a
// viewer that vanishes; the server notices by ICE failure).
func (c *Client) CloseQuietly() error {
	return errors.Join(c.pc.Close())
}
