package rtsp

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// parseAuthParams parses `key=value, key="quoted, value"` lists.
func parseAuthParams(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t,")
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		k := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var v string
		if strings.HasPrefix(s, `"`) {
			s = s[1:]
			var b strings.Builder
			i := 0
			for ; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					b.WriteByte(s[i])
					continue
				}
				if s[i] == '"' {
					break
				}
				b.WriteByte(s[i])
			}
			v = b.String()
			if i < len(s) {
				i++
			}
			s = s[i:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			v = strings.TrimSpace(s[:end])
			s = s[end:]
		}
		out[k] = v
	}
	return out
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// clientAuth answers a server's challenge on every later request.
type clientAuth struct {
	user, pass string
	digest     bool
	realm      string
	nonce      string
	opaque     string
	qop        string // "auth" or ""
	mu         sync.Mutex
	nc         uint32
}

// newClientAuth picks the strongest scheme among a 401's challenges.
func newClientAuth(user, pass string, challenges []string) (*clientAuth, error) {
	var basic *clientAuth
	for _, c := range challenges {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(c), " ")
		switch strings.ToLower(scheme) {
		case "digest":
			p := parseAuthParams(rest)
			if alg := strings.ToUpper(p["algorithm"]); alg != "" && alg != "MD5" {
				continue
			}
			a := &clientAuth{user: user, pass: pass, digest: true, realm: p["realm"], nonce: p["nonce"], opaque: p["opaque"]}
			for _, q := range strings.Split(p["qop"], ",") {
				if strings.TrimSpace(q) == "auth" {
					a.qop = "auth"
				}
			}
			if a.nonce == "" {
				continue
			}
			return a, nil
		case "basic":
			basic = &clientAuth{user: user, pass: pass}
		}
	}
	if basic != nil {
		return basic, nil
	}
	return nil, fmt.Errorf("%w: no supported WWW-Authenticate challenge in %q", ErrAuth, challenges)
}

// header returns the Authorization header for method and uri.
func (a *clientAuth) header(method, uri string) string {
	if !a.digest {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(a.user+":"+a.pass))
	}
	ha1 := md5hex(a.user + ":" + a.realm + ":" + a.pass)
	ha2 := md5hex(method + ":" + uri)
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s", realm="%s", nonce="%s", uri="%s"`, a.user, a.realm, a.nonce, uri)
	if a.qop == "auth" {
		a.mu.Lock()
		a.nc++
		nc := fmt.Sprintf("%08x", a.nc)
		a.mu.Unlock()
		var cb [8]byte
		rand.Read(cb[:])
		cnonce := hex.EncodeToString(cb[:])
		resp := md5hex(ha1 + ":" + a.nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
		fmt.Fprintf(&b, `, response="%s", qop=auth, nc=%s, cnonce="%s"`, resp, nc, cnonce)
	} else {
		fmt.Fprintf(&b, `, response="%s"`, md5hex(ha1+":"+a.nonce+":"+ha2))
	}
	if a.opaque != "" {
		fmt.Fprintf(&b, `, opaque="%s"`, a.opaque)
	}
	b.WriteString(", algorithm=MD5")
	return b.String()
}

// Action is what a request wants to do with a stream.
type Action string

// Actions.
const (
	ActionRead    Action = "read"    // DESCRIBE, SETUP, PLAY
	ActionPublish Action = "publish" // ANNOUNCE, SETUP, RECORD
)

// AuthRequest is what the server asks its AuthFunc to decide.
type AuthRequest struct {
	User       string // "" when the client sent no credentials
	Path       string // stream name
	Action     Action
	Method     string
	RemoteAddr string
	check      func(password string) bool
}

// CheckPassword reports whether the client proved knowledge of password,
// whichever scheme (Basic or Digest) it used. It is false without credentials.
func (r *AuthRequest) CheckPassword(password string) bool {
	if r.check == nil {
		return false
	}
	return r.check(password)
}

// AuthFunc decides whether a request may proceed. Return nil to allow;
// an error wrapping ErrAuth makes the server challenge the client (401);
// any other error refuses it (403).
type AuthFunc func(r *AuthRequest) error

// StaticAuth allows user/password for every path and action.
func StaticAuth(user, password string) AuthFunc {
	return func(r *AuthRequest) error {
		if r.User == user && r.CheckPassword(password) {
			return nil
		}
		return ErrAuth
	}
}

// serverAuth issues and checks challenges.
type serverAuth struct {
	realm string
	basic bool // also offer and accept Basic
	key   [32]byte
}

func newServerAuth(realm string, basic bool) *serverAuth {
	a := &serverAuth{realm: realm, basic: basic}
	rand.Read(a.key[:])
	return a
}

func (a *serverAuth) nonce(now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 16)
	m := hmac.New(sha256.New, a.key[:])
	m.Write([]byte(ts))
	return ts + hex.EncodeToString(m.Sum(nil)[:12])
}

func (a *serverAuth) validNonce(n string, now time.Time) bool {
	if len(n) < 25 {
		return false
	}
	ts, sig := n[:len(n)-24], n[len(n)-24:]
	m := hmac.New(sha256.New, a.key[:])
	m.Write([]byte(ts))
	if !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(m.Sum(nil)[:12]))) {
		return false
	}
	t, err := strconv.ParseInt(ts, 16, 64)
	return err == nil && now.Sub(time.Unix(t, 0)) < 10*time.Minute
}

// nonceAge returns how old a nonce of ours is; false if it is not ours.
func (a *serverAuth) nonceAge(n string, now time.Time) (time.Duration, bool) {
	if !a.validNonce(n, now) {
		return 0, false
	}
	t, _ := strconv.ParseInt(n[:len(n)-24], 16, 64)
	return now.Sub(time.Unix(t, 0)), true
}

func (a *serverAuth) challenges(now time.Time) []string {
	out := []string{fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=MD5, qop="auth"`, a.realm, a.nonce(now))}
	if a.basic {
		out = append(out, fmt.Sprintf(`Basic realm="%s"`, a.realm))
	}
	return out
}

var errBadCredentials = errors.New("malformed or stale credentials")

// credentials extracts the user and a password checker from an
// Authorization header.
func (a *serverAuth) credentials(method, hdr string, now time.Time) (string, func(string) bool, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(hdr), " ")
	switch strings.ToLower(scheme) {
	case "basic":
		if !a.basic {
			return "", nil, errBadCredentials
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return "", nil, errBadCredentials
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return "", nil, errBadCredentials
		}
		return user, func(p string) bool { return subtle.ConstantTimeCompare([]byte(p), []byte(pass)) == 1 }, nil
	case "digest":
		p := parseAuthParams(rest)
		if p["realm"] != a.realm || !a.validNonce(p["nonce"], now) || p["response"] == "" {
			return "", nil, errBadCredentials
		}
		user := p["username"]
		return user, func(pass string) bool {
			ha1 := md5hex(user + ":" + a.realm + ":" + pass)
			ha2 := md5hex(method + ":" + p["uri"])
			var want string
			if p["qop"] == "auth" {
				want = md5hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
			} else {
				want = md5hex(ha1 + ":" + p["nonce"] + ":" + ha2)
			}
			return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(p["response"]))) == 1
		}, nil
	}
	return "", nil, errBadCredentials
}
