package identity

import (
	"strings"
	"testing"
)

func TestPasswordHashAndVerify(t *testing.T) { // ACC-2
	h := HashPassword("Correct-Horse-9", cheapArgon2)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	if h2 := HashPassword("Correct-Horse-9", cheapArgon2); h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	cases := []struct {
		name       string
		password   string
		encoded    string
		want       Argon2Params
		ok, rehash bool
	}{
		{"right", "Correct-Horse-9", h, cheapArgon2, true, false},
		{"wrong", "Correct-Horse-8", h, cheapArgon2, false, false},
		{"empty", "", h, cheapArgon2, false, false},
		{"parameters changed", "Correct-Horse-9", h, Argon2Params{Time: 2, Memory: 1024, Threads: 1}, true, true},
		{"malformed", "x", "$argon2id$v=19$m=abc$$", cheapArgon2, false, false},
		{"other algorithm", "x", "$2a$10$abcdefghijklmnopqrstuv", cheapArgon2, false, false},
		{"huge memory refused", "x", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", cheapArgon2, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, rehash := VerifyPassword(c.password, c.encoded, c.want)
			if ok != c.ok || rehash != c.rehash {
				t.Fatalf("VerifyPassword = %v, %v; want %v, %v", ok, rehash, c.ok, c.rehash)
			}
		})
	}
}

func TestPasswordPolicy(t *testing.T) { // ACC-2
	cases := []struct {
		password, username string
		code               string
	}{
		{"Abcdefgh12", "zhang", ""},
		{"abcdefgh1!", "zhang", ""},
		{"密码Abcdefg1", "zhang", ""},
		{"Abc12!", "zhang", "password.too_short"},
		{"abcdefghijkl", "zhang", "password.too_simple"},
		{"abcdefgh1234", "zhang", "password.too_simple"},
		{"Zhang-2026-pw", "zhang", "password.contains_username"},
		{strings.Repeat("Aa1!", 70), "zhang", "password.too_long"},
	}
	for _, c := range cases {
		t.Run(c.password, func(t *testing.T) {
			err := CheckPasswordPolicy(c.password, c.username, 10)
			if code(err) != c.code {
				t.Fatalf("got %v, want code %q", err, c.code)
			}
		})
	}
	if err := CheckPasswordPolicy("Abcdefgh12", "", 12); code(err) != "password.too_short" {
		t.Fatalf("a configured minimum of 12 accepted 10 characters: %v", err)
	}
}

func TestIDNumber(t *testing.T) { // ACC-2
	cases := []struct {
		id    string
		valid bool
	}{
		{"11010519491231002X", true},
		{"11010519491231002x", true},
		{"440524188001010014", true},
		{"110105194912310021", false}, // wrong check digit
		{"440524188001010015", false},
		{"11010519491331002X", false}, // month 13
		{"01010519491231002X", false}, // region 01
		{"1101051949123100", false},
		{"11010519491231002XX", false},
		{"1101051949123100AX", false},
		{"", false},
	}
	for _, c := range cases {
		if got := ValidIDNumber(c.id); got != c.valid {
			t.Errorf("ValidIDNumber(%q) = %v, want %v", c.id, got, c.valid)
		}
	}
	if m := MaskIDNumber("11010519491231002X"); m != "110***********002X" {
		t.Fatalf("mask = %s", m)
	}
	if m := MaskIDNumber("123"); m != "***" {
		t.Fatalf("mask of a short value = %s", m)
	}
}

func TestDivision(t *testing.T) { // REG-11
	for s, want := range map[string]bool{"310107": true, "110000": true, "440300": true, "990000": false, "31010": false, "31010a": false, "000000": false} {
		if ValidDivision(s) != want {
			t.Errorf("ValidDivision(%q) != %v", s, want)
		}
	}
}
