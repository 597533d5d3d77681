package rtsp

import (
	"bufio"
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestReadResponseTable(t *testing.T) { // MED-1
	tests := []struct {
		name    string
		in      string
		code    int
		body    string
		session string
		timeout int
		err     error
	}{
		{"ok", "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n", 200, "", "", 0, nil},
		{"body", "RTSP/1.0 200 OK\r\ncseq: 2\r\ncontent-length: 5\r\n\r\nv=0\r\n", 200, "v=0\r\n", "", 0, nil},
		{"session timeout", "RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 12AB;timeout=30\r\n\r\n", 200, "", "12AB", 30, nil},
		{"no reason", "RTSP/1.0 404\r\nCSeq: 3\r\n\r\n", 404, "", "", 0, nil},
		{"bare LF", "RTSP/1.0 200 OK\nCSeq: 4\n\n", 200, "", "", 0, nil},
		{"bad code", "RTSP/1.0 abc OK\r\n\r\n", 0, "", "", 0, ErrProtocol},
		{"not rtsp", "HTTP/1.1 200 OK\r\n\r\n", 0, "", "", 0, ErrProtocol},
		{"huge body", "RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n", 0, "", "", 0, ErrProtocol},
		{"negative length", "RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n", 0, "", "", 0, ErrProtocol},
		// MED-1: a camera's header line without a colon is skipped (and
		// counted), not a reason to fail DESCRIBE.
		{"header without colon", "RTSP/1.0 200 OK\r\nnonsense\r\nSession: 9;timeout=20\r\n\r\n", 200, "", "9", 20, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := ReadResponse(bufio.NewReader(strings.NewReader(tt.in)))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.code || string(resp.Body) != tt.body {
				t.Fatalf("got %d %q", resp.StatusCode, resp.Body)
			}
			id, to := ParseSession(resp.Header.Get("session"))
			if id != tt.session || to != tt.timeout {
				t.Fatalf("session = %q;%d", id, to)
			}
		})
	}
}

func TestHeaderTooLarge(t *testing.T) {
	in := "RTSP/1.0 200 OK\r\nX: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\n"
	if _, err := ReadResponse(bufio.NewReader(strings.NewReader(in))); !errors.Is(err, ErrProtocol) {
		t.Fatalf("err = %v, want ErrProtocol", err)
	}
	in = "RTSP/1.0 200 OK\r\n" + strings.Repeat("X: 1\r\n", MaxHeaderLines+2) + "\r\n"
	if _, err := ReadResponse(bufio.NewReader(strings.NewReader(in))); !errors.Is(err, ErrProtocol) {
		t.Fatalf("err = %v, want ErrProtocol", err)
	}
}

func TestRequestRoundTrip(t *testing.T) {
	u, _ := url.Parse("rtsp://admin:secret@10.0.0.1:554/Streaming/Channels/101?transportmode=unicast")
	req := &Request{Method: MethodAnnounce, URL: u, Header: Header{}, Body: []byte("v=0\r\n")}
	req.Header.Set("CSeq", "7")
	req.Header.Set("Content-Type", "application/sdp")
	raw := req.Marshal()
	if bytes.Contains(raw, []byte("secret")) {
		t.Fatal("credentials leaked into the request line")
	}
	if !bytes.HasPrefix(raw, []byte("ANNOUNCE rtsp://10.0.0.1:554/Streaming/Channels/101?transportmode=unicast RTSP/1.0\r\nCSeq: 7\r\n")) {
		t.Fatalf("unexpected serialisation:\n%s", raw)
	}
	got, err := ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != MethodAnnounce || got.URL.Path != "/Streaming/Channels/101" || string(got.Body) != "v=0\r\n" || got.Header.Get("cseq") != "7" {
		t.Fatalf("round trip: %+v", got)
	}
	star, err := ReadRequest(bufio.NewReader(strings.NewReader("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")))
	if err != nil || star.URL.String() != "*" {
		t.Fatalf("OPTIONS *: %v %v", star, err)
	}
	for _, bad := range []string{"OPTIONS\r\n\r\n", "OPTIONS * HTTP/1.1\r\n\r\n", "OP(TIONS * RTSP/1.0\r\n\r\n"} {
		if _, err := ReadRequest(bufio.NewReader(strings.NewReader(bad))); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: err = %v, want ErrProtocol", bad, err)
		}
	}
}

