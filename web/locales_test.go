package web

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func readCatalog(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("src", "locales", lang+".json"))
	if err != nil {
		t.Fatalf("read %s catalog: %v", lang, err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("parse %s catalog: %v", lang, err)
	}
	return m
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

func placeholders(s string) string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// The console speaks zh-CN and English: both catalogs hold the same keys,
// no message is empty, and a message takes the same {parameters} in both.
func TestLocalesMatch(t *testing.T) {
	zh, en := readCatalog(t, "zh-CN"), readCatalog(t, "en")
	for k, v := range zh {
		ev, ok := en[k]
		switch {
		case !ok:
			t.Errorf("key %q is in zh-CN.json but not in en.json", k)
		case v == "" || ev == "":
			t.Errorf("key %q has an empty message", k)
		case placeholders(v) != placeholders(ev):
			t.Errorf("key %q: zh-CN takes {%s}, en takes {%s}", k, placeholders(v), placeholders(ev))
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("key %q is in en.json but not in zh-CN.json", k)
		}
	}
}

// Components take their words from the catalogs: JSX text between tags
// holds no letters or Chinese characters, and every key the source names
// with t('…') exists. (Keys built at run time go through tk with a fallback.)
func TestNoLiteralUIStrings(t *testing.T) {
	zh := readCatalog(t, "zh-CN")
	// >text< where text is outside braces and has a letter or a CJK character.
	literal := regexp.MustCompile(`>\s*([^<>{}]*[A-Za-z\p{Han}][^<>{}]*?)\s*</`)
	key := regexp.MustCompile(`\bt\('([^']+)'`)
	n := 0
	err := filepath.WalkDir("src", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".tsx") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		src := string(b)
		for _, m := range literal.FindAllStringSubmatch(src, -1) {
			t.Errorf("%s: literal UI text %q; put it in src/locales/*.json", path, m[1])
		}
		for _, m := range key.FindAllStringSubmatch(src, -1) {
			if _, ok := zh[m[1]]; !ok {
				t.Errorf("%s: t(%q) has no message in zh-CN.json", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("found only %d .tsx files under src", n)
	}
}

// Names the console translates at run time (tk with a prefix) have a
// message for every value the console lists: actions of the audit log,
// permissions, unit kinds.
func TestListedNamesHaveLabels(t *testing.T) {
	zh, en := readCatalog(t, "zh-CN"), readCatalog(t, "en")
	quoted := regexp.MustCompile(`'([a-z_.]+)'`)
	tests := []struct {
		file, list, prefix string
		min                int
	}{
		{"src/pages/Audit.tsx", "knownActions", "action.", 20},
		{"src/types.ts", "permissions", "perm.", 12},
		{"src/types.ts", "unitKinds", "unitKind.", 5},
	}
	for _, tc := range tests {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		i := strings.Index(src, tc.list+" = [")
		if i < 0 {
			t.Fatalf("%s: no list %s", tc.file, tc.list)
		}
		j := strings.Index(src[i:], "]")
		names := quoted.FindAllStringSubmatch(src[i:i+j], -1)
		if len(names) < tc.min {
			t.Errorf("%s: %s lists %d names, want at least %d", tc.file, tc.list, len(names), tc.min)
		}
		for _, m := range names {
			k := tc.prefix + m[1]
			if zh[k] == "" || en[k] == "" {
				t.Errorf("%s: %s has no label in both catalogs", tc.file, k)
			}
		}
	}
}
