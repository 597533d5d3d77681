// Package rtsp is Vigil's RTSP 1.0 (RFC 2326, with the RFC 7826 clarifications
// cameras rely on) client and server.
//
// The client pulls a camera's stream (OPTIONS, DESCRIBE, SETUP, PLAY, keep-alive,
// TEARDOWN) over TCP-interleaved, UDP or UDP-multicast transport, falls back
// from UDP to TCP, follows redirects, answers Basic and Digest challenges, and
// hands whole access units (depacketised by rtpdec) to its caller. A
// Supervisor keeps one camera connected and published into a media.Hub,
// reconnecting with exponential backoff and jitter.
//
// The server serves every stream of a media.Hub under its name
// (rtsp://host/NAME) and accepts streams published to it (ANNOUNCE/RECORD).
//
// Invariants:
//   - Nothing read off the network panics: every parser returns an error, and
//     header and body sizes are bounded (MaxHeaderBytes, MaxBodyBytes).
//   - On a TCP connection responses, requests and '$' interleaved frames may
//     arrive in any order (servers that send RTP before the PLAY reply).
//   - Every goroutine a Client, Session or Server starts ends when it is
//     closed or its context is cancelled.
//   - Errors are classified (ErrAuth, ErrTimeout, ErrProtocol, ErrNotFound,
//     ErrTransport) and counted in Stats.
//   - Camera faults the client survives — header lines without a colon
//     (skipped), keep-alives answered 401 stale (retried with the new
//     nonce), SSRC changes (followed, nothing lost), timestamp jumps and
//     wrong clock rates (rtpdec), UDP fallbacks — are counted in Stats and
//     reported once each through ClientOptions.Log and OnEvent, never per
//     packet.
package rtsp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Limits on what a peer may send.
const (
	MaxHeaderBytes = 64 << 10 // request/status line plus all header lines
	MaxHeaderLines = 128
	MaxBodyBytes   = 1 << 20
)

// Protocol is the version string Vigil speaks.
const Protocol = "RTSP/1.0"

// Header holds an RTSP message's header fields. Keys are canonicalised with
// CanonicalKey so lookups are case-insensitive.
type Header map[string][]string

var specialKeys = map[string]string{
	"cseq":             "CSeq",
	"www-authenticate": "WWW-Authenticate",
	"rtp-info":         "RTP-Info",
	"content-base":     "Content-Base",
	"content-location": "Content-Location",
	"content-type":     "Content-Type",
	"content-length":   "Content-Length",
}

// CanonicalKey returns the canonical form of a header name ("cseq" → "CSeq").
func CanonicalKey(k string) string {
	lk := strings.ToLower(k)
	if s, ok := specialKeys[lk]; ok {
		return s
	}
	b := []byte(lk)
	upper := true
	for i, c := range b {
		if upper && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		upper = c == '-'
	}
	return string(b)
}

