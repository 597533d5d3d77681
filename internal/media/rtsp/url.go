package rtsp

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultPort is RTSP's well-known port.
const DefaultPort = "554"

// ParseURL parses an rtsp:// URL and checks it names a host.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse RTSP URL: %w", err)
	}
	if u.Scheme != "rtsp" {
		return nil, fmt.Errorf("parse RTSP URL %q: scheme must be rtsp (rtsps is not supported)", redact(u))
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("parse RTSP URL %q: no host", redact(u))
	}
	return u, nil
}

// hostPort returns host:port, adding the default port.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), DefaultPort)
}

// redact returns u without its password, for logs and errors.
func redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return c.String()
}

// contentBase chooses the base for control URLs of a DESCRIBE answer:
// Content-Base, else Content-Location, else the request URL.
func contentBase(h Header, reqURL *url.URL) *url.URL {
	for _, k := range []string{"Content-Base", "Content-Location"} {
		if v := strings.TrimSpace(h.Get(k)); v != "" {
			if u, err := url.Parse(v); err == nil {
				if u.Scheme == "" { // relative Content-Location
					u = reqURL.ResolveReference(u)
				}
				return u
			}
		}
	}
	c := *reqURL
	return &c
}

// resolveControl resolves a media or session a=control value against base,
// as cameras expect rather than strictly per RFC 3986: a relative control is
// appended to the base with one '/', whether or not the base ends in one
// (many servers send Content-Base without the trailing slash); "*" and ""
// mean the base itself; an absolute URL is taken as is.
func resolveControl(base *url.URL, control string) (*url.URL, error) {
	control = strings.TrimSpace(control)
	if control == "" || control == "*" {
		c := *base
		return &c, nil
	}
	if strings.HasPrefix(strings.ToLower(control), "rtsp://") || strings.HasPrefix(strings.ToLower(control), "rtsps://") {
		u, err := url.Parse(control)
		if err != nil {
			return nil, fmt.Errorf("%w: control URL %q: %v", ErrProtocol, trunc(control), err)
		}
		if u.User == nil && base.User != nil {
			u.User = base.User
		}
		return u, nil
	}
	b := *base
	b.User = nil
	s := b.String()
	if strings.HasSuffix(s, "/") {
		s += strings.TrimPrefix(control, "/")
	} else {
		s += "/" + strings.TrimPrefix(control, "/")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: control URL %q: %v", ErrProtocol, trunc(s), err)
	}
	u.User = base.User
	return u, nil
}
