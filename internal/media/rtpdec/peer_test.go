package rtpdec

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"vigil/internal/media"
	"vigil/internal/media/codec"
	"vigil/internal/testutil"
)

// listenPair binds an even UDP port and the odd one above it (RTP, RTCP).
func listenPair(t *testing.T) (*net.UDPConn, *net.UDPConn, int) {
	t.Helper()
	for i := 0; i < 50; i++ {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 {
			c.Close()
			continue
		}
		c2, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
		if err != nil {
			c.Close()
			continue
		}
		c.SetReadBuffer(4 << 20)
		return c, c2, port
	}
	t.Fatal("no free UDP port pair")
	return nil, nil, 0
}

// ffmpegSend has ffmpeg's RTP muxer send input (at its native rate) to a
// UDP port pair of ours, and returns the RTP packets, the RTCP packets and
// the media description ffmpeg wrote.
func ffmpegSend(t *testing.T, input ...string) ([]*rtp.Packet, []rtcp.Packet, *sdp.MediaDescription) {
	t.Helper()
	rtpConn, rtcpConn, port := listenPair(t)
	defer rtpConn.Close()
	sdpPath := filepath.Join(t.TempDir(), "x.sdp")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(append([]string{"-v", "error", "-re"}, input...), "-c", "copy",
		"-f", "rtp", fmt.Sprintf("rtp://127.0.0.1:%d?pkt_size=1200", port), "-sdp_file", sdpPath)
	cmd := exec.CommandContext(ctx, testutil.Tool(t, "ffmpeg"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var mu sync.Mutex
	var reports []rtcp.Packet
	rtcpDone := make(chan struct{})
	go func() {
		defer close(rtcpDone)
		buf := make([]byte, 1500)
		for {
			n, err := rtcpConn.Read(buf)
			if err != nil {
				return
			}
			if ps, err := rtcp.Unmarshal(buf[:n]); err == nil {
				mu.Lock()
				reports = append(reports, ps...)
				mu.Unlock()
			}
		}
	}()
	var pkts []*rtp.Packet
	buf := make([]byte, 2000)
	finished := false
	for {
		if !finished {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("ffmpeg: %v %s", err, stderr.Bytes())
				}
				finished = true
			default:
			}
		}
		rtpConn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := rtpConn.Read(buf)
		if err != nil {
			if finished {
				break
			}
			continue
		}
		var p rtp.Packet
		if err := p.Unmarshal(append([]byte(nil), buf[:n]...)); err != nil {
			t.Fatalf("ffmpeg sent a packet pion cannot read: %v", err)
		}
		pkts = append(pkts, &p)
	}
	rtcpConn.Close()
	<-rtcpDone
	b, _ := os.ReadFile(sdpPath)
	var s sdp.SessionDescription
	if err := s.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	return pkts, reports, s.MediaDescriptions[0]
}

// receiveAll runs packets through a receiver for md, handing it the RTCP
// reports halfway.
func receiveAll(t *testing.T, pkts []*rtp.Packet, reports []rtcp.Packet, md *sdp.MediaDescription) ([]media.Unit, *Receiver) {
	t.Helper()
	track, _, err := TrackFromMediaDescription(md)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReceiver(track, 0, OptionsFromMediaDescription(md))
	if err != nil {
		t.Fatal(err)
	}
	var units []media.Unit
	for i, p := range pkts {
		if i == len(pkts)/2 {
			for _, rep := range reports {
				r.HandleRTCP(rep)
			}
		}
		units = append(units, r.HandleRTP(p, time.Now())...)
	}
	return append(units, r.Flush()...), r
}

// TestReceiveFromFFmpeg has ffmpeg's RTP muxer send real clips (and its
// RTCP sender reports) to our receiver over UDP; every access unit must
// arrive byte-identical. // MED-1
func TestReceiveFromFFmpeg(t *testing.T) {
	for _, c := range []media.Codec{media.H264, media.H265} {
		t.Run(string(c), func(t *testing.T) {
			cl := encodeVideo(t, c, "320x240", 30, "-bf", "0", "-g", "10")
			pkts, reports, md := ffmpegSend(t, "-r", "25", "-i", cl.path)
			units, r := receiveAll(t, pkts, reports, md)
			st := r.Stats()
			if len(units) != len(cl.aus) || st.Lost != 0 || st.Malformed != 0 {
				t.Fatalf("%d units of %d; %d packets; stats %+v", len(units), len(cl.aus), len(pkts), st)
			}
			for i, u := range units {
				if !equalNALUs(u.NALUs, cl.aus[i]) || u.PTS-units[0].PTS != int64(i)*3600 {
					t.Fatalf("unit %d differs from the clip (pts %d): %d NALUs %s, want %d %s", i, u.PTS-units[0].PTS, len(u.NALUs), nalSummary(u.NALUs), len(cl.aus[i]), nalSummary(cl.aus[i]))
				}
			}
			if len(reports) == 0 || st.SenderReports == 0 {
				t.Errorf("ffmpeg sent %d RTCP packets; %d sender reports used", len(reports), st.SenderReports)
			}
			if tr := r.Track(); tr.Width != 320 || tr.Height != 240 {
				t.Errorf("track size %dx%d", tr.Width, tr.Height)
			}
		})
	}
	t.Run("AAC", func(t *testing.T) {
		frames, _ := aacClip(t)
		path := filepath.Join(t.TempDir(), "x.aac")
		var adts []byte
		for _, f := range frames {
			adts, _ = codec.AppendADTS(adts, codec.AACConfig{ObjectType: 2, SampleRate: 48000, Channels: 1}, f)
		}
		os.WriteFile(path, adts, 0o600)
		m4a := filepath.Join(t.TempDir(), "x.m4a") // ffmpeg's RTP muxer wants the config up front
		if b, err := exec.Command(testutil.Tool(t, "ffmpeg"), "-v", "error", "-i", path, "-c", "copy", m4a).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v %s", err, b)
		}
		pkts, reports, md := ffmpegSend(t, "-i", m4a)
		units, r := receiveAll(t, pkts, reports, md)
		// ffmpeg 5.1's RTP muxer does not flush the AUs it holds at the end
		// (up to two here): a prefix of the frames must arrive, several AUs
		// to a packet.
		if len(units) < len(frames)-2 || len(pkts) >= len(units) || r.Stats().Lost != 0 {
			t.Fatalf("%d frames from %d packets, want ≥ %d frames in fewer packets; %+v", len(units), len(pkts), len(frames)-2, r.Stats())
		}
		for i, u := range units {
			if !bytes.Equal(u.Data, frames[i]) || u.PTS-units[0].PTS != int64(i)*1024 {
				t.Fatalf("frame %d differs", i)
			}
		}
	})
}

