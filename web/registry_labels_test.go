package web

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"vigil/internal/profile"
	"vigil/internal/registry"
)

// tsList returns the quoted names of `export const name = [ … ]` in a
// TypeScript file.
func tsList(t *testing.T, file, name string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	i := strings.Index(src, "const "+name+" = [")
	if i < 0 {
		t.Fatalf("%s: no list %s", file, name)
	}
	j := strings.Index(src[i:], "]")
	var out []string
	for _, m := range regexp.MustCompile(`'([a-z0-9_.]+)'`).FindAllStringSubmatch(src[i:i+j], -1) {
		out = append(out, m[1])
	}
	return out
}

// The registry pages offer exactly the codes the server knows, each with a
// label in both catalogs: place types (REG-6) and site categories (REG-5)
// from the profile catalogue, and the enumerations of the registry.
func TestRegistryListsMatchServer(t *testing.T) {
	zh, en := readCatalog(t, "zh-CN"), readCatalog(t, "en")
	codes := func(ls []profile.Label) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.Code)
		}
		return out
	}
	tests := []struct {
		file, list, prefix string
		want               []string
	}{
		{"src/registry/labels.ts", "placeTypes", "placeType.", codes(profile.PlaceTypes())},
		{"src/registry/labels.ts", "siteCategories", "siteCategory.", codes(profile.SiteCategories())},
		{"src/registry/types.ts", "cameraTypes", "cameraType.", registry.CameraTypes},
		{"src/registry/types.ts", "recordingModes", "recordingMode.", registry.RecordingModes},
		{"src/registry/types.ts", "fundings", "funding.", registry.Fundings},
		{"src/registry/types.ts", "attachmentKinds", "attachmentKind.", registry.AttachmentKinds},
		{"src/registry/types.ts", "cameraStates", "cameraState.", nil},
		{"src/registry/types.ts", "zoneKinds", "zoneKind.", nil},
		{"src/registry/types.ts", "filingStates", "filingState.", nil},
		{"src/registry/types.ts", "filingKinds", "filingKind.", nil},
		{"src/registry/types.ts", "dueStatuses", "dueStatus.", nil},
	}
	for _, tc := range tests {
		got := tsList(t, tc.file, tc.list)
		if tc.want != nil && strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: %s = %v, the server has %v", tc.file, tc.list, got, tc.want)
		}
		if len(got) == 0 {
			t.Errorf("%s: %s is empty", tc.file, tc.list)
		}
		for _, c := range got {
			if zh[tc.prefix+c] == "" || en[tc.prefix+c] == "" {
				t.Errorf("%s%s has no label in both catalogs", tc.prefix, c)
			}
		}
	}
}
