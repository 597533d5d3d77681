package rtsp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Frame is one '$'-prefixed interleaved binary frame (RFC 2326 §10.12).
type Frame struct {
	Channel uint8
	Payload []byte
}

// MaxFrameBytes bounds an interleaved frame; the length field is 16 bits.
const MaxFrameBytes = 65535

// Conn reads and writes RTSP messages and interleaved frames on one stream
// connection. Reads are for one goroutine; writes are serialised.
type Conn struct {
	nc  net.Conn
	br  *bufio.Reader
	wmu sync.Mutex
	hdr [4]byte

	frame   Frame  // the frame ReadMessage returned last
	discard int    // bytes of that frame still to be skipped in br
	fbuf    []byte // payloads too large to be lent from br's buffer
}

// readBufferSize is the size of a connection's read buffer. Interleaved
// frames up to this size are handed out from it without a copy; 16 KiB
// holds a dozen RTP packets and keeps a few hundred connections small.
const readBufferSize = 16 << 10

// NewConn wraps nc.
func NewConn(nc net.Conn) *Conn {
	return &Conn{nc: nc, br: bufio.NewReaderSize(nc, readBufferSize)}
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// SetReadDeadline sets the read deadline of the connection.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// ReadMessage reads the next item: a *Request, a *Response or a *Frame.
// A *Frame and its Payload are lent: they stay valid only until the next
// ReadMessage, so a caller that keeps a payload copies it. Frames are
// read without allocating.
func (c *Conn) ReadMessage() (any, error) {
	if c.discard > 0 {
		n := c.discard
		c.discard = 0
		if _, err := c.br.Discard(n); err != nil {
			return nil, err
		}
	}
	b, err := c.br.Peek(1)
	if err != nil {
		return nil, err
	}
	if b[0] != '$' {
		return readMessage(c.br)
	}
	hdr, err := c.br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("read interleaved frame header: %w", err)
	}
	n := int(binary.BigEndian.Uint16(hdr[2:]))
	c.frame.Channel = hdr[1]
	if 4+n <= c.br.Size() {
		p, err := c.br.Peek(4 + n)
		if err != nil {
			return nil, fmt.Errorf("read interleaved frame: %w", err)
		}
		c.frame.Payload = p[4:]
		c.discard = 4 + n // skipped at the next read, which ends the loan
		return &c.frame, nil
	}
	c.br.Discard(4)
	if cap(c.fbuf) < n {
		c.fbuf = make([]byte, n)
	}
	c.frame.Payload = c.fbuf[:n]
	if _, err := io.ReadFull(c.br, c.frame.Payload); err != nil {
		return nil, fmt.Errorf("read interleaved frame: %w", err)
	}
	return &c.frame, nil
}

func readMessage(br *bufio.Reader) (any, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return nil, err
		}
		switch {
		case b[0] == '$':
			return readFrame(br)
		case b[0] == '\r' || b[0] == '\n':
			br.ReadByte() // stray line ending between messages
			continue
		}
		line, h, bad, err := readHead(br)
		if err != nil {
			return nil, err
		}
		if len(line) >= 5 && line[:5] == "RTSP/" {
			resp, err := parseResponse(br, line, h)
			if resp != nil {
				resp.BadLines = bad
			}
			return resp, err
		}
		req, err := parseRequestHead(br, line, h)
		if req != nil {
			req.BadLines = bad
		}
		return req, err
	}
}

func parseRequestHead(br *bufio.Reader, line string, h Header) (*Request, error) {
	// Reuse ReadRequest's validation by reassembling is wasteful; parse here.
	req, err := requestFromLine(line, h)
	if err != nil {
		return nil, err
	}
	body, err := readBody(br, h)
	if err != nil {
		return nil, err
	}
	req.Body = body
	return req, nil
}

func readFrame(br *bufio.Reader) (*Frame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("read interleaved frame header: %w", err)
	}
	n := int(binary.BigEndian.Uint16(hdr[2:]))
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return nil, fmt.Errorf("read interleaved frame: %w", err)
	}
	return &Frame{Channel: hdr[1], Payload: p}, nil
}

// WriteRequest writes req.
func (c *Conn) WriteRequest(req *Request) error { return c.write(req.Marshal()) }

// WriteResponse writes resp.
func (c *Conn) WriteResponse(resp *Response) error { return c.write(resp.Marshal()) }

// WriteFrame writes an interleaved frame on channel.
func (c *Conn) WriteFrame(channel uint8, payload []byte) error {
	if len(payload) > MaxFrameBytes {
		return fmt.Errorf("interleaved frame of %d bytes exceeds %d", len(payload), MaxFrameBytes)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.hdr[0] = '$'
	c.hdr[1] = channel
	binary.BigEndian.PutUint16(c.hdr[2:], uint16(len(payload)))
	bufs := net.Buffers{c.hdr[:], payload}
	_, err := bufs.WriteTo(c.nc)
	return err
}

// SetWriteDeadline sets the write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }

func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(b)
	return err
}