// Get returns the first value of key, or "".
func (h Header) Get(key string) string {
	if v := h[CanonicalKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns all values of key.
func (h Header) Values(key string) []string { return h[CanonicalKey(key)] }

// Set replaces key's values with v.
func (h Header) Set(key, v string) { h[CanonicalKey(key)] = []string{v} }

// Add appends v to key's values.
func (h Header) Add(key, v string) {
	k := CanonicalKey(key)
	h[k] = append(h[k], v)
}

// Del removes key.
func (h Header) Del(key string) { delete(h, CanonicalKey(key)) }

func (h Header) write(w *bytes.Buffer) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// CSeq first: some cameras look for it at a fixed place.
	for i, k := range keys {
		if k == "CSeq" {
			copy(keys[1:i+1], keys[:i])
			keys[0] = "CSeq"
			break
		}
	}
	for _, k := range keys {
		for _, v := range h[k] {
			v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			fmt.Fprintf(w, "%s: %s\r\n", k, v)
		}
	}
}

// Request is an RTSP request.
type Request struct {
	Method string
	URL    *url.URL // "*" parses to a URL whose Path is "*"
	Header Header
	Body   []byte
	// BadLines counts header lines that were skipped as malformed (no
	// colon, bad name): cameras send them, and the rest of the message is
	// still good.
	BadLines int
}

// Response is an RTSP response.
type Response struct {
	StatusCode int
	Reason     string
	Header     Header
	Body       []byte
	BadLines   int // header lines skipped as malformed (see Request.BadLines)

	junk string // a line written as is after the header (Faults.BadHeader)
}

// Methods.
const (
	MethodOptions      = "OPTIONS"
	MethodDescribe     = "DESCRIBE"
	MethodAnnounce     = "ANNOUNCE"
	MethodSetup        = "SETUP"
	MethodPlay         = "PLAY"
	MethodPause        = "PAUSE"
	MethodRecord       = "RECORD"
	MethodTeardown     = "TEARDOWN"
	MethodGetParameter = "GET_PARAMETER"
	MethodSetParameter = "SET_PARAMETER"
	MethodRedirect     = "REDIRECT"
)

// Status codes Vigil uses.
const (
	StatusOK                      = 200
	StatusMovedPermanently        = 301
	StatusFound                   = 302
	StatusBadRequest              = 400
	StatusUnauthorized            = 401
	StatusUnsupportedMediaType    = 415 // an ANNOUNCE without a usable track
	StatusForbidden               = 403
	StatusNotFound                = 404
	StatusMethodNotAllowed        = 405
	StatusSessionNotFound         = 454
	StatusMethodNotValidInState   = 455
	StatusUnsupportedTransport    = 461
	StatusInternalServerError     = 500
	StatusNotImplemented          = 501
	StatusServiceUnavailable      = 503
	StatusRTSPVersionNotSupported = 505
)

// StatusText returns a reason phrase for code.
func StatusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 415:
		return "Unsupported Media Type"
	case 454:
		return "Session Not Found"
	case 455:
		return "Method Not Valid in This State"
	case 461:
		return "Unsupported Transport"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "RTSP Version Not Supported"
	}
	return "Status " + strconv.Itoa(code)
}

// Marshal serialises the request, setting Content-Length from Body.
func (r *Request) Marshal() []byte {
	var b bytes.Buffer
	u := "*"
	if r.URL != nil && r.URL.String() != "*" {
		uu := *r.URL
		uu.User = nil // credentials never travel in the request line
		u = uu.String()
	}
	fmt.Fprintf(&b, "%s %s %s\r\n", r.Method, u, Protocol)
	h := r.Header
	if h == nil {
		h = Header{}
	}
	if len(r.Body) > 0 {
		h.Set("Content-Length", strconv.Itoa(len(r.Body)))
	} else {
		h.Del("Content-Length")
	}
	h.write(&b)
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.Bytes()
}

