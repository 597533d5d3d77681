package i18n

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	zh, en := map[string]bool{}, map[string]bool{}
	for _, k := range Keys("zh-CN") {
		zh[k] = true
	}
	for _, k := range Keys("en") {
		en[k] = true
		if !zh[k] {
			t.Errorf("key %s is in en.json but not zh-CN.json", k)
		}
	}
	for k := range zh {
		if !en[k] {
			t.Errorf("key %s is in zh-CN.json but not en.json", k)
		}
	}
}

// Every message code the Go code raises has a message in both languages.
var codeRe = regexp.MustCompile(`problem\.(?:BadRequest|Invalid|Unauthorized|Forbidden|NotFound|Conflict|Unprocessable|TooMany)\(\s*"([a-z0-9_.]+)"|Code:\s*"([a-z0-9_.]+)"`)

func TestEveryRaisedCodeIsTranslated(t *testing.T) {
	root := filepath.Join("..", "..")
	found := map[string]string{}
	for _, dir := range []string{"internal", "cmd"} {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range codeRe.FindAllStringSubmatch(string(b), -1) {
				code := m[1] + m[2]
				found[code] = p
			}
			return nil
		})
	}
	if len(found) < 5 {
		t.Fatalf("found only %d codes: the scan is broken", len(found))
	}
	var missing []string
	for code, file := range found {
		for _, lang := range Languages {
			if !Has(lang, code) {
				missing = append(missing, lang+": "+code+" ("+file+")")
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("codes without a message:\n  %s", strings.Join(missing, "\n  "))
	}
}

func TestTemplates(t *testing.T) {
	got := T("en", "request.too_large", map[string]any{"limit": 1024})
	if !strings.Contains(got, "1024") || strings.Contains(got, "{limit}") {
		t.Fatalf("template not filled: %q", got)
	}
	if T("zh-CN", "no.such.key", nil) != "no.such.key" {
		t.Fatal("a missing key should fall back to itself")
	}
}
