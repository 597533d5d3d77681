package rtsp

import (
	"fmt"
	"net"
)

func (s *Session) joinMulticast(t *clientTrack, tr Transport) error {
	group := net.ParseIP(tr.Destination)
	var err error
	t.rtp, err = listenMulticast(group, tr.Ports[0])
	if err != nil {
		return fmt.Errorf("%w: join %s:%d: %v", ErrTransport, group, tr.Ports[0], err)
	}
	t.rtcp, err = listenMulticast(group, tr.Ports[1])
	if err != nil {
		return fmt.Errorf("%w: join %s:%d: %v", ErrTransport, group, tr.Ports[1], err)
	}
	return nil
}

func localIP(nc net.Conn) net.IP {
	if a, ok := nc.LocalAddr().(*net.TCPAddr); ok {
		return a.IP
	}
	return nil
}

// listenUDPPair opens an even RTP port and the odd RTCP port above it.
func listenUDPPair(ip net.IP) (*net.UDPConn, *net.UDPConn, error) {
	var lastErr error
	for i := 0; i < 50; i++ {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: 0})
		if err != nil {
			return nil, nil, fmt.Errorf("listen UDP: %w", err)
		}
		p := a.LocalAddr().(*net.UDPAddr).Port
		if p%2 == 1 {
			a.Close()
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: p + 1})
		if err != nil {
			a.Close()
			lastErr = err
			continue
		}
		a.SetReadBuffer(1 << 20)
		return a, b, nil
	}
	return nil, nil, fmt.Errorf("no free UDP port pair: %v", lastErr)
}

// readUDP reads one of a track's UDP sockets until it is closed.
func (s *Session) readUDP(t *clientTrack, isRTCP bool) {
	defer s.wg.Done()
	conn := t.rtp
	if isRTCP {
		conn = t.rtcp
	}
	server := s.c.conn.NetConn().RemoteAddr().(*net.TCPAddr).IP
	buf := make([]byte, 2048)
	for {
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			return // closed
		}
		if s.kind == TransportUDP && !from.IP.Equal(server) {
			continue // not from our server: ignore
		}
		b := buf[:n] // lent: the receiver copies what it keeps
		if isRTCP {
			if s.kind == TransportUDP {
				s.deliverMu.Lock()
				if t.peer == nil { // the server gave no server_port
					t.peer = from
				}
				s.deliverMu.Unlock()
			}
			s.handleRTCP(t, b)
		} else {
			s.handleRTP(t, b)
		}
	}
}
