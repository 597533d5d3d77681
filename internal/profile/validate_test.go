package profile

import (
	"bytes"
	"strings"
	"testing"
)

// TestValidateRejects: bad profiles are refused with errors that name the field.
func TestValidateRejects(t *testing.T) {
	good, err := embedded.ReadFile("profiles/wuhan-2023.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(good); err != nil {
		t.Fatalf("the unmodified profile fails: %v", err)
	}
	edit := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("test setup: %q not in profile YAML", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	cases := []struct {
		name string
		yaml []byte
		want []string // all must appear in the error
	}{
		{"missing citation", edit(`anti_terror_min_days: {value: 90, cite: ["004 §16(5)"]}`, `anti_terror_min_days: {value: 90, cite: []}`),
			[]string{"retention.anti_terror_min_days", "citation"}},
		{"missing value", edit(`anti_terror_min_days: {value: 90, cite: ["004 §16(5)"]}`, ``),
			[]string{"retention.anti_terror_min_days"}},
		{"negative days", edit(`log_retention_days: {value: 180,`, `log_retention_days: {value: -5,`),
			[]string{"audit.log_retention_days", "-5"}},
		{"unknown key", edit("retention:\n", "retention:\n  maximum_days: {value: 1, cite: [x]}\n"),
			[]string{"maximum_days"}},
		{"anti-terror below default", edit(`anti_terror_min_days: {value: 90,`, `anti_terror_min_days: {value: 20,`),
			[]string{"retention.anti_terror_min_days: must be ≥ retention.min_days"}},
		{"unknown place type", edit("prohibited_places:\n", "prohibited_places:\n    kitchen: {value: true, cite: [x]}\n"),
			[]string{"privacy.prohibited_places.kitchen", "unknown place type"}},
		{"unknown approval", edit(`view: {value: "own_unit", cite: ["004 §15(3)"]}`, `view: {value: "mayor", cite: ["004 §15(3)"]}`),
			[]string{"retrieval.approval.police.view", `"mayor"`}},
		{"missing requester kind", edit("    emergency:\n", "    emergency_x:\n"),
			[]string{"retrieval.approval.emergency: missing", "retrieval.approval.emergency_x: unknown requester kind"}},
		{"bad enum", edit(`removal_timing: {value: "before",`, `removal_timing: {value: "whenever",`),
			[]string{"filing.removal_timing", "whenever"}},
		{"citizens inconsistent", edit(`allowed: {value: false,`, `allowed: {value: true,`),
			[]string{"citizens.allowed"}},
		{"bad name", edit("name: wuhan-2023", "name: Wuhan 2023"), []string{"name:"}},
		{"empty", nil, []string{"empty document"}},
		{"two documents", append(append([]byte{}, good...), []byte("---\nname: x\n")...), []string{"more than one"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.yaml)
			if err == nil {
				t.Fatal("Parse accepted a bad profile")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
