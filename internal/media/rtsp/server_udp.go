package rtsp

import (
	"net"
	"sync"
	"time"
)

// udpPair is the server's RTP/RTCP port pair, shared by every UDP session;
// incoming datagrams are routed to sessions by their source address.
type udpPair struct {
	srv       *Server
	rtp, rtcp *net.UDPConn
	mu        sync.RWMutex
	routes    map[string]udpRoute
}

type udpRoute struct {
	sess   *serverSession
	track  int
	isRTCP bool
}

func newUDPPair(s *Server, rtpc, rtcpc *net.UDPConn) *udpPair {
	rtpc.SetWriteBuffer(4 << 20)
	return &udpPair{srv: s, rtp: rtpc, rtcp: rtcpc, routes: map[string]udpRoute{}}
}

func (u *udpPair) ports() [2]int {
	p := u.rtp.LocalAddr().(*net.UDPAddr).Port
	return [2]int{p, p + 1}
}

func (u *udpPair) close() {
	u.rtp.Close()
	u.rtcp.Close()
}

func (u *udpPair) register(s *serverSession, track int, t sessTransport) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.routes[t.rtpAddr.String()] = udpRoute{sess: s, track: track}
	u.routes[t.rtcpAddr.String()] = udpRoute{sess: s, track: track, isRTCP: true}
}

func (u *udpPair) unregister(s *serverSession) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, r := range u.routes {
		if r.sess == s {
			delete(u.routes, k)
		}
	}
}

func (u *udpPair) sendRTP(b []byte, to *net.UDPAddr) {
	u.rtp.SetWriteDeadline(time.Now().Add(time.Second))
	u.rtp.WriteToUDP(b, to) // UDP is lossy by nature: errors are losses
}

func (u *udpPair) sendRTCP(b []byte, to *net.UDPAddr) {
	u.rtcp.WriteToUDP(b, to)
}

// read routes datagrams arriving on one of the ports.
func (u *udpPair) read(wg *sync.WaitGroup, isRTCP bool) {
	defer wg.Done()
	conn := u.rtp
	if isRTCP {
		conn = u.rtcp
	}
	buf := make([]byte, 2048)
	for {
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		u.mu.RLock()
		r, ok := u.routes[from.String()]
		u.mu.RUnlock()
		if !ok || r.isRTCP != isRTCP {
			continue
		}
		r.sess.touch()
		if r.sess.mode != modeRecord {
			continue
		}
		b := make([]byte, n)
		copy(b, buf[:n])
		if isRTCP {
			r.sess.recordRTCP(r.track, b)
		} else {
			r.sess.recordRTP(r.track, b)
		}
	}
}
