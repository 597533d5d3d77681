package sim

import (
	"context"
	"crypto/sha1"
	"fmt"
	"net"
	"sync"
	"time"

	"vigil/internal/onvif"
)

// discoveryDevice is one simulated camera's WS-Discovery identity.
type discoveryDevice struct {
	dev   *onvif.SimServer
	xaddr string // device service URL announced
	uuid  string // endpoint reference, stable for a camera on an address
}

// serveDiscovery answers WS-Discovery probes arriving on addr (the
// multicast group onvif.DiscoveryAddr, joined on the default interface,
// or a unicast UDP address) with one ProbeMatches per camera, until ctx
// ends. One socket receives each probe and hands a copy to each camera's
// responder.
func serveDiscovery(ctx context.Context, addr string, devs []discoveryDevice) (net.Addr, error) {
	var conn net.PacketConn
	ua, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return nil, fmt.Errorf("sim ws-discovery %s: %w", addr, err)
	}
	if ua.IP.IsMulticast() {
		conn, err = net.ListenMulticastUDP("udp4", nil, ua)
	} else {
		conn, err = net.ListenUDP("udp4", ua)
	}
	if err != nil {
		return nil, fmt.Errorf("sim ws-discovery %s: %w", addr, err)
	}
	conns := make([]*probeConn, len(devs))
	for i, d := range devs {
		conns[i] = &probeConn{in: make(chan datagram, 8), out: conn, closed: make(chan struct{})}
		go d.dev.ServeDiscovery(ctx, conns[i], d.xaddr, d.uuid)
	}
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			for _, c := range conns {
				select { // a busy responder loses the probe, as on the wire
				case c.in <- datagram{append([]byte(nil), buf[:n]...), from}:
				default:
				}
			}
		}
	}()
	return conn.LocalAddr(), nil
}

// discoveryUUID is camera n's endpoint reference on the ONVIF address.
func discoveryUUID(onvifAddr string, n int) string {
	h := sha1.Sum([]byte(fmt.Sprintf("vigil-sim %s cam%d", onvifAddr, n)))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// announceHost is the host put in the announced device addresses: the
// ONVIF listen host, or for a wildcard listen the first non-loopback
// IPv4 address of the machine (loopback when there is none).
func announceHost(listenHost string) string {
	if ip := net.ParseIP(listenHost); listenHost != "" && (ip == nil || !ip.IsUnspecified()) {
		return listenHost
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return ipn.IP.String()
		}
	}
	return "127.0.0.1"
}

type datagram struct {
	b    []byte
	from net.Addr
}

// probeConn is a net.PacketConn that reads the datagrams handed to it and
// writes through the shared socket.
type probeConn struct {
	in     chan datagram
	out    net.PacketConn
	closed chan struct{}
	once   sync.Once
}

func (c *probeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-c.in:
		return copy(b, d.b), d.from, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *probeConn) WriteTo(b []byte, addr net.Addr) (int, error) { return c.out.WriteTo(b, addr) }
func (c *probeConn) Close() error                                 { c.once.Do(func() { close(c.closed) }); return nil }
func (c *probeConn) LocalAddr() net.Addr                          { return c.out.LocalAddr() }
func (c *probeConn) SetDeadline(time.Time) error                  { return nil }
func (c *probeConn) SetReadDeadline(time.Time) error              { return nil }
func (c *probeConn) SetWriteDeadline(time.Time) error             { return nil }
