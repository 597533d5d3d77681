package profile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RET-1, RET-2, AUD-1: a deployment's own profile may be stricter, never
// looser, than the seeds' floors, and never takes a shipped profile's name.
// A file with min_days: 1 under the name national-baseline was once
// accepted, still citing the article that says 30 days.
func TestDeploymentProfileFloors_RET1(t *testing.T) {
	base, err := embedded.ReadFile("profiles/national-baseline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(data []byte) string {
		p := filepath.Join(t.TempDir(), "own.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	edit := func(data []byte, old, new string) []byte {
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("test setup: %q not in the profile", old)
		}
		return bytes.Replace(data, []byte(old), []byte(new), 1)
	}
	own := edit(base, "name: national-baseline", "name: acme-city")
	if _, err := LoadFile(write(own)); err != nil {
		t.Fatalf("a renamed copy of the baseline: %v", err)
	}
	stricter := edit(own, "log_retention_days: {value: 180,", "log_retention_days: {value: 365,")
	if p, err := LoadFile(write(stricter)); err != nil || p.Audit.LogRetentionDays.Value != 365 {
		t.Fatalf("a stricter profile: %v", err)
	}
	cases := []struct {
		name string
		yaml []byte
		want []string
	}{
		{"shipped name", edit(base, "min_days: {value: 30,", "min_days: {value: 1,"), []string{"name", "national-baseline", "shipped"}},
		{"shipped name, same values", base, []string{"national-baseline", "shipped"}},
		{"footage 1 day", edit(own, "  min_days: {value: 30,", "  min_days: {value: 1,"), []string{"retention.min_days", "30 days", "000 §29"}},
		{"anti-terror 60 days", edit(own, "anti_terror_min_days: {value: 90,", "anti_terror_min_days: {value: 60,"), []string{"retention.anti_terror_min_days", "90 days", "004 §16(5)"}},
		{"holds one year", edit(own, "important_hold_days: {value: 731,", "important_hold_days: {value: 365,"), []string{"retention.important_hold_days", "731", "002 §17(5)"}},
		{"logs 90 days", edit(own, "log_retention_days: {value: 180,", "log_retention_days: {value: 90,"), []string{"audit.log_retention_days", "180", "003 §28"}},
	}
	for _, c := range cases {
		_, err := LoadFile(write(c.yaml))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
}

// REG-3: every profile states whether a move is filed, against its own
// article: 004 §10 ¶2 (移动或者拆除前三十日内) files moves as removals; the
// Guangdong draft deleted removal filing for want of a higher-law basis.
func TestMoveFilingPerProfile_REG3(t *testing.T) {
	want := map[string]struct {
		move   bool
		cite   string
		timing string
	}{
		"wuhan-2023":   {true, "004 §10 ¶2", "before"},
		"tianjin-2025": {true, "000 §25 ¶2", "after"},
		"guangdong":    {false, "002 old §15 (deleted)", ""},
	}
	for name, w := range want {
		p, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		_, req, timing, cite := p.MoveFilingDeadlineDays()
		if req != w.move || !strings.Contains(strings.Join(cite, ","), w.cite) || (w.move && timing != w.timing) {
			t.Errorf("%s: move filed %v (%s) %v, want %v %s citing %s", name, req, timing, cite, w.move, w.timing, w.cite)
		}
	}
}
