// Package profile holds the jurisdiction profiles: the numbers and rules that
// differ between the regulations Vigil enforces (REQUIREMENTS.md), as data.
//
// A profile is a YAML document. Six are embedded, one per seed regulation plus
// national-baseline, the strictest of each value across the five, which is the
// default. A deployment may load its own with LoadFile.
//
// Invariants:
//   - Every rule value is a Cited[T]: the value and the article(s) it comes from
//     ("000 §29", "004 §16(5)", "001 ch.3"). A value the seed does not give is
//     marked by a cite beginning with "silent:" that says where the value comes
//     from instead (usually the national-baseline); such a value is Inherited and
//     Strictest ignores it, so the baseline is made only of what seeds say.
//   - A profile that Load, LoadFile or Parse returns has passed Validate: every
//     value is present and cited, every number is in range, every code is one of
//     the catalogue's (PlaceTypes, SiteCategories, RequesterKinds, Approvals).
//   - Seed 002 is an amendment draft; its cites use the amended article numbers
//     (the draft deletes old §15, so old §16–§31 become §15–§30).
//   - Profiles are read-only after loading; callers share them freely.
package profile

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// SilentPrefix begins a cite that says the seed is silent on a value and where
// the value comes from instead.
const SilentPrefix = "silent:"

// Cited is a rule value with the article(s) it comes from.
type Cited[T any] struct {
	Value T        `yaml:"value" json:"value"`
	Cite  []string `yaml:"cite" json:"cite"`
}

// Inherited reports whether the seed is silent on the value (a cite begins with
// "silent:"), so the value was taken from elsewhere.
func (c Cited[T]) Inherited() bool {
	for _, s := range c.Cite {
		if strings.HasPrefix(s, SilentPrefix) {
			return true
		}
	}
	return false
}

func (c Cited[T]) cites() []string { return c.Cite }
func (c Cited[T]) text() string    { return valueText(c.Value) }

// Profile is one jurisdiction's rules. See the package doc for its invariants
// and docs/profiles.md for every profile's values.
type Profile struct {
	Name    string `yaml:"name" json:"name"`         // e.g. "wuhan-2023"
	Title   string `yaml:"title" json:"title"`       // the regulation, in Chinese
	TitleEN string `yaml:"title_en" json:"title_en"` // the regulation, in English
	Seed    string `yaml:"seed" json:"seed"`         // seed file number "000"…"004"; empty for derived or deployment profiles

	Scope      Cited[string] `yaml:"scope" json:"scope"` // which systems the regulation governs
	Retention  Retention     `yaml:"retention" json:"retention"`
	Audit      Audit         `yaml:"audit" json:"audit"`
	Filing     Filing        `yaml:"filing" json:"filing"`
	Retrieval  Retrieval     `yaml:"retrieval" json:"retrieval"`
	Emergency  Emergency     `yaml:"emergency" json:"emergency"`
	Citizens   Citizens      `yaml:"citizens" json:"citizens"`
	Sharing    Sharing       `yaml:"sharing" json:"sharing"`
	Privacy    Privacy       `yaml:"privacy" json:"privacy"`
	Sites      Sites         `yaml:"sites" json:"sites"`
	Operations Operations    `yaml:"operations" json:"operations"`
}

// Retention holds the storage minimums (存储期限), RET-1 and RET-2.
type Retention struct {
	MinDays                Cited[int]            `yaml:"min_days" json:"min_days"`                                     // every camera
	AntiTerrorMinDays      Cited[int]            `yaml:"anti_terror_min_days" json:"anti_terror_min_days"`             // 防范恐怖袭击重点目标
	SecurityKeyUnitMinDays Cited[int]            `yaml:"security_key_unit_min_days" json:"security_key_unit_min_days"` // 治安保卫重点单位
	ByCategory             map[string]Cited[int] `yaml:"by_category" json:"by_category"`                               // site category code → minimum
	ImportantHoldDays      Cited[int]            `yaml:"important_hold_days" json:"important_hold_days"`               // 重要信息资料有效存储期
	OriginalQuality        Cited[bool]           `yaml:"original_quality" json:"original_quality"`                     // stored as collected, RET-3
}

