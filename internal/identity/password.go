package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/argon2"

	"vigil/internal/problem"
)

// Argon2Params are the argon2id cost parameters of new password hashes.
type Argon2Params struct {
	Time    uint32 // iterations
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 is the production cost: 64 MiB, one pass, two lanes.
var DefaultArgon2 = Argon2Params{Time: 1, Memory: 64 * 1024, Threads: 2}

const (
	saltLen = 16
	keyLen  = 32
)

// HashPassword returns the PHC string of password under p:
// $argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash> (unpadded base64).
func HashPassword(password string, p Argon2Params) string {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// VerifyPassword reports whether password matches the PHC string encoded,
// comparing in constant time, and whether the hash should be recomputed
// because its parameters differ from want.
func VerifyPassword(password, encoded string, want Argon2Params) (ok, rehash bool) {
	p, salt, key, err := parsePHC(encoded)
	if err != nil {
		return false, false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false
	}
	return true, p != want
}

func parsePHC(s string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("argon2 parameters %q: %w", parts[3], err)
	}
	if p.Time == 0 || p.Memory == 0 || p.Threads == 0 || p.Memory > 4*1024*1024 || p.Time > 100 {
		return p, nil, nil, fmt.Errorf("argon2 parameters out of range")
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("argon2 salt: %w", err)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return p, nil, nil, fmt.Errorf("argon2 hash malformed")
	}
	return p, salt, key, nil
}

// CheckPasswordPolicy returns a problem saying what a new password lacks:
// at least minLen characters, at least three of the four classes
// (lower case, upper case, digits, others), and not containing the
// username.
func CheckPasswordPolicy(password, username string, minLen int) error {
	n := len([]rune(password))
	if n < minLen {
		return problem.Invalid("password.too_short", "password", problem.P{"min": minLen})
	}
	if n > 256 {
		return problem.Invalid("password.too_long", "password", problem.P{"max": 256})
	}
	var lower, upper, digit, other bool
	for _, r := range password {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if classes < 3 {
		return problem.Invalid("password.too_simple", "password", nil)
	}
	if username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)) {
		return problem.Invalid("password.contains_username", "password", nil)
	}
	return nil
}
