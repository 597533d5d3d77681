package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/argon2"

	"vigil/internal/problem"
	"vigil/internal/store"
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

// passwordExpired reports whether a password set at changedAt (micros) is
// older than the configured maximum age (AUD-2). Accounts without a
// password (OIDC only) do not expire.
func (s *Service) passwordExpired(hash string, changedAt int64) bool {
	return s.opts.PasswordMaxAge > 0 && hash != "" && changedAt > 0 &&
		s.now().Sub(store.Time(changedAt)) >= s.opts.PasswordMaxAge
}

// checkPasswordReuse refuses a new password that is the user's current
// one or one of its last PasswordHistory passwords (AUD-2).
func (s *Service) checkPasswordReuse(ctx context.Context, tx reader, userID, password string) error {
	n := s.opts.PasswordHistory
	if n <= 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT password_hash FROM password_history WHERE user_id = ? ORDER BY set_at DESC, id LIMIT ?`, userID, n)
	if err != nil {
		return wrap("read password history", err)
	}
	var hashes []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return wrap("read password history", err)
		}
		hashes = append(hashes, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap("read password history", err)
	}
	for _, h := range hashes {
		if ok, _ := VerifyPassword(password, h, s.opts.Argon2); ok {
			return problem.Invalid("password.reused", "new_password", problem.P{"count": n})
		}
	}
	return nil
}

// rememberPassword records hash as the user's newest password and forgets
// those beyond the history.
func (s *Service) rememberPassword(ctx context.Context, tx *store.Tx, userID, hash string) error {
	if hash == "" {
		return nil
	}
	// set_at orders the history: strictly increasing per user, even
	// within one clock tick.
	var last int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(set_at), 0) FROM password_history WHERE user_id = ?`, userID).Scan(&last); err != nil {
		return wrap("read password history", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO password_history (id, user_id, password_hash, set_at) VALUES (?, ?, ?, ?)`,
		newID(), userID, hash, max(store.Micros(s.now()), last+1)); err != nil {
		return wrap("record password history", err)
	}
	keep := max(s.opts.PasswordHistory, 1)
	_, err := tx.Exec(ctx, `DELETE FROM password_history WHERE user_id = ? AND id NOT IN
		(SELECT id FROM password_history WHERE user_id = ? ORDER BY set_at DESC, id LIMIT ?)`, userID, userID, keep)
	return wrap("trim password history", err)
}