// Marshal serialises the response, setting Content-Length from Body.
func (r *Response) Marshal() []byte {
	var b bytes.Buffer
	reason := r.Reason
	if reason == "" {
		reason = StatusText(r.StatusCode)
	}
	fmt.Fprintf(&b, "%s %d %s\r\n", Protocol, r.StatusCode, reason)
	h := r.Header
	if h == nil {
		h = Header{}
	}
	if len(r.Body) > 0 {
		h.Set("Content-Length", strconv.Itoa(len(r.Body)))
	} else {
		h.Del("Content-Length")
	}
	h.write(&b)
	if r.junk != "" {
		b.WriteString(r.junk + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.Bytes()
}

// ReadRequest reads one request from r.
func ReadRequest(r *bufio.Reader) (*Request, error) {
	line, h, bad, err := readHead(r)
	if err != nil {
		return nil, err
	}
	req, err := parseRequestHead(r, line, h)
	if req != nil {
		req.BadLines = bad
	}
	return req, err
}

func requestFromLine(line string, h Header) (*Request, error) {
	parts := strings.SplitN(line, " ", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: malformed request line %q", ErrProtocol, trunc(line))
	}
	if !strings.HasPrefix(parts[2], "RTSP/") {
		return nil, fmt.Errorf("%w: unsupported protocol %q", ErrProtocol, trunc(parts[2]))
	}
	if !isToken(parts[0]) {
		return nil, fmt.Errorf("%w: bad method %q", ErrProtocol, trunc(parts[0]))
	}
	u, err := url.Parse(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: request URL: %v", ErrProtocol, err)
	}
	return &Request{Method: parts[0], URL: u, Header: h}, nil
}

// ReadResponse reads one response from r.
func ReadResponse(r *bufio.Reader) (*Response, error) {
	line, h, bad, err := readHead(r)
	if err != nil {
		return nil, err
	}
	resp, err := parseResponse(r, line, h)
	if resp != nil {
		resp.BadLines = bad
	}
	return resp, err
}

func parseResponse(r *bufio.Reader, line string, h Header) (*Response, error) {
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "RTSP/") {
		return nil, fmt.Errorf("%w: malformed status line %q", ErrProtocol, trunc(line))
	}
	code, err := strconv.Atoi(parts[1])
	if err != nil || code < 100 || code > 999 {
		return nil, fmt.Errorf("%w: bad status code %q", ErrProtocol, trunc(parts[1]))
	}
	resp := &Response{StatusCode: code, Header: h}
	if len(parts) == 3 {
		resp.Reason = parts[2]
	}
	body, err := readBody(r, h)
	if err != nil {
		return nil, err
	}
	resp.Body = body
	return resp, nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// readHead reads the first line and the header block. Malformed header
// lines are skipped and counted in bad.
func readHead(r *bufio.Reader) (first string, h Header, bad int, err error) {
	budget := MaxHeaderBytes
	// Tolerate blank lines between messages (keep-alive CRLFs).
	for {
		l, err := readLine(r, &budget)
		if err != nil {
			return "", nil, 0, err
		}
		if l != "" {
			first = l
			break
		}
	}
	h = Header{}
	lastKey := ""
	for n := 0; ; n++ {
		if n > MaxHeaderLines {
			return "", nil, 0, fmt.Errorf("%w: more than %d header lines", ErrProtocol, MaxHeaderLines)
		}
		l, err := readLine(r, &budget)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", nil, 0, err
		}
		if l == "" {
			break
		}
		if (l[0] == ' ' || l[0] == '\t') && lastKey != "" { // obsolete line folding
			vs := h[lastKey]
			vs[len(vs)-1] += " " + strings.TrimSpace(l)
			continue
		}
		i := strings.IndexByte(l, ':')
		if i <= 0 || !isToken(strings.TrimSpace(l[:i])) {
			bad++ // a line without a colon or with a bad name: skipped, counted
			lastKey = ""
			continue
		}
		k := strings.TrimSpace(l[:i])
		k = CanonicalKey(k)
		h[k] = append(h[k], strings.TrimSpace(l[i+1:]))
		lastKey = k
	}
	return first, h, bad, nil
}

func readLine(r *bufio.Reader, budget *int) (string, error) {
	var buf []byte
	for {
		frag, err := r.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return "", fmt.Errorf("%w: header larger than %d bytes", ErrProtocol, MaxHeaderBytes)
		}
		buf = append(buf, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
	buf = bytes.TrimRight(buf, "\r\n")
	return string(buf), nil
}

func readBody(r *bufio.Reader, h Header) ([]byte, error) {
	cl := h.Get("Content-Length")
	if cl == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(cl))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: bad Content-Length %q", ErrProtocol, trunc(cl))
	}
	if n > MaxBodyBytes {
		return nil, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrProtocol, n, MaxBodyBytes)
	}
	if n == 0 {
		return nil, nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// Session header: "12345678;timeout=60".

// ParseSession splits a Session header into its id and timeout in seconds (0
// when absent).
func ParseSession(v string) (id string, timeout int) {
	parts := strings.Split(v, ";")
	id = strings.TrimSpace(parts[0])
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if k, val, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "timeout") {
			if t, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && t > 0 && t < 1<<20 {
				timeout = t
			}
		}
	}
	return id, timeout
}

// ParsePublic splits a Public header into its methods.
func ParsePublic(v string) []string {
	var out []string
	for _, m := range strings.Split(v, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, strings.ToUpper(m))
		}
	}
	return out
}