// Audit holds the audit-log rules (日志审计), AUD-1.
type Audit struct {
	LogRetentionDays Cited[int] `yaml:"log_retention_days" json:"log_retention_days"`
}

// Filing holds the filing (备案) rules, REG-3.
type Filing struct {
	Required            Cited[bool]   `yaml:"required" json:"required"`
	DeadlineDays        Cited[int]    `yaml:"deadline_days" json:"deadline_days"`
	Trigger             Cited[string] `yaml:"trigger" json:"trigger"` // acceptance | in_use
	RemovalRequired     Cited[bool]   `yaml:"removal_required" json:"removal_required"`
	RemovalDeadlineDays Cited[int]    `yaml:"removal_deadline_days" json:"removal_deadline_days"`
	RemovalTiming       Cited[string] `yaml:"removal_timing" json:"removal_timing"` // before | after
	// MoveRequired: moving a system (not only removing it) is filed too,
	// within the removal window and timing (004 §10 ¶2: 移动或者拆除前三十日内).
	MoveRequired Cited[bool] `yaml:"move_required" json:"move_required"`
	// NonMandatedOnly: removal and move filings concern systems outside the
	// mandated sites only; those at mandated sites need a replacement plan
	// instead (004 §10 ¶1 and ¶2).
	NonMandatedOnly Cited[bool] `yaml:"non_mandated_only" json:"non_mandated_only"`
}

// Retrieval holds who approves viewing and copying for each kind of requester, ACC-4, ACC-5.
type Retrieval struct {
	Approval  map[string]Approval `yaml:"approval" json:"approval"` // requester kind → approval
	TwoPerson Cited[bool]         `yaml:"two_person" json:"two_person"`
}

// Approval is who must approve, before a requester views (查阅) or copies and
// retrieves (复制、调取) footage. Values are the codes of Approvals().
type Approval struct {
	View Cited[string] `yaml:"view" json:"view"`
	Copy Cited[string] `yaml:"copy" json:"copy"`
}

// Emergency holds break-glass access for departments handling an emergency (突发事件).
type Emergency struct {
	Allowed     Cited[bool] `yaml:"allowed" json:"allowed"`           // may act before police approval
	ReviewAfter Cited[bool] `yaml:"review_after" json:"review_after"` // the access is reviewed afterwards
}

// Citizens holds a natural person's access to related footage (自然人查阅), ACC-7.
type Citizens struct {
	Allowed             Cited[bool]     `yaml:"allowed" json:"allowed"`
	Relations           Cited[[]string] `yaml:"relations" json:"relations"` // codes of CitizenRelations()
	ManagingUnitConsent Cited[bool]     `yaml:"managing_unit_consent" json:"managing_unit_consent"`
	Declaration         Cited[bool]     `yaml:"declaration" json:"declaration"` // signed 查阅声明书/承诺书
}

// Sharing holds sharing grants (共享授权), ACC-6 and ACC-9.
type Sharing struct {
	GrantMaxDays         Cited[int]    `yaml:"grant_max_days" json:"grant_max_days"`
	Approver             Cited[string] `yaml:"approver" json:"approver"` // an approval code
	RealNameOnly         Cited[bool]   `yaml:"real_name_only" json:"real_name_only"`
	SuspendOnAbnormalUse Cited[bool]   `yaml:"suspend_on_abnormal_use" json:"suspend_on_abnormal_use"`
}

// Privacy holds prohibited places and use limits: REG-6, REG-9, ACC-8, ACC-10, EXP-2.
type Privacy struct {
	ProhibitedPlaces             map[string]Cited[bool] `yaml:"prohibited_places" json:"prohibited_places"` // place type → prohibited
	Signage                      Cited[bool]            `yaml:"signage" json:"signage"`
	PurposeLimitation            Cited[bool]            `yaml:"purpose_limitation" json:"purpose_limitation"`
	DataGrading                  Cited[bool]            `yaml:"data_grading" json:"data_grading"`
	DeidentifyForPublication     Cited[bool]            `yaml:"deidentify_for_publication" json:"deidentify_for_publication"`
	SensitiveAnalyticsPoliceOnly Cited[bool]            `yaml:"sensitive_analytics_police_only" json:"sensitive_analytics_police_only"`
}