// Servers may send RTP before the PLAY answer: the reader must hand out
// frames and the response in order.
func TestInterleavedMixedWithResponses(t *testing.T) { // MED-1
	var b bytes.Buffer
	b.Write([]byte{'$', 0, 0, 3, 1, 2, 3})
	b.WriteString("RTSP/1.0 200 OK\r\nCSeq: 5\r\nRTP-Info: url=rtsp://x/a;seq=1\r\n\r\n")
	b.Write([]byte{'$', 1, 0, 0})
	b.WriteString("\r\nGET_PARAMETER rtsp://x/ RTSP/1.0\r\nCSeq: 9\r\n\r\n")
	br := bufio.NewReader(&b)
	want := []string{"frame0", "resp", "frame1", "req"}
	for i, w := range want {
		m, err := readMessage(br)
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		var got string
		switch m := m.(type) {
		case *Frame:
			got = "frame" + string(rune('0'+m.Channel))
			if m.Channel == 0 && !bytes.Equal(m.Payload, []byte{1, 2, 3}) {
				t.Fatalf("payload %v", m.Payload)
			}
		case *Response:
			got = "resp"
			if m.Header.Get("RTP-Info") == "" {
				t.Fatal("RTP-Info lost")
			}
		case *Request:
			got = "req"
		}
		if got != w {
			t.Fatalf("item %d = %s, want %s", i, got, w)
		}
	}
	if _, err := readMessage(bufio.NewReader(bytes.NewReader([]byte{'$', 0, 0, 9, 1}))); err == nil {
		t.Fatal("truncated frame accepted")
	}
}

func TestTransportHeader(t *testing.T) { // MED-1
	tests := []struct {
		in   string
		want string
		tcp  bool
	}{
		{"RTP/AVP/TCP;unicast;interleaved=0-1", "RTP/AVP/TCP;unicast;interleaved=0-1", true},
		{"RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=1A2B3C4D;mode=\"PLAY\"",
			"RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=1A2B3C4D;mode=PLAY", false},
		{"RTP/AVP;multicast;destination=239.1.2.3;port=5000-5001;ttl=16", "RTP/AVP;multicast;destination=239.1.2.3;port=5000-5001;ttl=16", false},
		{"RTP/AVP/UDP;unicast;client_port=7000", "RTP/AVP/UDP;unicast;client_port=7000-7001", false},
	}
	for _, tt := range tests {
		tr, err := ParseTransport(tt.in)
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if tr.String() != tt.want || tr.TCP() != tt.tcp {
			t.Errorf("%q → %q (tcp %v), want %q", tt.in, tr.String(), tr.TCP(), tt.want)
		}
	}
	list, err := ParseTransports("RTP/AVP;unicast;client_port=1-2, RTP/AVP/TCP;interleaved=0-1")
	if err != nil || len(list) != 2 || !list[1].TCP() {
		t.Fatalf("list: %v %v", list, err)
	}
	for _, bad := range []string{"", "RAW/RAW/UDP", "RTP/AVP;interleaved=x", "RTP/AVP;client_port=70000", "RTP/AVP;ttl=999"} {
		if _, err := ParseTransports(bad); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

func TestResolveControl(t *testing.T) {
	tests := []struct{ base, control, want string }{
		{"rtsp://cam/live", "trackID=1", "rtsp://cam/live/trackID=1"},
		{"rtsp://cam/live/", "trackID=1", "rtsp://cam/live/trackID=1"},
		{"rtsp://cam/live", "*", "rtsp://cam/live"},
		{"rtsp://cam/live", "", "rtsp://cam/live"},
		{"rtsp://cam/live", "rtsp://other:8554/x/track0", "rtsp://other:8554/x/track0"},
		{"rtsp://cam/Streaming/Channels/101?transportmode=unicast", "trackID=1", "rtsp://cam/Streaming/Channels/101?transportmode=unicast/trackID=1"},
	}
	for _, tt := range tests {
		b, _ := url.Parse(tt.base)
		got, err := resolveControl(b, tt.control)
		if err != nil || got.String() != tt.want {
			t.Errorf("resolve(%q, %q) = %v, %v; want %q", tt.base, tt.control, got, err, tt.want)
		}
	}
	req, _ := url.Parse("rtsp://cam/a")
	h := Header{}
	h.Set("Content-Location", "b/")
	if got := contentBase(h, req).String(); got != "rtsp://cam/b/" {
		t.Errorf("relative Content-Location → %q", got)
	}
	h.Set("Content-Base", "rtsp://cam/base/")
	if got := contentBase(h, req).String(); got != "rtsp://cam/base/" {
		t.Errorf("Content-Base → %q", got)
	}
}
