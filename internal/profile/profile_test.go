package profile

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite profiles/national-baseline.yaml and docs/profiles.md")

// seedProfiles are the five profiles written from the seeds, in seed order.
var seedProfiles = []string{"tianjin-2025", "municipal-2010", "guangdong", "shanghai-putuo-2024", "wuhan-2023"}

func mustLoad(t *testing.T, name string) *Profile {
	t.Helper()
	p, err := Load(name)
	if err != nil {
		t.Fatalf("Load(%q): %v", name, err)
	}
	return p
}

func loadSeeds(t *testing.T) []*Profile {
	t.Helper()
	var ps []*Profile
	for _, n := range seedProfiles {
		ps = append(ps, mustLoad(t, n))
	}
	return ps
}

func TestNamesAndDefault(t *testing.T) {
	names := Names()
	want := []string{"national-baseline", "guangdong", "municipal-2010", "shanghai-putuo-2024", "tianjin-2025", "wuhan-2023"}
	if !slices.Equal(names, want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	if Default() != "national-baseline" {
		t.Fatalf("Default() = %q", Default())
	}
	for _, n := range names {
		p := mustLoad(t, n)
		if p.Name != n {
			t.Errorf("profile %s: Name = %q", n, p.Name)
		}
	}
	_, err := Load("shanghai")
	if err == nil || !strings.Contains(err.Error(), "wuhan-2023") || !strings.Contains(err.Error(), `"shanghai"`) {
		t.Fatalf("Load(unknown) error = %v; want it to name the bad name and list the valid ones", err)
	}
}

// TestSeedValues checks each profile's numbers against what its seed says, as
// read from the regulation (RET-1, RET-2, AUD-1, REG-3, ACC-4..7).
func TestSeedValues(t *testing.T) {
	type check struct {
		profile string
		what    string
		got     func(p *Profile) (any, []string)
		want    any
		cite    string // a cite the value must carry; "silent" = must be marked silent
	}
	minRet := func(cat string, at, sku bool) func(p *Profile) (any, []string) {
		return func(p *Profile) (any, []string) { d, c := p.MinRetentionDays(cat, at, sku); return d, c }
	}
	intOf := func(f func(p *Profile) (int, []string)) func(p *Profile) (any, []string) {
		return func(p *Profile) (any, []string) { v, c := f(p); return v, c }
	}
	boolOf := func(f func(p *Profile) (bool, []string)) func(p *Profile) (any, []string) {
		return func(p *Profile) (any, []string) { v, c := f(p); return v, c }
	}
	copyOf := func(kind string) func(p *Profile) (any, []string) {
		return func(p *Profile) (any, []string) { v, c := p.RetrievalApproval(kind); return v, c }
	}
	viewOf := func(kind string) func(p *Profile) (any, []string) {
		return func(p *Profile) (any, []string) { v, c := p.ViewApproval(kind); return v, c }
	}
	place := func(code string) func(p *Profile) (any, []string) {
		return func(p *Profile) (any, []string) { v, c := p.IsProhibitedPlace(code); return v, c }
	}
	site := func(code string) func(p *Profile) (any, []string) {
		return func(p *Profile) (any, []string) { v, c := p.IsMandatedSite(code); return v, c }
	}
	removal := func(p *Profile) (any, []string) {
		d, req, timing, c := p.RemovalFilingDeadlineDays()
		if !req {
			return "not required", c
		}
		return strconv.Itoa(d) + " " + timing, c
	}
	citizens := func(p *Profile) (any, []string) { c := p.CitizensAccess().Allowed; return c.Value, c.Cite }
	emergency := func(p *Profile) (any, []string) { e := p.EmergencyAccess().Allowed; return e.Value, e.Cite }

	checks := []check{
		// 000 Tianjin 2025 draft
		{"tianjin-2025", "min retention", minRet("schools", false, false), 30, "000 §29"},
		{"tianjin-2025", "anti-terror retention", minRet("schools", true, false), 90, "000 §29"},
		{"tianjin-2025", "security key unit retention", minRet("", false, true), 30, "000 §29"},
		{"tianjin-2025", "filing deadline", intOf((*Profile).FilingDeadlineDays), 30, "000 §25"},
		{"tianjin-2025", "filing trigger", func(p *Profile) (any, []string) { return p.FilingTrigger() }, "in_use", "000 §25"},
		{"tianjin-2025", "citizens may view", citizens, true, "000 §32"},
		{"tianjin-2025", "citizen view approval", viewOf("citizen"), "managing_unit", "000 §32"},
		{"tianjin-2025", "citizen copy", copyOf("citizen"), "forbidden", "000 §32"},
		{"tianjin-2025", "hold (silent)", intOf((*Profile).ImportantFootageHoldDays), 731, "silent"},
		{"tianjin-2025", "audit log (silent)", intOf((*Profile).AuditLogRetentionDays), 180, "silent"},
		{"tianjin-2025", "school mandated", site("schools"), true, "000 §11(1)"},
		{"tianjin-2025", "toilet prohibited (silent)", place("toilet"), true, "silent"},
		// 001 municipal 2010
		{"municipal-2010", "min retention", minRet("", false, false), 30, "001 ch.3 ¶1(7)"},
		{"municipal-2010", "anti-terror (silent)", minRet("", true, false), 90, "silent"},
		{"municipal-2010", "filing deadline", intOf((*Profile).FilingDeadlineDays), 30, "001 ch.2 ¶20"},
		{"municipal-2010", "removal filing", removal, "30 after", "001 ch.2 ¶21"},
		{"municipal-2010", "police approval", copyOf("police"), "police_head", "001 ch.3 ¶5"},
		{"municipal-2010", "admin departments", copyOf("admin_department"), "police_coordination", "001 ch.3 ¶6"},
		{"municipal-2010", "emergency", copyOf("emergency"), "none", "001 ch.3 ¶7"},
		{"municipal-2010", "two persons", boolOf((*Profile).TwoPersonRetrieval), true, "001 ch.3 ¶8(1)"},
		{"municipal-2010", "fitting room", place("fitting_room"), true, "001 ch.2 ¶10"},
		{"municipal-2010", "signage", boolOf((*Profile).SignageRequired), true, "001 ch.2 ¶23"},
		// 002 Guangdong amendment draft
		{"guangdong", "hold two years", intOf((*Profile).ImportantFootageHoldDays), 731, "002 §17(5) (old §18)"},
		{"guangdong", "removal filing deleted", removal, "not required", "002 old §15 (deleted)"},
		{"guangdong", "police view", viewOf("police"), "none", "002 §21 ¶1 (old §22)"},
		{"guangdong", "police copy", copyOf("police"), "police_head", "002 §21 ¶1 (old §22)"},
		{"guangdong", "state security copy", copyOf("state_security"), "state_security_head", "002 §21 ¶1 (old §22)"},
		{"guangdong", "admin departments", copyOf("admin_department"), "police", "002 §21 ¶2 (old §22)"},
		{"guangdong", "emergency", emergency, true, "002 §21 ¶3 (old §22)"},
		{"guangdong", "two persons", boolOf((*Profile).TwoPersonRetrieval), true, "002 §22(1) (old §23)"},
		{"guangdong", "signage", boolOf((*Profile).SignageRequired), true, "002 §15 (old §16)"},
		{"guangdong", "dormitory", place("dormitory"), true, "002 §7"},
		{"guangdong", "min retention (silent)", minRet("", false, false), 30, "silent"},
		// 003 Shanghai Putuo 2024
		{"shanghai-putuo-2024", "audit log", intOf((*Profile).AuditLogRetentionDays), 180, "003 §28"},
		{"shanghai-putuo-2024", "sharing grant max", intOf((*Profile).SharingGrantMaxDays), 365, "003 §20 ¶2"},
		{"shanghai-putuo-2024", "sharing approval", viewOf("admin_department"), "managing_unit", "003 §20 ¶1"},
		{"shanghai-putuo-2024", "history retrieval", copyOf("admin_department"), "managing_unit", "003 §23"},
		{"shanghai-putuo-2024", "no personal use", citizens, false, "003 §32"},
		{"shanghai-putuo-2024", "min retention (silent)", minRet("", false, false), 30, "silent"},
		// 004 Wuhan order 314
		{"wuhan-2023", "anti-terror retention", minRet("", true, false), 90, "004 §16(5)"},
		{"wuhan-2023", "hold two years", intOf((*Profile).ImportantFootageHoldDays), 731, "004 §16(5)"},
		{"wuhan-2023", "filing deadline", intOf((*Profile).FilingDeadlineDays), 30, "004 §9"},
		{"wuhan-2023", "removal filing before", removal, "30 before", "004 §10 ¶2"},
		{"wuhan-2023", "police need own unit's document", copyOf("police"), "own_unit", "004 §15(3)"},
		{"wuhan-2023", "two persons", boolOf((*Profile).TwoPersonRetrieval), true, "004 §15(1)"},
		{"wuhan-2023", "make-up room", place("makeup_room"), true, "004 §18(3)"},
		{"wuhan-2023", "voting point", place("voting_point"), true, "004 §18(5)"},
		{"wuhan-2023", "bank customer area", place("financial_customer_info_area"), true, "004 §18(4)"},
		{"wuhan-2023", "crime hotspots mandated", site("crime_hotspots"), true, "004 §6(11)"},
		{"wuhan-2023", "fitting room (silent)", place("fitting_room"), true, "silent"},
	}
	for _, c := range checks {
		t.Run(c.profile+"/"+c.what, func(t *testing.T) {
			got, cite := c.got(mustLoad(t, c.profile))
			if got != c.want {
				t.Errorf("value = %v, want %v", got, c.want)
			}
			if c.cite == "silent" {
				if !isSilent(cite) {
					t.Errorf("cite = %q, want it marked silent", cite)
				}
			} else if !slices.Contains(cite, c.cite) {
				t.Errorf("cite = %q, want it to include %q", cite, c.cite)
			}
		})
	}
}

// TestSeedProfilesCiteOwnSeed: every non-silent cite of a seed profile points
// into that seed, and every silent value equals the baseline's.
func TestSeedProfilesCiteOwnSeed(t *testing.T) {
	base := rulesByPath(mustLoad(t, "national-baseline"))
	citeRE := regexp.MustCompile(`^\d{3} (§\d+|ch\.\d|old §\d+)`)
	for _, p := range loadSeeds(t) {
		for _, r := range p.rules() {
			for _, c := range r.cite {
				if strings.HasPrefix(c, SilentPrefix) {
					continue
				}
				if !strings.HasPrefix(c, p.Seed+" ") || !citeRE.MatchString(c) {
					t.Errorf("%s %s: cite %q does not name an article of seed %s", p.Name, r.path, c, p.Seed)
				}
			}
			if isSilent(r.cite) && r.path != "scope" {
				b, ok := base[r.path]
				if !ok {
					t.Errorf("%s %s: silent value %q has no national-baseline value", p.Name, r.path, r.value)
				} else if b.value != r.value {
					t.Errorf("%s %s: silent value %q differs from national-baseline %q", p.Name, r.path, r.value, b.value)
				}
			}
		}
	}
}

func rulesByPath(p *Profile) map[string]rule {
	m := map[string]rule{}
	for _, r := range p.rules() {
		m[r.path] = r
	}
	return m
}

// TestStrictestReproducesBaseline: national-baseline is exactly Strictest of the five.
func TestStrictestReproducesBaseline(t *testing.T) {
	got := Strictest(loadSeeds(t)...)
	path := filepath.Join("profiles", "national-baseline.yaml")
	if *update {
		data, err := got.YAML()
		if err != nil {
			t.Fatal(err)
		}
		header := "# Jurisdiction profile national-baseline: generated by profile.Strictest from the five seed profiles.\n" +
			"# Do not edit; regenerate with: go test ./internal/profile -run TestStrictestReproducesBaseline -update\n"
		if err := os.WriteFile(path, append([]byte(header), data...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse(data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if !reflect.DeepEqual(got, want) {
		g, w := rulesByPath(got), rulesByPath(want)
		for k, gr := range g {
			if wr, ok := w[k]; !ok || gr.value != wr.value || !slices.Equal(gr.cite, wr.cite) {
				t.Errorf("%s: Strictest = %s %q, national-baseline.yaml = %s %q", k, gr.value, gr.cite, wr.value, wr.cite)
			}
		}
		t.Fatalf("Strictest() differs from %s (run with -update to regenerate)", path)
	}
	// Spot checks of the rule itself, independent of the file.
	checks := []struct {
		what string
		got  any
		want any
	}{
		{"anti-terror", got.Retention.AntiTerrorMinDays.Value, 90},
		{"hold", got.Retention.ImportantHoldDays.Value, 731},
		{"audit log", got.Audit.LogRetentionDays.Value, 180},
		{"sharing max", got.Sharing.GrantMaxDays.Value, 365},
		{"two person", got.Retrieval.TwoPerson.Value, true},
		{"removal filed before", got.Filing.RemovalTiming.Value, "before"},
		{"filing from acceptance", got.Filing.Trigger.Value, "acceptance"},
		{"police copy", got.Retrieval.Approval["police"].Copy.Value, "police_head"},
		{"admin copy", got.Retrieval.Approval["admin_department"].Copy.Value, "police"},
		{"emergency copy", got.Retrieval.Approval["emergency"].Copy.Value, "own_unit"},
		{"citizens", got.Citizens.Allowed.Value, false},
		{"protected zone", got.Sites.ProtectedZone.Value, "consent"},
		{"places", len(got.ProhibitedPlaces()), len(placeTypes)},
		{"anti-terror cites", strings.Join(got.Retention.AntiTerrorMinDays.Cite, ","), "000 §29,004 §16(5)"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("Strictest %s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	for _, n := range Names() {
		p := mustLoad(t, n)
		data, err := p.YAML()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: re-parse: %v", n, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Errorf("%s: YAML round trip changed the profile", n)
		}
	}
}

func TestLabels(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	sets := map[string][]Label{"place types": PlaceTypes(), "site categories": SiteCategories(),
		"requester kinds": RequesterKinds(), "approvals": Approvals(), "citizen relations": CitizenRelations()}
	for name, set := range sets {
		seen := map[string]bool{}
		for _, l := range set {
			if !snake.MatchString(l.Code) || strings.TrimSpace(l.ZH) == "" || strings.TrimSpace(l.EN) == "" {
				t.Errorf("%s: %+v needs a snake_case code and both labels", name, l)
			}
			if seen[l.Code] {
				t.Errorf("%s: code %q twice", name, l.Code)
			}
			seen[l.Code] = true
		}
	}
	// Place types and site categories share LabelOf's name space.
	for _, l := range PlaceTypes() {
		if _, clash := find(SiteCategories(), l.Code); clash {
			t.Errorf("code %q is both a place type and a site category", l.Code)
		}
	}
	for _, a := range Approvals() {
		if _, ok := approvalRank[a.Code]; !ok {
			t.Errorf("approval %q has no rank", a.Code)
		}
	}
	// Every place and category used by a profile is in the catalogue (so it has labels).
	for _, n := range Names() {
		p := mustLoad(t, n)
		for _, c := range append(p.ProhibitedPlaces(), p.MandatedSiteCategories()...) {
			if _, ok := LabelOf(c); !ok {
				t.Errorf("%s uses %q, which has no labels", n, c)
			}
		}
	}
}

func TestMinRetentionDaysRules(t *testing.T) { // RET-1
	p := mustLoad(t, "tianjin-2025")
	p.Retention.ByCategory = map[string]Cited[int]{"finance": {Value: 60, Cite: []string{"test §1"}}}
	cases := []struct {
		cat     string
		at, sku bool
		want    int
		cite    string
	}{
		{"schools", false, false, 30, "000 §29"},
		{"finance", false, false, 60, "test §1"},
		{"finance", true, false, 90, "000 §29"},
		{"", false, true, 30, "000 §29"},
	}
	for _, c := range cases {
		d, cite := p.MinRetentionDays(c.cat, c.at, c.sku)
		if d != c.want || !slices.Contains(cite, c.cite) {
			t.Errorf("MinRetentionDays(%q, %v, %v) = %d %q, want %d citing %q", c.cat, c.at, c.sku, d, cite, c.want, c.cite)
		}
	}
	if ok, _ := p.IsProhibitedPlace("kitchen"); ok {
		t.Error("unknown place type reported prohibited")
	}
	if a, _ := p.RetrievalApproval("alien"); a != "forbidden" {
		t.Errorf("unknown requester kind: approval %q, want forbidden", a)
	}
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "mine.yaml")
	data, err := mustLoad(t, "wuhan-2023").YAML()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(good, bytes.Replace(data, []byte("name: wuhan-2023"), []byte("name: my-district"), 1), 0o644)
	badFile := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badFile, bytes.Replace(data, []byte("retention:"), []byte("retention:\n  max_days: {value: 1, cite: [x]}"), 1), 0o644)

	cases := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"list"}, 0, "national-baseline", ""},
		{[]string{"list"}, 0, "(default)", ""},
		{[]string{"show", "tianjin-2025"}, 0, "000 §29", ""},
		{[]string{"show", "shanghai-putuo-2024"}, 0, "003 §28", ""},
		{[]string{"show", "--yaml", "guangdong"}, 0, "name: guangdong", ""},
		{[]string{"show", "--file", good}, 0, "my-district", ""},
		{[]string{"show", "--file", badFile}, 1, "", "max_days"},
		{[]string{"show", "nowhere"}, 1, "", "valid names are national-baseline"},
		{[]string{"show"}, 2, "", "show needs a profile NAME"},
		{[]string{"show", "--file"}, 2, "", "--file needs a path"},
		{[]string{"show", "a", "b"}, 2, "", "one profile name"},
		{[]string{"frobnicate"}, 2, "", `unknown subcommand "frobnicate"`},
		{nil, 2, "", "missing subcommand"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := Command(c.args, &out, &errb)
		if code != c.code || !strings.Contains(out.String(), c.out) || !strings.Contains(errb.String(), c.err) {
			t.Errorf("Command(%q) = %d, stdout %q…, stderr %q; want %d, stdout containing %q, stderr containing %q",
				c.args, code, head(out.String()), errb.String(), c.code, c.out, c.err)
		}
	}
}

// TestDocsUpToDate: docs/profiles.md is what WriteMarkdown writes.
func TestDocsUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "profiles.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("%s is out of date: go test ./internal/profile -run TestDocsUpToDate -update", path)
	}
	for _, want := range []string{"000 §29", "003 §28", "004 §16(5)", "002 §17(5) (old §18)", "001 ch.3 ¶5"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("docs lack citation %q", want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range Names() {
		data, err := embedded.ReadFile("profiles/" + n + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: x\nretention: {min_days: {value: -1}}"))
	f.Add([]byte("{"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err == nil {
			if verr := p.Validate(); verr != nil {
				t.Fatalf("Parse accepted a profile Validate rejects: %v", verr)
			}
			var b bytes.Buffer
			if werr := p.WriteText(&b); werr != nil {
				t.Fatal(werr)
			}
		}
	})
}

func head(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}