// Sites holds the site rules: REG-5, REG-7, REG-8, REG-12.
type Sites struct {
	Mandated               map[string]Cited[bool] `yaml:"mandated" json:"mandated"`             // site category → must be covered
	ProtectedZone          Cited[string]          `yaml:"protected_zone" json:"protected_zone"` // consult | consent
	OverlapRefused         Cited[bool]            `yaml:"overlap_refused" json:"overlap_refused"`
	RemovalReplacementPlan Cited[bool]            `yaml:"removal_replacement_plan" json:"removal_replacement_plan"`
	TemporaryMoveConsent   Cited[bool]            `yaml:"temporary_move_consent" json:"temporary_move_consent"`
}

// Operations holds duties of the unit that runs the system: MED-4, NET-3, REG-11.
type Operations struct {
	ClockAccuracy        Cited[bool] `yaml:"clock_accuracy" json:"clock_accuracy"`
	SuspiciousInfoReport Cited[bool] `yaml:"suspicious_info_report" json:"suspicious_info_report"`
	MonitorStaffFiling   Cited[bool] `yaml:"monitor_staff_filing" json:"monitor_staff_filing"`
}

//go:embed profiles/*.yaml
var embedded embed.FS

const defaultName = "national-baseline"

// Default returns the name of the default profile, "national-baseline".
func Default() string { return defaultName }

