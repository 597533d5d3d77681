package live

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/webrtc/v4"

	"vigil/internal/media"
)

// WebRTCOptions place the server's ICE candidates. Only host candidates
// are gathered (no STUN, no TURN): the server sits where viewers can reach
// it, or behind a 1:1 NAT named in NAT1To1IPs.
type WebRTCOptions struct {
	// Interfaces limits host candidates to these network interfaces
	// (e.g. "eth0"); empty means all but loopback.
	Interfaces []string
	// IncludeLoopback adds 127.0.0.1 candidates (tests, a viewer on the
	// server itself).
	IncludeLoopback bool
	// NAT1To1IPs replace the host candidates' addresses with these public
	// ones (a server behind a static NAT).
	NAT1To1IPs []string
	// UDPPort, when set, carries every session's media on this one UDP
	// port (an ICE UDP mux) instead of one ephemeral port per session:
	// a firewall needs one rule.
	UDPPort int
	// TCPPort, when set, also offers ICE-TCP passive candidates on this
	// port, for networks that block UDP.
	TCPPort int
	// ListenIP is the address the UDP and TCP ports are bound to
	// (default all addresses).
	ListenIP string
}

// rtcAPI is the pion API shared by all sessions, with its muxes.
type rtcAPI struct {
	api    *webrtc.API
	udp    net.PacketConn
	tcp    net.Listener
	closer []func() error
}

// h264Profiles are the H.264 profiles offered to browsers, all in
// packetization-mode=1 (FU-A), the mode our packetiser writes.
var h264Profiles = []string{"42e01f", "42001f", "4d001f", "64001f"}

// H264 payload types: one per profile, from the dynamic range.
const firstVideoPT = 102

func newRTCAPI(o WebRTCOptions) (*rtcAPI, error) {
	m := &webrtc.MediaEngine{}
	for i, p := range h264Profiles {
		err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: h264Capability(p), PayloadType: webrtc.PayloadType(firstVideoPT + i)}, webrtc.RTPCodecTypeVideo)
		if err != nil {
			return nil, fmt.Errorf("register H.264 %s: %w", p, err)
		}
	}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: audioCapability(media.Opus), PayloadType: 111},
		{RTPCodecCapability: audioCapability(media.PCMU), PayloadType: 0},
		{RTPCodecCapability: audioCapability(media.PCMA), PayloadType: 8},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("register %s: %w", c.MimeType, err)
		}
	}
	ir := &interceptor.Registry{}
	// NACK history: 256 packets (about 0.8 s of a 3 Mbit/s camera) per
	// stream instead of 1024 copies; our packets are never reused after
	// writing, so the responder may keep them instead of copying.
	nackOpts := webrtc.WithNackResponderOptions(nack.ResponderSize(256), nack.DisableCopy())
	if err := webrtc.RegisterDefaultInterceptorsWithOptions(m, ir, nackOpts); err != nil {
		return nil, fmt.Errorf("interceptors: %w", err)
	}

	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(5*time.Second, 10*time.Second, 2*time.Second)
	if len(o.Interfaces) > 0 {
		ifs := slices.Clone(o.Interfaces)
		se.SetInterfaceFilter(func(name string) bool { return slices.Contains(ifs, name) })
	}
	se.SetIncludeLoopbackCandidate(o.IncludeLoopback)
	if len(o.NAT1To1IPs) > 0 {
		se.SetNAT1To1IPs(o.NAT1To1IPs, webrtc.ICECandidateTypeHost)
	}
	r := &rtcAPI{}
	ip := net.ParseIP(o.ListenIP)
	if o.ListenIP != "" && ip == nil {
		return nil, fmt.Errorf("webrtc listen IP %q is not an IP address", o.ListenIP)
	}
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if o.UDPPort > 0 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: o.UDPPort})
		if err != nil {
			return nil, fmt.Errorf("webrtc UDP port %d: %w", o.UDPPort, err)
		}
		r.udp = c
		mux := webrtc.NewICEUDPMux(nil, c)
		se.SetICEUDPMux(mux)
		r.closer = append(r.closer, mux.Close)
	}
	if o.TCPPort > 0 {
		l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: o.TCPPort})
		if err != nil {
			r.close()
			return nil, fmt.Errorf("webrtc ICE-TCP port %d: %w", o.TCPPort, err)
		}
		r.tcp = l
		mux := webrtc.NewICETCPMux(nil, l, 64)
		se.SetICETCPMux(mux)
		r.closer = append(r.closer, mux.Close)
		networks = append(networks, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(networks)
	r.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return r, nil
}

func (r *rtcAPI) close() error {
	var errs []error
	for _, c := range r.closer {
		errs = append(errs, c())
	}
	r.closer = nil
	if r.udp != nil {
		r.udp.Close()
	}
	if r.tcp != nil {
		r.tcp.Close()
	}
	return errors.Join(errs...)
}

// UDPAddr returns the shared UDP port's address, or nil without one.
func (s *Service) UDPAddr() net.Addr {
	if s.rtc.udp == nil {
		return nil
	}
	return s.rtc.udp.LocalAddr()
}

// TCPAddr returns the ICE-TCP listener's address, or nil without one.
func (s *Service) TCPAddr() net.Addr {
	if s.rtc.tcp == nil {
		return nil
	}
	return s.rtc.tcp.Addr()
}

func h264Capability(profile string) webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile,
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}}
}

func audioCapability(c media.Codec) webrtc.RTPCodecCapability {
	switch c {
	case media.Opus:
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
	case media.PCMU:
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}
	case media.PCMA:
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000}
	}
	return webrtc.RTPCodecCapability{}
}

// videoCapability picks the registered profile closest to the camera's
// SPS, so the answer names the profile the browser will decode.
func videoCapability(t media.Track) webrtc.RTPCodecCapability {
	if len(t.SPS) >= 4 {
		switch t.SPS[1] {
		case 66:
			return h264Capability("42e01f")
		case 77:
			return h264Capability("4d001f")
		case 100:
			return h264Capability("64001f")
		}
	}
	return h264Capability("42e01f")
}
