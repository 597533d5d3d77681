package profile

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// excerpt is the seed sentence behind one cited value (testdata/excerpts.yaml).
type excerpt struct {
	Profile string `yaml:"profile"`
	Field   string `yaml:"field"`
	Cite    string `yaml:"cite"`
	Quote   string `yaml:"quote"`
}

func loadExcerpts(t *testing.T) []excerpt {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "excerpts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ex []excerpt
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&ex); err != nil {
		t.Fatalf("parse excerpts: %v", err)
	}
	return ex
}

// seedsDir finds the shared seeds beside the repository (../shared/seeds from
// the repository root), as CI checks them out; "" when absent.
func seedsDir() string {
	dir := filepath.Join("..", "..", "..", "shared", "seeds")
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return dir
	}
	return ""
}

// TestCitationsHaveExcerpts: every article an embedded seed profile cites has
// the seed's sentence committed, that sentence carries the profile's number
// (Arabic or Chinese numerals), and, when the seeds are present, it is a
// verbatim substring of the seed.
func TestCitationsHaveExcerpts(t *testing.T) {
	ex := loadExcerpts(t)
	type key struct{ profile, field, cite string }
	byKey := map[key]excerpt{}
	for _, e := range ex {
		k := key{e.Profile, e.Field, e.Cite}
		if _, dup := byKey[k]; dup {
			t.Errorf("duplicate excerpt %v", k)
		}
		if strings.TrimSpace(e.Quote) == "" {
			t.Errorf("excerpt %v has no quote", k)
		}
		byKey[k] = e
	}
	used := map[key]bool{}
	for _, p := range loadSeeds(t) {
		for _, r := range p.rules() {
			for _, c := range r.cite {
				if strings.HasPrefix(c, SilentPrefix) {
					continue
				}
				k := key{p.Name, r.path, c}
				e, ok := byKey[k]
				if !ok {
					t.Errorf("%s %s cites %q but testdata/excerpts.yaml has no quote for it", p.Name, r.path, c)
					continue
				}
				used[k] = true
				if n, err := strconv.Atoi(r.value); err == nil && !isSilent(r.cite) {
					if !containsAny(e.Quote, numberForms(n)) {
						t.Errorf("%s %s = %d citing %q, but the quote %q says none of %q", p.Name, r.path, n, c, e.Quote, numberForms(n))
					}
				}
			}
		}
	}
	for k := range byKey {
		if !used[k] {
			t.Errorf("excerpt %v is not cited by its profile's field", k)
		}
	}

	dir := seedsDir()
	if dir == "" {
		t.Log("../shared/seeds not found: quotes checked against the profiles only")
		return
	}
	seeds := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds[filepath.Base(f)[:3]] = string(data)
	}
	if len(seeds) != 5 {
		t.Fatalf("%s has %d seed files, want 5", dir, len(seeds))
	}
	for _, e := range ex {
		text, ok := seeds[e.Cite[:3]]
		if !ok {
			t.Errorf("excerpt %s %s %q: no seed %s", e.Profile, e.Field, e.Cite, e.Cite[:3])
			continue
		}
		if !strings.Contains(text, e.Quote) {
			t.Errorf("excerpt %s %s %q: quote %q is not in seed %s", e.Profile, e.Field, e.Cite, e.Quote, e.Cite[:3])
		}
	}
}

func containsAny(s string, subs []string) bool {
	return slices.ContainsFunc(subs, func(x string) bool { return strings.Contains(s, x) })
}

// numberForms are the ways a seed writes a number of days: 30日, 30天,
// 三十日, 九十日, 一百八十天; one and two years as 一年, 两年.
func numberForms(days int) []string {
	var out []string
	for _, unit := range []string{"日", "天"} {
		out = append(out, strconv.Itoa(days)+unit, chineseNumeral(days)+unit)
	}
	switch days {
	case 365, 366:
		out = append(out, "一年", "1年")
	case 730, 731:
		out = append(out, "两年", "二年", "2年")
	}
	return out
}

// chineseNumeral writes 1…999 in Chinese numerals (三十, 九十, 一百八十).
func chineseNumeral(n int) string {
	digits := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	if n <= 0 || n > 999 {
		return strconv.Itoa(n)
	}
	var b strings.Builder
	h, t, u := n/100, n/10%10, n%10
	if h > 0 {
		b.WriteString(digits[h] + "百")
		if t == 0 && u > 0 {
			b.WriteString("零")
		}
	}
	if t > 0 {
		if !(h == 0 && t == 1) {
			b.WriteString(digits[t])
		}
		b.WriteString("十")
	}
	if u > 0 {
		b.WriteString(digits[u])
	}
	return b.String()
}

func TestChineseNumeral(t *testing.T) {
	for n, want := range map[int]string{30: "三十", 90: "九十", 180: "一百八十", 15: "十五", 105: "一百零五", 7: "七"} {
		if got := chineseNumeral(n); got != want {
			t.Errorf("chineseNumeral(%d) = %q, want %q", n, got, want)
		}
	}
}