// Names returns the embedded profiles' names: the default first, then the rest sorted.
func Names() []string {
	entries, err := embedded.ReadDir("profiles")
	if err != nil {
		return []string{defaultName}
	}
	var names []string
	for _, e := range entries {
		n := strings.TrimSuffix(e.Name(), ".yaml")
		if n != defaultName {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return append([]string{defaultName}, names...)
}

// Load returns the embedded profile called name.
func Load(name string) (*Profile, error) {
	if !slices.Contains(Names(), name) {
		return nil, fmt.Errorf("unknown profile %q: valid names are %s", name, strings.Join(Names(), ", "))
	}
	data, err := embedded.ReadFile("profiles/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	if p.Name != name {
		return nil, fmt.Errorf("profile %s: file declares name %q", name, p.Name)
	}
	return p, nil
}

// LoadFile reads and validates a deployment's own profile. Besides
// Validate, a deployment's profile must carry a name of its own (never a
// shipped profile's, which would pass off its values as the regulation's)
// and may be stricter, never looser, than the floors the seed regulations
// set (CheckFloors): RET-1, RET-2, AUD-1.
func LoadFile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	if slices.Contains(Names(), p.Name) {
		return nil, fmt.Errorf("profile %s: name: %q is the name of a profile shipped with Vigil; a deployment's own profile needs a name of its own", path, p.Name)
	}
	if err := p.CheckFloors(); err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	return p, nil
}

// A Floor is a minimum the seed regulations set, which no deployment
// profile may go below.
type Floor struct {
	Key   string
	Days  int
	Cite  []string
	value func(*Profile) int
}

// Floors are the minimums of the national baseline (the strictest value
// of each rule across the seeds), with its citations: 30 days of footage,
// 90 for anti-terror targets, two-year holds, 180 days of logs.
func Floors() []Floor {
	base, err := Load(defaultName)
	if err != nil {
		panic("the national baseline does not load: " + err.Error())
	}
	fs := []Floor{
		{Key: "retention.min_days", value: func(p *Profile) int { return p.Retention.MinDays.Value }},
		{Key: "retention.anti_terror_min_days", value: func(p *Profile) int { return p.Retention.AntiTerrorMinDays.Value }},
		{Key: "retention.security_key_unit_min_days", value: func(p *Profile) int { return p.Retention.SecurityKeyUnitMinDays.Value }},
		{Key: "retention.important_hold_days", value: func(p *Profile) int { return p.Retention.ImportantHoldDays.Value }},
		{Key: "audit.log_retention_days", value: func(p *Profile) int { return p.Audit.LogRetentionDays.Value }},
	}
	cites := map[string][]string{
		"retention.min_days":                   base.Retention.MinDays.Cite,
		"retention.anti_terror_min_days":       base.Retention.AntiTerrorMinDays.Cite,
		"retention.security_key_unit_min_days": base.Retention.MinDays.Cite, // bounded by min_days
		"retention.important_hold_days":        base.Retention.ImportantHoldDays.Cite,
		"audit.log_retention_days":             base.Audit.LogRetentionDays.Cite,
	}
	for i := range fs {
		fs[i].Days = fs[i].value(base)
		fs[i].Cite = cites[fs[i].Key]
	}
	return fs
}

// CheckFloors returns an error naming each key whose value is below the
// seeds' floor, with the article that sets it.
func (p *Profile) CheckFloors() error {
	var errs []error
	floors := Floors()
	for _, f := range floors {
		if v := f.value(p); v < f.Days {
			errs = append(errs, fmt.Errorf("%s: %d days is below the legal floor of %d days (%s); a deployment's profile may be stricter, never looser",
				f.Key, v, f.Days, strings.Join(f.Cite, ", ")))
		}
	}
	for _, code := range sortedKeys(p.Retention.ByCategory) {
		if v := p.Retention.ByCategory[code].Value; v < floors[0].Days {
			errs = append(errs, fmt.Errorf("retention.by_category.%s: %d days is below the legal floor of %d days (%s); a deployment's profile may be stricter, never looser",
				code, v, floors[0].Days, strings.Join(floors[0].Cite, ", ")))
		}
	}
	return errors.Join(errs...)
}

// Parse decodes one YAML profile strictly (an unknown key is an error naming
// it) and validates it.
func Parse(data []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("parse profile: empty document")
		}
		return nil, fmt.Errorf("parse profile: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("parse profile: more than one YAML document")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Validate checks that every value is present, cited and in range. Each
// problem is reported with the field's path, e.g.
// "retention.anti_terror_min_days: must be ≥ retention.min_days (30)".
func (p *Profile) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if !nameRE.MatchString(p.Name) {
		bad("name", "must be lower-case letters, digits and '-' (got %q)", p.Name)
	}
	if strings.TrimSpace(p.Title) == "" {
		bad("title", "missing")
	}
	if strings.TrimSpace(p.TitleEN) == "" {
		bad("title_en", "missing")
	}
	// Every rule present and cited.
	for _, r := range p.rules() {
		if len(r.cite) == 0 {
			bad(r.path, "missing value or citation (every value needs a cite; use %q when the regulation says nothing)", SilentPrefix+" …")
			continue
		}
		for _, c := range r.cite {
			if strings.TrimSpace(strings.TrimPrefix(c, SilentPrefix)) == "" {
				bad(r.path, "empty citation")
			}
		}
	}
	r := &p.Retention
	days := func(path string, c Cited[int], lo, hi int) {
		if c.Value < lo || c.Value > hi {
			bad(path, "must be between %d and %d days (got %d)", lo, hi, c.Value)
		}
	}
	days("retention.min_days", r.MinDays, 1, 3650)
	days("retention.anti_terror_min_days", r.AntiTerrorMinDays, 1, 3650)
	days("retention.security_key_unit_min_days", r.SecurityKeyUnitMinDays, 1, 3650)
	days("retention.important_hold_days", r.ImportantHoldDays, 1, 36500)
	if r.AntiTerrorMinDays.Value < r.MinDays.Value {
		bad("retention.anti_terror_min_days", "must be ≥ retention.min_days (%d)", r.MinDays.Value)
	}
	if r.SecurityKeyUnitMinDays.Value < r.MinDays.Value {
		bad("retention.security_key_unit_min_days", "must be ≥ retention.min_days (%d)", r.MinDays.Value)
	}
	if r.ImportantHoldDays.Value < r.AntiTerrorMinDays.Value {
		bad("retention.important_hold_days", "must be ≥ retention.anti_terror_min_days (%d)", r.AntiTerrorMinDays.Value)
	}
	for _, code := range sortedKeys(r.ByCategory) {
		path := "retention.by_category." + code
		if _, ok := find(siteCategories, code); !ok {
			bad(path, "unknown site category (valid: %s)", strings.Join(codes(siteCategories), ", "))
		}
		if r.ByCategory[code].Value < r.MinDays.Value {
			bad(path, "must be ≥ retention.min_days (%d)", r.MinDays.Value)
		}
	}
	days("audit.log_retention_days", p.Audit.LogRetentionDays, 1, 36500)
	days("filing.deadline_days", p.Filing.DeadlineDays, 1, 365)
	days("filing.removal_deadline_days", p.Filing.RemovalDeadlineDays, 1, 365)
	days("sharing.grant_max_days", p.Sharing.GrantMaxDays, 1, 3650)
	enum := func(path, v string, set []Label) {
		if _, ok := find(set, v); !ok {
			bad(path, "%q is not one of %s", v, strings.Join(codes(set), ", "))
		}
	}
	enum("filing.trigger", p.Filing.Trigger.Value, filingTriggers)
	enum("filing.removal_timing", p.Filing.RemovalTiming.Value, removalTimings)
	enum("sites.protected_zone", p.Sites.ProtectedZone.Value, protectedZoneRule)
	enum("sharing.approver", p.Sharing.Approver.Value, approvals)
	for _, k := range codes(requesterKinds) {
		a, ok := p.Retrieval.Approval[k]
		if !ok {
			bad("retrieval.approval."+k, "missing (every requester kind needs a rule)")
			continue
		}
		enum("retrieval.approval."+k+".view", a.View.Value, approvals)
		enum("retrieval.approval."+k+".copy", a.Copy.Value, approvals)
		if approvalRank[a.Copy.Value] < approvalRank[a.View.Value] {
			bad("retrieval.approval."+k+".copy", "%q is less strict than view %q", a.Copy.Value, a.View.Value)
		}
	}
	for _, k := range sortedKeys(p.Retrieval.Approval) {
		if _, ok := find(requesterKinds, k); !ok {
			bad("retrieval.approval."+k, "unknown requester kind (valid: %s)", strings.Join(codes(requesterKinds), ", "))
		}
	}
	for i, rel := range p.Citizens.Relations.Value {
		enum(fmt.Sprintf("citizens.relations[%d]", i), rel, citizenRelations)
	}
	if cv := p.Retrieval.Approval["citizen"].View.Value; p.Citizens.Allowed.Value == (cv == "forbidden") {
		bad("citizens.allowed", "is %v but retrieval.approval.citizen.view is %q", p.Citizens.Allowed.Value, cv)
	}
	if p.Citizens.Allowed.Value && len(p.Citizens.Relations.Value) == 0 {
		bad("citizens.relations", "must name who may ask when citizens.allowed is true")
	}
	for _, code := range sortedKeys(p.Privacy.ProhibitedPlaces) {
		if _, ok := find(placeTypes, code); !ok {
			bad("privacy.prohibited_places."+code, "unknown place type (valid: %s)", strings.Join(codes(placeTypes), ", "))
		}
	}
	for _, code := range sortedKeys(p.Sites.Mandated) {
		if _, ok := find(siteCategories, code); !ok {
			bad("sites.mandated."+code, "unknown site category (valid: %s)", strings.Join(codes(siteCategories), ", "))
		}
	}
	return errors.Join(errs...)
}

// rule is one cited value with its path, for Validate, WriteText and the docs.
type rule struct {
	path  string
	value string
	cite  []string
}

type citedValue interface {
	cites() []string
	text() string
}

// rules lists every cited value of p in a fixed order.
func (p *Profile) rules() []rule {
	var out []rule
	add := func(path string, c citedValue) { out = append(out, rule{path, c.text(), c.cites()}) }
	add("scope", p.Scope)
	add("retention.min_days", p.Retention.MinDays)
	add("retention.anti_terror_min_days", p.Retention.AntiTerrorMinDays)
	add("retention.security_key_unit_min_days", p.Retention.SecurityKeyUnitMinDays)
	for _, k := range sortedKeys(p.Retention.ByCategory) {
		add("retention.by_category."+k, p.Retention.ByCategory[k])
	}
	add("retention.important_hold_days", p.Retention.ImportantHoldDays)
	add("retention.original_quality", p.Retention.OriginalQuality)
	add("audit.log_retention_days", p.Audit.LogRetentionDays)
	add("filing.required", p.Filing.Required)
	add("filing.deadline_days", p.Filing.DeadlineDays)
	add("filing.trigger", p.Filing.Trigger)
	add("filing.removal_required", p.Filing.RemovalRequired)
	add("filing.removal_deadline_days", p.Filing.RemovalDeadlineDays)
	add("filing.removal_timing", p.Filing.RemovalTiming)
	add("filing.move_required", p.Filing.MoveRequired)
	add("filing.non_mandated_only", p.Filing.NonMandatedOnly)
	for _, k := range codes(requesterKinds) {
		if a, ok := p.Retrieval.Approval[k]; ok {
			add("retrieval.approval."+k+".view", a.View)
			add("retrieval.approval."+k+".copy", a.Copy)
		}
	}
	add("retrieval.two_person", p.Retrieval.TwoPerson)
	add("emergency.allowed", p.Emergency.Allowed)
	add("emergency.review_after", p.Emergency.ReviewAfter)
	add("citizens.allowed", p.Citizens.Allowed)
	add("citizens.relations", p.Citizens.Relations)
	add("citizens.managing_unit_consent", p.Citizens.ManagingUnitConsent)
	add("citizens.declaration", p.Citizens.Declaration)
	add("sharing.grant_max_days", p.Sharing.GrantMaxDays)
	add("sharing.approver", p.Sharing.Approver)
	add("sharing.real_name_only", p.Sharing.RealNameOnly)
	add("sharing.suspend_on_abnormal_use", p.Sharing.SuspendOnAbnormalUse)
	for _, k := range orderedKeys(p.Privacy.ProhibitedPlaces, placeTypes) {
		add("privacy.prohibited_places."+k, p.Privacy.ProhibitedPlaces[k])
	}
	add("privacy.signage", p.Privacy.Signage)
	add("privacy.purpose_limitation", p.Privacy.PurposeLimitation)
	add("privacy.data_grading", p.Privacy.DataGrading)
	add("privacy.deidentify_for_publication", p.Privacy.DeidentifyForPublication)
	add("privacy.sensitive_analytics_police_only", p.Privacy.SensitiveAnalyticsPoliceOnly)
	for _, k := range orderedKeys(p.Sites.Mandated, siteCategories) {
		add("sites.mandated."+k, p.Sites.Mandated[k])
	}
	add("sites.protected_zone", p.Sites.ProtectedZone)
	add("sites.overlap_refused", p.Sites.OverlapRefused)
	add("sites.removal_replacement_plan", p.Sites.RemovalReplacementPlan)
	add("sites.temporary_move_consent", p.Sites.TemporaryMoveConsent)
	add("operations.clock_accuracy", p.Operations.ClockAccuracy)
	add("operations.suspicious_info_report", p.Operations.SuspiciousInfoReport)
	add("operations.monitor_staff_filing", p.Operations.MonitorStaffFiling)
	return out
}

func valueText(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case []string:
		return strings.Join(x, ", ")
	default:
		return fmt.Sprint(x)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// orderedKeys returns m's keys in catalogue order, unknown keys last (sorted).
func orderedKeys[V any](m map[string]V, set []Label) []string {
	var out []string
	for _, l := range set {
		if _, ok := m[l.Code]; ok {
			out = append(out, l.Code)
		}
	}
	for _, k := range sortedKeys(m) {
		if _, ok := find(set, k); !ok {
			out = append(out, k)
		}
	}
	return out
}
