package httpapi

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

//go:embed openapi/*.yaml
var openapiFS embed.FS

var (
	openapiOnce sync.Once
	openapiJSON []byte
	openapiErr  error
)

// OpenAPI returns the API document: openapi/base.yaml with the paths and
// schemas of every other fragment merged in, validated by kin-openapi.
func OpenAPI() ([]byte, error) {
	openapiOnce.Do(func() { openapiJSON, openapiErr = buildOpenAPI() })
	return openapiJSON, openapiErr
}

func buildOpenAPI() ([]byte, error) {
	var doc map[string]any
	b, err := openapiFS.ReadFile("openapi/base.yaml")
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("openapi/base.yaml: %w", err)
	}
	paths := doc["paths"].(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	names, _ := fs.Glob(openapiFS, "openapi/*.yaml")
	sort.Strings(names)
	for _, n := range names {
		if n == "openapi/base.yaml" {
			continue
		}
		b, err := openapiFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var frag struct {
			Paths      map[string]any `yaml:"paths"`
			Components struct {
				Schemas map[string]any `yaml:"schemas"`
			} `yaml:"components"`
		}
		if err := yaml.Unmarshal(b, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		for p, v := range frag.Paths {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("%s: path %s is already documented in another fragment", n, p)
			}
			paths[p] = v
		}
		for k, v := range frag.Components.Schemas {
			if _, dup := schemas[k]; dup {
				return nil, fmt.Errorf("%s: schema %s is already defined in another fragment", n, k)
			}
			schemas[k] = v
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	t, err := loader.LoadFromData(out)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if err := t.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return out, nil
}

func (s *Server) openapiDoc(w http.ResponseWriter, r *http.Request) {
	b, err := OpenAPI()
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
