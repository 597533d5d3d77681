package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The Go SBOM of a binary names the standard library of the Go that built
// it and the modules linked in, with their go.sum hashes (AUD-3).
func TestGoBOM_AUD3(t *testing.T) {
	exe, err := os.Executable() // this test binary: it links testing, not modules
	if err != nil {
		t.Fatal(err)
	}
	b, err := goBOM(exe)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := write(&buf, b); err != nil {
		t.Fatal(err)
	}
	var back BOM
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.BOMFormat != "CycloneDX" || back.SpecVersion != "1.5" {
		t.Fatalf("not a CycloneDX document: %v %+v", err, back)
	}
	if !strings.HasPrefix(back.SerialNumber, "urn:uuid:") || back.Metadata.Component.Name != "vigil" {
		t.Fatalf("metadata %+v", back.Metadata)
	}
	if c := back.Components[0]; c.PURL != "pkg:golang/std@"+runtime.Version() {
		t.Fatalf("first component %+v, want the standard library %s", c, runtime.Version())
	}
}

// The npm SBOM lists what the console ships, not the build tools, each
// version once, with its integrity hash in hex (AUD-3).
func TestNpmBOM_AUD3(t *testing.T) {
	lock := `{"name": "vigil-console", "version": "0.0.0", "lockfileVersion": 3, "packages": {
		"": {"name": "vigil-console"},
		"node_modules/react": {"version": "19.0.0", "integrity": "sha512-AAEC"},
		"node_modules/@ant-design/icons": {"version": "6.3.4"},
		"node_modules/a/node_modules/react": {"version": "19.0.0"},
		"node_modules/vite": {"version": "7.0.0", "dev": true},
		"node_modules/esbuild": {"version": "0.25.0", "devOptional": true}}}`
	p := filepath.Join(t.TempDir(), "package-lock.json")
	os.WriteFile(p, []byte(lock), 0o644)
	b, err := npmBOM(p)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	write(&buf, b)
	got := map[string]Component{}
	for _, c := range b.Components {
		got[c.PURL] = c
	}
	if len(got) != 2 || len(b.Components) != 2 {
		t.Fatalf("components %v, want react and @ant-design/icons only:\n%s", got, buf.String())
	}
	if c := got["pkg:npm/react@19.0.0"]; len(c.Hashes) != 1 || c.Hashes[0].Alg != "SHA-512" || c.Hashes[0].Content != "000102" {
		t.Fatalf("react %+v", c)
	}
	if _, ok := got["pkg:npm/%40ant-design/icons@6.3.4"]; !ok {
		t.Fatalf("scoped package purl: %v", got)
	}
}
