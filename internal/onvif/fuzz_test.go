package onvif

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seeds adds every fixture and a few broken documents to f.
func seeds(f *testing.F, match string) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, p := range files {
		if match != "" && !strings.Contains(p, match) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(``))
	f.Add([]byte(`<Envelope><Body></Body></Envelope>`))
	f.Add([]byte(`<Envelope><Body><Fault><Code><Subcode><Subcode><Subcode/></Subcode></Subcode></Code></Fault></Body></Envelope>`))
	f.Add([]byte(`<a:Envelope xmlns:a="x"><a:Body><GetPresetsResponse><Preset token="1"><PTZPosition><PanTilt x="NaN" y="1e999"/></PTZPosition></Preset></GetPresetsResponse></a:Body>`))
}

// FuzzParseResponse: SOAP responses as devices send them never panic the
// parsers; a parse that succeeds yields tokens.
func FuzzParseResponse(f *testing.F) {
	seeds(f, "")
	f.Fuzz(func(t *testing.T, data []byte) {
		if ps, err := ParseProfiles(data, 200); err == nil {
			for _, p := range ps {
				if p.Token == "" {
					t.Fatal("a profile without a token was accepted")
				}
			}
		}
		if u, err := ParseStreamURI(data, 200); err == nil && u.URI == "" {
			t.Fatal("an empty stream URI was accepted")
		}
		if ps, err := ParsePresets(data, 200); err == nil {
			for _, p := range ps {
				if p.Token == "" {
					t.Fatal("a preset without a token was accepted")
				}
			}
		}
		ParseResponse(data, 400, nil)
	})
}

// FuzzParseProbeMatches: WS-Discovery datagrams from anyone on the segment.
func FuzzParseProbeMatches(f *testing.F) {
	seeds(f, "probematches")
	f.Add(ProbeMessage("urn:uuid:1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, devs, err := ParseProbeMatches(data)
		if err != nil {
			return
		}
		for _, d := range devs {
			if len(d.XAddrs) == 0 {
				t.Fatal("a device without an address was returned")
			}
		}
	})
}

// FuzzParseSimRequest: the simulated device's request parser and probe
// parser take whatever arrives.
func FuzzParseSimRequest(f *testing.F) {
	f.Add(envelope(`<wsse:Security><wsse:UsernameToken><wsse:Username>a</wsse:Username><wsse:Password>x</wsse:Password><wsse:Nonce>AAAA</wsse:Nonce><wsse:Created>2026-01-01T00:00:00Z</wsse:Created></wsse:UsernameToken></wsse:Security>`,
		ptzBody("ContinuousMove", "Profile_1", `<tptz:Velocity><tt:PanTilt x="0.5" y="-1"/><tt:Zoom x="0"/></tptz:Velocity><tptz:Timeout>PT1S</tptz:Timeout>`)))
	f.Add(ProbeMessage("urn:uuid:2"))
	f.Add([]byte(`<Envelope><Body>text only</Body></Envelope>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseSimRequest(data)
		parseProbe(data)
	})
}

// FuzzParseDuration: xs:duration timeouts from requests.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT1S", "PT0.5S", "PT1M30S", "PT1H", "P1D", "PT", "PTS", "PT-1S", "PT1e9S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseDuration(s); err == nil && d < 0 {
			t.Fatalf("negative duration %v from %q", d, s)
		}
	})
}
