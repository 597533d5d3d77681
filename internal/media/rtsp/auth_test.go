package rtsp

import (
	"strings"
	"testing"
	"time"
)

func TestDigestRoundTrip(t *testing.T) { // MED-1
	now := time.Now()
	srv := newServerAuth("Vigil", true)
	tests := []struct {
		name      string
		challenge []string
		pass      string
		ok        bool
	}{
		{"digest qop=auth", srv.challenges(now), "secret", true},
		{"digest wrong password", srv.challenges(now), "wrong", false},
		{"digest no qop", []string{strings.Replace(srv.challenges(now)[0], `, qop="auth"`, "", 1)}, "secret", true},
		{"basic only", []string{`Basic realm="Vigil"`}, "secret", true},
		{"basic wrong", []string{`Basic realm="Vigil"`}, "nope", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, err := newClientAuth("admin", tt.pass, tt.challenge)
			if err != nil {
				t.Fatal(err)
			}
			hdr := ca.header("DESCRIBE", "rtsp://127.0.0.1/cam1")
			user, check, err := srv.credentials("DESCRIBE", hdr, now)
			if err != nil {
				t.Fatalf("credentials(%q): %v", hdr, err)
			}
			if user != "admin" || check("secret") != tt.ok {
				t.Fatalf("user %q, check = %v, want %v (header %q)", user, check("secret"), tt.ok, hdr)
			}
			// The same answer does not hold for another method.
			if strings.HasPrefix(hdr, "Digest") {
				_, check, _ := srv.credentials("PLAY", hdr, now)
				if check("secret") {
					t.Fatal("digest for DESCRIBE accepted for PLAY")
				}
			}
		})
	}
	// A nonce from another server or too old is refused.
	other := newServerAuth("Vigil", false)
	ca, _ := newClientAuth("admin", "secret", other.challenges(now))
	if _, _, err := srv.credentials("DESCRIBE", ca.header("DESCRIBE", "rtsp://x/"), now); err == nil {
		t.Fatal("foreign nonce accepted")
	}
	ca, _ = newClientAuth("admin", "secret", srv.challenges(now.Add(-time.Hour)))
	if _, _, err := srv.credentials("DESCRIBE", ca.header("DESCRIBE", "rtsp://x/"), now); err == nil {
		t.Fatal("stale nonce accepted")
	}
	if _, err := newClientAuth("a", "b", []string{`Digest realm="x", nonce="n", algorithm=SHA-512-256`}); err == nil {
		t.Fatal("unsupported algorithm chosen")
	}
}

func TestParseAuthParams(t *testing.T) {
	p := parseAuthParams(`realm="a, b", nonce=xyz, qop="auth,auth-int", opaque="q\"uote"`)
	if p["realm"] != "a, b" || p["nonce"] != "xyz" || p["qop"] != "auth,auth-int" || p["opaque"] != `q"uote` {
		t.Fatalf("%#v", p)
	}
}