// TestFFmpegDecodesOurPackets sends our packets (B-frames, fragments,
// parameter sets from our SDP) to ffmpeg, which must decode exactly the
// pictures it decodes from the original file. // MED-1
func TestFFmpegDecodesOurPackets(t *testing.T) {
	for _, c := range []media.Codec{media.H264, media.H265} {
		t.Run(string(c), func(t *testing.T) {
			cl := encodeVideo(t, c, "320x240", 25, "-bf", "2", "-g", "12")
			want := framemd5(t, "-r", "25", "-i", cl.path)
			probe, probe2, port := listenPair(t)
			probe.Close()
			probe2.Close()
			track := cl.track
			track.VPS, track.SPS, track.PPS = nil, nil, nil
			for _, n := range cl.aus[0] {
				switch {
				case c == media.H265 && n[0]>>1&0x3f == 32:
					track.VPS = n
				case c == media.H265 && n[0]>>1&0x3f == 33, c == media.H264 && n[0]&0x1f == 7:
					track.SPS = n
				case c == media.H265 && n[0]>>1&0x3f == 34, c == media.H264 && n[0]&0x1f == 8:
					track.PPS = n
				}
			}
			md := MediaDescription(track, 96)
			md.MediaName.Port = sdp.RangedPort{Value: port}
			s := &sdp.SessionDescription{Origin: sdp.Origin{Username: "-", NetworkType: "IN", AddressType: "IP4", UnicastAddress: "127.0.0.1"},
				SessionName: "vigil", ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4", Address: &sdp.Address{Address: "127.0.0.1"}},
				TimeDescriptions: []sdp.TimeDescription{{}}, MediaDescriptions: []*sdp.MediaDescription{md}}
			b, _ := s.Marshal()
			sdpPath := filepath.Join(t.TempDir(), "our.sdp")
			os.WriteFile(sdpPath, b, 0o600)

			pkts := packetize(t, track, cl.units(), 1000, nil)
			got := make(chan []string, 1)
			go func() {
				got <- framemd5(t, "-protocol_whitelist", "file,udp,rtp", "-i", sdpPath, "-frames:v", fmt.Sprint(len(want)))
			}()
			// Wait until ffmpeg has bound the port, then send at ~2 ms a packet.
			for i := 0; i < 200; i++ {
				c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
				if err != nil {
					break
				}
				c.Close()
				time.Sleep(50 * time.Millisecond)
			}
			conn, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var frames []string
			sending := true
			for sending {
				for _, p := range pkts {
					b, _ := p.Marshal()
					conn.Write(b)
					time.Sleep(2 * time.Millisecond)
				}
				select { // ffmpeg may miss the very first packets while it probes: send the clip once more
				case frames = <-got:
					sending = false
				case <-time.After(3 * time.Second):
					for i := range pkts {
						pkts[i].SequenceNumber += uint16(len(pkts))
						pkts[i].Timestamp += uint32(cl.pts[len(cl.pts)-1] + 90000)
					}
				}
			}
			if strings.Join(frames, "\n") != strings.Join(want, "\n") {
				t.Errorf("ffmpeg decoded other pictures from our RTP:\n got %v\nwant %v", frames, want)
			}
		})
	}
}

// framemd5 returns the MD5 of each picture ffmpeg decodes, in output order.
func framemd5(t *testing.T, args ...string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testutil.Tool(t, "ffmpeg"), append(append([]string{"-v", "warning"}, args...), "-an", "-fps_mode", "passthrough", "-f", "framemd5", "-")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("ffmpeg %v: %s", args, stderr.Bytes())
	if err != nil {
		t.Errorf("ffmpeg %v: %v", args, err)
		return nil
	}
	var sums []string
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ",")
		sums = append(sums, strings.TrimSpace(f[len(f)-1]))
	}
	return sums
}

func nalSummary(nalus [][]byte) string {
	var s []string
	for _, n := range nalus {
		s = append(s, fmt.Sprintf("%02x%02x/%d", n[0], n[1], len(n)))
	}
	return strings.Join(s, " ")
}
