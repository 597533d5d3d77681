// Command sbom writes CycloneDX 1.5 JSON software bills of materials
// (AUD-3): for a Go binary, from the module list the linker embedded in it
// (the same as `go version -m`); for the web console, from npm's
// package-lock.json, leaving out the packages only the build uses.
//
//	go run ./scripts/sbom go bin/vigil > bin/vigil.cdx.json
//	go run ./scripts/sbom npm web/package-lock.json > bin/console.cdx.json
package main

import (
	"crypto/rand"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// BOM is the part of a CycloneDX 1.5 document this tool writes.
type BOM struct {
	BOMFormat    string      `json:"bomFormat"`
	SpecVersion  string      `json:"specVersion"`
	SerialNumber string      `json:"serialNumber"`
	Version      int         `json:"version"`
	Metadata     Metadata    `json:"metadata"`
	Components   []Component `json:"components"`
}

type Metadata struct {
	Timestamp string    `json:"timestamp"`
	Tools     Tools     `json:"tools"`
	Component Component `json:"component"`
}

type Tools struct {
	Components []Component `json:"components"`
}

type Component struct {
	Type    string `json:"type"`
	BOMRef  string `json:"bom-ref,omitempty"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	PURL    string `json:"purl,omitempty"`
	Hashes  []Hash `json:"hashes,omitempty"`
	Scope   string `json:"scope,omitempty"`
	// Properties carry what CycloneDX has no field for: a Go module's
	// go.sum hash ("go:sum", the h1: tree hash the go command verifies).
	Properties []Property `json:"properties,omitempty"`
}

type Property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type Hash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "go" && os.Args[1] != "npm") {
		fmt.Fprintln(os.Stderr, "usage: sbom go BINARY | sbom npm package-lock.json")
		os.Exit(2)
	}
	var bom BOM
	var err error
	if os.Args[1] == "go" {
		bom, err = goBOM(os.Args[2])
	} else {
		bom, err = npmBOM(os.Args[2])
	}
	if err == nil {
		err = write(os.Stdout, bom)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbom:", err)
		os.Exit(1)
	}
}

func newBOM(main Component) BOM {
	return BOM{BOMFormat: "CycloneDX", SpecVersion: "1.5", SerialNumber: "urn:uuid:" + uuid(), Version: 1,
		Metadata: Metadata{Timestamp: time.Now().UTC().Format(time.RFC3339),
			Tools:     Tools{Components: []Component{{Type: "application", Name: "vigil-sbom"}}},
			Component: main},
		Components: []Component{}}
}

func write(w io.Writer, b BOM) error {
	sort.Slice(b.Components, func(i, j int) bool { return b.Components[i].BOMRef < b.Components[j].BOMRef })
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(b)
}

// goBOM lists the main module, the Go standard library and every module
// linked into the binary at path, with the go.sum hash of each.
func goBOM(path string) (BOM, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return BOM{}, fmt.Errorf("read the module list of %s: %w", path, err)
	}
	mainVer := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "-ldflags" && strings.Contains(s.Value, ".Version=") {
			v := s.Value[strings.Index(s.Value, ".Version=")+len(".Version="):]
			mainVer, _, _ = strings.Cut(v, " ")
		}
	}
	b := newBOM(Component{Type: "application", BOMRef: goPURL(bi.Main.Path, mainVer), Name: bi.Main.Path, Version: mainVer, PURL: goPURL(bi.Main.Path, mainVer)})
	b.Components = append(b.Components, Component{Type: "library", BOMRef: "pkg:golang/std@" + bi.GoVersion,
		Name: "std", Version: bi.GoVersion, PURL: "pkg:golang/std@" + bi.GoVersion})
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		c := Component{Type: "library", BOMRef: goPURL(d.Path, d.Version), Name: d.Path, Version: d.Version, PURL: goPURL(d.Path, d.Version)}
		if d.Sum != "" {
			c.Properties = []Property{{Name: "go:sum", Value: d.Sum}}
		}
		b.Components = append(b.Components, c)
	}
	return b, nil
}

func goPURL(path, version string) string {
	return "pkg:golang/" + path + "@" + url.PathEscape(version)
}

// lockfile is the part of package-lock.json (lockfileVersion 2 or 3) read.
type lockfile struct {
	Name            string `json:"name"`
	Version         string `json:"version"`
	LockfileVersion int    `json:"lockfileVersion"`
	Packages        map[string]struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Integrity string `json:"integrity"`
		Dev       bool   `json:"dev"`
		DevOpt    bool   `json:"devOptional"`
		Link      bool   `json:"link"`
	} `json:"packages"`
}

// npmBOM lists the installed packages of a package-lock.json that the
// console ships (not dev-only), with their integrity hashes.
func npmBOM(path string) (BOM, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return BOM{}, err
	}
	var lf lockfile
	if err := json.Unmarshal(raw, &lf); err != nil {
		return BOM{}, fmt.Errorf("%s: %w", path, err)
	}
	if lf.LockfileVersion < 2 || lf.Packages == nil {
		return BOM{}, fmt.Errorf("%s: lockfileVersion %d has no \"packages\"; regenerate it with npm 7 or later", path, lf.LockfileVersion)
	}
	b := newBOM(Component{Type: "application", BOMRef: npmPURL(lf.Name, lf.Version), Name: lf.Name, Version: lf.Version, PURL: npmPURL(lf.Name, lf.Version)})
	keys := make([]string, 0, len(lf.Packages))
	for key := range lf.Packages {
		keys = append(keys, key)
	}
	sort.Strings(keys)     // a reproducible document
	at := map[string]int{} // purl → index in b.Components
	for _, key := range keys {
		p := lf.Packages[key]
		if key == "" || p.Dev || p.DevOpt || p.Link {
			continue
		}
		name := p.Name
		if name == "" {
			i := strings.LastIndex(key, "node_modules/")
			name = key[i+len("node_modules/"):]
		}
		purl := npmPURL(name, p.Version)
		var hashes []Hash
		if alg, sum, ok := strings.Cut(p.Integrity, "-"); ok {
			if raw, err := base64.StdEncoding.DecodeString(sum); err == nil {
				if a := map[string]string{"sha512": "SHA-512", "sha384": "SHA-384", "sha256": "SHA-256", "sha1": "SHA-1"}[alg]; a != "" {
					hashes = []Hash{{Alg: a, Content: hex.EncodeToString(raw)}}
				}
			}
		}
		if i, ok := at[purl]; ok { // the same version installed at two places: one component, with a hash if any place has one
			if len(b.Components[i].Hashes) == 0 {
				b.Components[i].Hashes = hashes
			}
			continue
		}
		at[purl] = len(b.Components)
		b.Components = append(b.Components, Component{Type: "library", BOMRef: purl, Name: name, Version: p.Version, PURL: purl, Scope: "required", Hashes: hashes})
	}
	return b, nil
}

func npmPURL(name, version string) string {
	if strings.HasPrefix(name, "@") {
		name = "%40" + strings.TrimPrefix(name, "@")
	}
	return "pkg:npm/" + name + "@" + url.PathEscape(version)
}

func uuid() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
