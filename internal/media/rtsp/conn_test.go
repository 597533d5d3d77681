package rtsp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
)

// readerConn is a net.Conn whose reads come from r, at most max bytes at a
// time, as a TCP socket hands out what has arrived.
type readerConn struct {
	net.Conn
	r   io.Reader
	max int
}

func (c *readerConn) Read(p []byte) (int, error) {
	if c.max > 0 && len(p) > c.max {
		p = p[:c.max]
	}
	return c.r.Read(p)
}

// describe renders one item of ReadMessage for comparison.
func describeItem(m any) string {
	switch m := m.(type) {
	case *Frame:
		return fmt.Sprintf("frame %d %x", m.Channel, m.Payload)
	case *Response:
		return fmt.Sprintf("response %d %s %q", m.StatusCode, m.Header.Get("CSeq"), m.Body)
	case *Request:
		return fmt.Sprintf("request %s %s %q", m.Method, m.Header.Get("CSeq"), m.Body)
	}
	return fmt.Sprintf("%T", m)
}

// connItems reads b through a Conn, describing each item before the next
// read (a lent frame is only valid until then).
func connItems(b []byte, max, limit int) []string {
	c := NewConn(&readerConn{r: bytes.NewReader(b), max: max})
	var out []string
	for i := 0; i < limit; i++ {
		m, err := c.ReadMessage()
		if err != nil {
			return append(out, "end")
		}
		out = append(out, describeItem(m))
	}
	return out
}

// refItems reads b with the allocating reader the Conn's frames must match.
func refItems(b []byte, limit int) []string {
	br := bufio.NewReader(bytes.NewReader(b))
	var out []string
	for i := 0; i < limit; i++ {
		m, err := readMessage(br)
		if err != nil {
			return append(out, "end")
		}
		out = append(out, describeItem(m))
	}
	return out
}

func frameBytes(ch byte, n int) []byte {
	b := []byte{'$', ch, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	for i := 0; i < n; i++ {
		b = append(b, byte(i*7+int(ch)))
	}
	return b
}

// Conn lends interleaved frames out of its read buffer, or out of a reused
// buffer when they exceed it; either way every frame, response and request
// must come out as the allocating reader gives them, however the bytes
// arrive. MED-1
func TestConnReadMessageLendsFrames(t *testing.T) {
	var stream []byte
	stream = append(stream, frameBytes(0, 1400)...)
	stream = append(stream, "RTSP/1.0 200 OK\r\nCSeq: 4\r\nContent-Length: 3\r\n\r\nabc"...)
	stream = append(stream, frameBytes(1, 0)...)
	stream = append(stream, frameBytes(2, readBufferSize-4)...) // exactly fills the buffer
	stream = append(stream, frameBytes(3, readBufferSize)...)   // one byte too many: copied
	stream = append(stream, frameBytes(0, MaxFrameBytes)...)
	stream = append(stream, "\r\nGET_PARAMETER rtsp://x/ RTSP/1.0\r\nCSeq: 9\r\n\r\n"...)
	stream = append(stream, frameBytes(1, 3)...)
	want := refItems(stream, 20)
	if len(want) != 9 || want[len(want)-1] != "end" {
		t.Fatalf("reference reader gave %d items", len(want))
	}
	for _, max := range []int{0, 1, 7, 1500, 5000, readBufferSize} {
		t.Run(fmt.Sprintf("reads of %d", max), func(t *testing.T) {
			got := connItems(stream, max, 20)
			if len(got) != len(want) {
				t.Fatalf("%d items, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("item %d differs:\n got %.80s\nwant %.80s", i, got[i], want[i])
				}
			}
		})
	}
	// A frame cut short is an error, not a short payload.
	if got := connItems(frameBytes(0, 100)[:50], 0, 3); len(got) != 1 || got[0] != "end" {
		t.Fatalf("truncated frame: %v", got)
	}
}

// FuzzConnReadMessage checks that Conn's lending reader and the allocating
// reader agree on any input, in any read size.
func FuzzConnReadMessage(f *testing.F) {
	f.Add([]byte("$\x00\x00\x02abRTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n$\x01\x00\x00"), uint8(3))
	f.Add(append(frameBytes(0, 300), "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"...), uint8(0))
	f.Add([]byte("$\x00\xff\xff\x01"), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, max uint8) {
		want := refItems(b, 8)
		got := connItems(b, int(max), 8)
		if len(got) != len(want) {
			t.Fatalf("%d items, want %d: %q vs %q", len(got), len(want), got, want)
		}
		for i := range want {
			if got[i] != want[i] && !(got[i] == "end" && i == len(want)-1) {
				t.Fatalf("item %d: %.80q, want %.80q", i, got[i], want[i])
			}
		}
	})
}

// BenchmarkConnReadFrames reads 1400-byte interleaved RTP frames, as a
// session's reader does: one op per frame. Issue 3.
func BenchmarkConnReadFrames(b *testing.B) {
	one := frameBytes(0, 1400)
	stream := bytes.Repeat(one, 256)
	r := bytes.NewReader(stream)
	c := NewConn(&readerConn{r: r})
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if i%256 == 0 {
			r.Reset(stream)
		}
		m, err := c.ReadMessage()
		if err != nil {
			b.Fatal(err)
		}
		if f, ok := m.(*Frame); !ok || len(f.Payload) != 1400 {
			b.Fatalf("item %d: %T", i, m)
		}
	}
}
