// Package i18n holds the messages Vigil shows people, in zh-CN and English,
// and picks a language from a request. Messages are templates with {name}
// parameters; the catalogs live in locales/*.json.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

//go:embed locales/*.json
var files embed.FS

// Languages Vigil speaks; the first is the default.
var Languages = []string{"zh-CN", "en"}

var catalogs = map[string]map[string]string{}

func init() {
	for _, lang := range Languages {
		b, err := files.ReadFile("locales/" + lang + ".json")
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("locales/%s.json: %v", lang, err))
		}
		catalogs[lang] = m
	}
}

// Has reports whether lang's catalog holds key.
func Has(lang, key string) bool { _, ok := catalogs[lang][key]; return ok }

// Keys returns the keys of lang's catalog.
func Keys(lang string) []string {
	var out []string
	for k := range catalogs[lang] {
		out = append(out, k)
	}
	return out
}

// T renders the message key in lang with params. A key missing from lang
// falls back to English, then to the key itself.
func T(lang, key string, params map[string]any) string {
	tmpl, ok := catalogs[lang][key]
	if !ok {
		if tmpl, ok = catalogs["en"][key]; !ok {
			tmpl = key
		}
	}
	if len(params) == 0 || !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			break
		}
		b.WriteString(tmpl[:i])
		name := tmpl[i+1 : i+j]
		if v, ok := params[name]; ok {
			fmt.Fprint(&b, v)
		} else {
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
	return b.String()
}

// FromRequest picks the language: the `lang` cookie, else Accept-Language
// (zh* → zh-CN), else zh-CN.
func FromRequest(r *http.Request) string {
	if c, err := r.Cookie("lang"); err == nil {
		for _, l := range Languages {
			if strings.EqualFold(c.Value, l) {
				return l
			}
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh-CN"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return Languages[0]
}
