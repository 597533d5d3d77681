package onvif

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// DiscoveryAddr is the WS-Discovery multicast group and port.
const DiscoveryAddr = "239.255.255.250:3702"

// maxDatagram bounds one ProbeMatches datagram.
const maxDatagram = 64 << 10

// Device is one answer to a WS-Discovery probe.
type Device struct {
	Address  string   // the endpoint reference, e.g. urn:uuid:…
	Types    []string // e.g. dn:NetworkVideoTransmitter, tds:Device
	Scopes   []string
	XAddrs   []string // device service URLs
	Name     string   // from the onvif://www.onvif.org/name/ scope
	Hardware string   // from the onvif://www.onvif.org/hardware/ scope
	From     string   // the answering host
}

// ProbeMessage returns a WS-Discovery Probe for NetworkVideoTransmitter
// devices with the given message id (urn:uuid:…).
func ProbeMessage(messageID string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">` +
		`<s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>` +
		`<a:MessageID>` + esc(messageID) + `</a:MessageID>` +
		`<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>` +
		`<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>` +
		`<s:Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery">` +
		`<d:Types xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dp0="http://www.onvif.org/ver10/network/wsdl">dp0:NetworkVideoTransmitter</d:Types>` +
		`</Probe></s:Body></s:Envelope>`)
}

// ParseProbeMatches decodes a ProbeMatches datagram and returns the
// message id it relates to and the devices in it.
func ParseProbeMatches(data []byte) (string, []Device, error) {
	if len(data) > maxDatagram {
		return "", nil, fmt.Errorf("probe matches: datagram of %d bytes", len(data))
	}
	var env struct {
		Header struct {
			RelatesTo string `xml:"RelatesTo"`
			Action    string `xml:"Action"`
		} `xml:"Header"`
		Body struct {
			Matches *struct {
				Match []struct {
					EPR struct {
						Address string `xml:"Address"`
					} `xml:"EndpointReference"`
					Types  string `xml:"Types"`
					Scopes string `xml:"Scopes"`
					XAddrs string `xml:"XAddrs"`
				} `xml:"ProbeMatch"`
			} `xml:"ProbeMatches"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(data, &env); err != nil {
		return "", nil, fmt.Errorf("probe matches: %w", err)
	}
	if env.Body.Matches == nil {
		return "", nil, fmt.Errorf("probe matches: no ProbeMatches in the body (action %q)", strings.TrimSpace(env.Header.Action))
	}
	var out []Device
	for _, m := range env.Body.Matches.Match {
		d := Device{Address: strings.TrimSpace(m.EPR.Address), Types: strings.Fields(m.Types), Scopes: strings.Fields(m.Scopes), XAddrs: strings.Fields(m.XAddrs)}
		for _, s := range d.Scopes {
			if v, ok := strings.CutPrefix(s, "onvif://www.onvif.org/name/"); ok {
				d.Name = unescape(v)
			}
			if v, ok := strings.CutPrefix(s, "onvif://www.onvif.org/hardware/"); ok {
				d.Hardware = unescape(v)
			}
		}
		if len(d.XAddrs) == 0 {
			continue // a match without an address cannot be used
		}
		out = append(out, d)
	}
	return strings.TrimSpace(env.Header.RelatesTo), out, nil
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// DiscoverOptions tune Discover.
type DiscoverOptions struct {
	// Addr is where the probe is sent (default DiscoveryAddr, the
	// multicast group; a unicast address probes one device).
	Addr string
	// Interface sends the multicast probe out of this interface (default:
	// the system's choice).
	Interface *net.Interface
	// Wait is how long answers are collected (default 3 s).
	Wait time.Duration
}

// Discover probes the local segment for ONVIF video devices and returns
// the distinct devices that answered within the wait.
func Discover(ctx context.Context, opts DiscoverOptions) ([]Device, error) {
	if opts.Addr == "" {
		opts.Addr = DiscoveryAddr
	}
	if opts.Wait <= 0 {
		opts.Wait = 3 * time.Second
	}
	dst, err := net.ResolveUDPAddr("udp4", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("ws-discovery: %w", err)
	}
	laddr := &net.UDPAddr{}
	if opts.Interface != nil {
		if addrs, err := opts.Interface.Addrs(); err == nil {
			for _, a := range addrs {
				if ip, _, err := net.ParseCIDR(a.String()); err == nil && ip.To4() != nil {
					laddr.IP = ip
					break
				}
			}
		}
	}
	conn, err := net.ListenUDP("udp4", laddr)
	if err != nil {
		return nil, fmt.Errorf("ws-discovery: %w", err)
	}
	defer conn.Close()
	id := newMessageID()
	if _, err := conn.WriteToUDP(ProbeMessage(id), dst); err != nil {
		return nil, fmt.Errorf("ws-discovery: send probe: %w", err)
	}
	deadline := time.Now().Add(opts.Wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetReadDeadline(deadline)
	seen := map[string]bool{}
	var out []Device
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			break // the deadline: collection is over
		}
		rel, devs, err := ParseProbeMatches(buf[:n])
		if err != nil || rel != id {
			continue // not an answer to our probe
		}
		for _, d := range devs {
			key := d.Address
			if key == "" {
				key = d.XAddrs[0]
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			d.From = from.IP.String()
			out = append(out, d)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return out, nil
}

func newMessageID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b)
	return "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
