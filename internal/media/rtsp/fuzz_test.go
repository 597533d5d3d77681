package rtsp

import (
	"bufio"
	"bytes"
	"testing"
)

// The fuzz targets check that nothing read off the network panics, and that
// what parses re-serialises to something that parses the same way.

func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("RTSP/1.0 200 OK\r\nCSeq: 1\r\nSession: 1234;timeout=60\r\nContent-Length: 4\r\n\r\nv=0\n"))
	f.Add([]byte("RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"y\"\r\n\r\n"))
	f.Add([]byte("$\x00\x00\x02abRTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n"))
	f.Add([]byte("RTSP/1.0 200 OK\nX: a\n b\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReader(bytes.NewReader(b))
		for i := 0; i < 8; i++ {
			m, err := readMessage(br)
			if err != nil {
				return
			}
			if r, ok := m.(*Response); ok {
				r2, err := ReadResponse(bufio.NewReader(bytes.NewReader(r.Marshal())))
				if err != nil {
					t.Fatalf("re-read of marshalled response: %v", err)
				}
				if r2.StatusCode != r.StatusCode || !bytes.Equal(r2.Body, r.Body) {
					t.Fatalf("round trip changed the response")
				}
			}
		}
	})
}

func FuzzReadRequest(f *testing.F) {
	f.Add([]byte("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"))
	f.Add([]byte("ANNOUNCE rtsp://h/pub RTSP/1.0\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 3\r\n\r\nv=0"))
	f.Add([]byte("SETUP rtsp://h/a/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadRequest(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		if r.URL.String() == "*" || r.URL.Scheme != "" {
			if _, err := ReadRequest(bufio.NewReader(bytes.NewReader(r.Marshal()))); err != nil {
				t.Fatalf("re-read of marshalled request: %v\n%q", err, r.Marshal())
			}
		}
		if v := r.Header.Get("Transport"); v != "" {
			ParseTransports(v)
		}
		ParseSession(r.Header.Get("Session"))
	})
}

func FuzzTransportHeader(f *testing.F) {
	f.Add("RTP/AVP/TCP;unicast;interleaved=0-1")
	f.Add("RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=1A2B3C4D;mode=\"PLAY\"")
	f.Add("RTP/AVP;multicast;destination=239.1.2.3;port=5000-5001;ttl=16")
	f.Add("RTP/AVP;unicast;client_port=1,RTP/AVP/TCP")
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTransports(s)
		if err != nil {
			return
		}
		for _, tr := range ts {
			again, err := ParseTransport(tr.String())
			if err != nil {
				t.Fatalf("re-parse of %q: %v", tr.String(), err)
			}
			if again.String() != tr.String() {
				t.Fatalf("not stable: %q → %q", tr.String(), again.String())
			}
		}
	})
}
