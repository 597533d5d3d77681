package rtsp

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Transport is one transport specification of a Transport header
// (RFC 2326 §12.39), e.g. "RTP/AVP/TCP;unicast;interleaved=0-1".
type Transport struct {
	Protocol    string // "RTP/AVP" (UDP), "RTP/AVP/UDP" or "RTP/AVP/TCP"
	Multicast   bool   // "multicast"; otherwise unicast
	Destination string
	Source      string
	Interleaved *[2]int
	ClientPorts *[2]int
	ServerPorts *[2]int
	Ports       *[2]int // multicast "port="
	TTL         int     // multicast; 0 = absent
	SSRC        *uint32
	Mode        string // "PLAY", "RECORD" or ""
}

// TCP reports whether the transport is interleaved on the RTSP connection.
func (t Transport) TCP() bool { return strings.HasSuffix(strings.ToUpper(t.Protocol), "/TCP") }

// ParseTransports parses a Transport header, which may list alternatives
// separated by commas.
func ParseTransports(v string) ([]Transport, error) {
	var out []Transport
	for _, spec := range strings.Split(v, ",") {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		t, err := ParseTransport(spec)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty Transport header", ErrProtocol)
	}
	return out, nil
}

// ParseTransport parses one transport specification.
func ParseTransport(spec string) (Transport, error) {
	var t Transport
	parts := strings.Split(spec, ";")
	t.Protocol = strings.TrimSpace(parts[0])
	up := strings.ToUpper(t.Protocol)
	if !strings.HasPrefix(up, "RTP/AVP") && !strings.HasPrefix(up, "RTP/SAVP") {
		return t, fmt.Errorf("%w: unsupported transport protocol %q", ErrProtocol, trunc(t.Protocol))
	}
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.Trim(strings.TrimSpace(v), `"`)
		var err error
		switch k {
		case "unicast":
			t.Multicast = false
		case "multicast":
			t.Multicast = true
		case "destination":
			t.Destination = v
		case "source":
			t.Source = v
		case "interleaved":
			t.Interleaved, err = parseRange(v, 255)
		case "client_port":
			t.ClientPorts, err = parseRange(v, 65535)
		case "server_port":
			t.ServerPorts, err = parseRange(v, 65535)
		case "port":
			t.Ports, err = parseRange(v, 65535)
		case "ttl":
			t.TTL, err = strconv.Atoi(v)
			if err == nil && (t.TTL < 0 || t.TTL > 255) {
				err = fmt.Errorf("ttl %d out of range", t.TTL)
			}
		case "ssrc":
			var s uint64
			s, err = strconv.ParseUint(v, 16, 32)
			if err == nil {
				ss := uint32(s)
				t.SSRC = &ss
			} else {
				err = nil // some cameras send decimal or junk; the SSRC is advisory
			}
		case "mode":
			t.Mode = strings.ToUpper(v)
		}
		if err != nil {
			return t, fmt.Errorf("%w: transport parameter %q: %v", ErrProtocol, trunc(p), err)
		}
	}
	return t, nil
}

func parseRange(v string, max int) (*[2]int, error) {
	a, b, ok := strings.Cut(v, "-")
	x, err := strconv.Atoi(strings.TrimSpace(a))
	if err != nil {
		return nil, err
	}
	y := x + 1
	if ok {
		if y, err = strconv.Atoi(strings.TrimSpace(b)); err != nil {
			return nil, err
		}
	}
	if x < 0 || x > max || y < 0 || y > max+1 {
		return nil, fmt.Errorf("value out of range 0-%d", max)
	}
	return &[2]int{x, y}, nil
}

// String formats the transport specification.
func (t Transport) String() string {
	var b strings.Builder
	b.WriteString(t.Protocol)
	if t.Multicast {
		b.WriteString(";multicast")
	} else {
		b.WriteString(";unicast")
	}
	if t.Destination != "" {
		b.WriteString(";destination=" + t.Destination)
	}
	if t.Source != "" {
		b.WriteString(";source=" + t.Source)
	}
	r := func(name string, p *[2]int) {
		if p != nil {
			fmt.Fprintf(&b, ";%s=%d-%d", name, p[0], p[1])
		}
	}
	r("interleaved", t.Interleaved)
	r("client_port", t.ClientPorts)
	r("server_port", t.ServerPorts)
	r("port", t.Ports)
	if t.TTL > 0 {
		fmt.Fprintf(&b, ";ttl=%d", t.TTL)
	}
	if t.SSRC != nil {
		fmt.Fprintf(&b, ";ssrc=%08X", *t.SSRC)
	}
	if t.Mode != "" {
		b.WriteString(";mode=" + t.Mode)
	}
	return b.String()
}

// validMulticast reports whether addr is a multicast IP.
func validMulticast(addr string) bool {
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsMulticast()
}
