package identity

import (
	"strings"
	"time"
)

// ValidIDNumber reports whether s is a well-formed resident identity card
// number (居民身份证号码, GB 11643-1999): 17 digits — a region code, a
// birth date YYYYMMDD, a sequence — and a check character computed with
// ISO 7064 MOD 11-2 ('X' stands for 10). A lower-case 'x' is accepted.
func ValidIDNumber(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	if s[0] == '0' {
		return false
	}
	if _, err := time.Parse("20060102", s[6:14]); err != nil {
		return false
	}
	return strings.ToUpper(s[17:]) == string(idCheckChar(s[:17]))
}

// idCheckChar computes the ISO 7064 MOD 11-2 check character of 17 digits.
func idCheckChar(d string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(d[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

// MaskIDNumber shows the first three and last four characters of an ID
// number, e.g. 110***********1234; anything else is masked entirely.
func MaskIDNumber(s string) string {
	if len(s) != 18 {
		return strings.Repeat("*", len(s))
	}
	tail := s[14:]
	if tail[3] == 'x' {
		tail = tail[:3] + "X"
	}
	return s[:3] + strings.Repeat("*", 11) + tail
}
