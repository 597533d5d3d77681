package registry

import (
	"fmt"
	"strings"
)

// Code is a parsed GB/T 28181 20-digit device/channel code (编码):
//
//	digits  1–8   centre code: 6-digit administrative division (GB/T 2260)
//	              and 2-digit grass-roots unit
//	digits  9–10  industry code (行业编码)
//	digits 11–13  type code (类型编码): 111–130 front-end main devices,
//	              131–199 front-end peripherals (131 camera, 132 network
//	              camera), 200–299 platform, 300–399 centre terminals,
//	              400–499 extended
//	digit  14     network identifier (网络标识) 0–9
//	digits 15–20  serial number
type Code struct {
	Division   string `json:"division"`
	GrassRoots string `json:"grass_roots"`
	Industry   string `json:"industry"`
	Type       int    `json:"type"`
	Network    int    `json:"network"`
	Serial     string `json:"serial"`
}

// CameraTypeCodes are the type codes a camera file may carry: 131 camera
// (摄像机) and 132 network camera (网络摄像机, IPC).
var CameraTypeCodes = map[int]string{131: "camera", 132: "network camera (IPC)"}

var provinces = map[string]bool{}

func init() {
	for _, p := range strings.Fields("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82") {
		provinces[p] = true
	}
}

// CodeError says which part of a code is wrong.
type CodeError struct {
	Code   string
	Part   string // "length", "digits", "division", "type"
	Detail string
}

func (e *CodeError) Error() string {
	return fmt.Sprintf("GB/T 28181 code %q: %s: %s", e.Code, e.Part, e.Detail)
}

// ParseCode validates s as a GB/T 28181 code of a camera point and splits it.
func ParseCode(s string) (Code, error) {
	if len(s) != 20 {
		return Code{}, &CodeError{s, "length", fmt.Sprintf("has %d characters, needs 20 digits", len(s))}
	}
	for i := 0; i < 20; i++ {
		if s[i] < '0' || s[i] > '9' {
			return Code{}, &CodeError{s, "digits", fmt.Sprintf("character %d is not a digit", i+1)}
		}
	}
	c := Code{Division: s[0:6], GrassRoots: s[6:8], Industry: s[8:10], Serial: s[14:20]}
	fmt.Sscanf(s[10:13], "%d", &c.Type)
	c.Network = int(s[13] - '0')
	if !ValidDivision(c.Division) {
		return c, &CodeError{s, "division", fmt.Sprintf("%s is not a plausible administrative division code (province %s unknown, or a zero province)", c.Division, c.Division[:2])}
	}
	if c.Type < 111 || c.Type > 499 {
		return c, &CodeError{s, "type", fmt.Sprintf("type code %03d is outside 111–499", c.Type)}
	}
	if _, ok := CameraTypeCodes[c.Type]; !ok {
		return c, &CodeError{s, "type", fmt.Sprintf("type code %03d is not a camera (131 camera, 132 network camera)", c.Type)}
	}
	return c, nil
}

// ValidDivision reports whether d is a plausible 6-digit administrative
// division code: a known province, and a prefecture part that is not
// followed by a county part under a zero prefecture (e.g. "110001").
func ValidDivision(d string) bool {
	if len(d) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	if !provinces[d[:2]] {
		return false
	}
	if d[2:4] == "00" && d[4:6] != "00" {
		return false
	}
	return true
}
