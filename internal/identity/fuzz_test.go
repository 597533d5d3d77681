package identity

import (
	"strings"
	"testing"
)

// FuzzIDNumber: ID numbers arrive in request bodies; validation and
// masking never panic, and masking never shows more than 7 characters.
func FuzzIDNumber(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "110105194912310021", "", "x", "11010519491231002\xff", "１１０１０５１９４９１２３１００２Ｘ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidIDNumber(s) && (len(s) != 18 || idCheckChar(s[:17]) != strings.ToUpper(s[17:])[0]) {
			t.Fatalf("accepted %q", s)
		}
		m := MaskIDNumber(s)
		if len(s) >= 18 && strings.Count(m, "*") < len(m)-7 {
			t.Fatalf("mask %q of %q shows too much", m, s)
		}
	})
}

// FuzzPHC: stored hashes are parsed on every sign-in; a damaged or hostile
// value is refused without panicking or allocating unbounded memory.
func FuzzPHC(f *testing.F) {
	f.Add(HashPassword("Seed-Pass-1", cheapArgon2))
	f.Add("$argon2id$v=19$m=1024,t=1,p=1$$")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$AAAA$AAAA")
	f.Add("$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA")
	f.Fuzz(func(t *testing.T, s string) {
		p, _, _, err := parsePHC(s)
		if err == nil && (p.Memory > 4*1024*1024 || p.Time > 100 || p.Threads == 0) {
			t.Fatalf("accepted parameters %+v", p)
		}
		if err == nil && p.Memory <= 64*1024 && p.Time <= 4 {
			VerifyPassword("x", s, cheapArgon2)
		}
	})
}

// BenchmarkHashPassword measures the production cost of one hash (and so
// of one sign-in).
func BenchmarkHashPassword(b *testing.B) {
	for i := 0; i < b.N; i++ {
		HashPassword("Correct-Horse-9", DefaultArgon2)
	}
}
