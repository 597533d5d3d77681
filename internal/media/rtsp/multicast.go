package rtsp

import (
	"context"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// listenMulticast binds group:port with SO_REUSEADDR and SO_REUSEPORT (so
// that several receivers, and a sender on the same host, can share the
// port) and joins the group on every multicast-capable interface.
func listenMulticast(group net.IP, port int) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			if serr == nil {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", net.JoinHostPort(group.String(), fmt.Sprint(port)))
	if err != nil {
		return nil, err
	}
	conn := pc.(*net.UDPConn)
	p := ipv4.NewPacketConn(conn)
	ifs, _ := net.Interfaces()
	joined := 0
	for i := range ifs {
		if ifs[i].Flags&net.FlagUp == 0 || ifs[i].Flags&net.FlagMulticast == 0 {
			continue
		}
		if p.JoinGroup(&ifs[i], &net.UDPAddr{IP: group}) == nil {
			joined++
		}
	}
	if joined == 0 {
		if err := p.JoinGroup(nil, &net.UDPAddr{IP: group}); err != nil {
			conn.Close()
			return nil, fmt.Errorf("join %s: %w", group, err)
		}
	}
	return conn, nil
}
