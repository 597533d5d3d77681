package registry

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// State is where a camera is in its lifecycle (REG-2).
type State string

// The lifecycle: registered (登记) → admitted (入网, after acceptance) →
// online ⇄ offline → deregistered (注销).
const (
	StateRegistered   State = "registered"
	StateAdmitted     State = "admitted"
	StateOnline       State = "online"
	StateOffline      State = "offline"
	StateDeregistered State = "deregistered"
)

// CameraTypes are the kinds of camera a file records.
var CameraTypes = []string{"fixed", "ptz", "dome", "panoramic", "mobile", "body_worn"}

// RecordingModes are how the recorder treats a camera.
var RecordingModes = []string{"continuous", "on_demand", "off"}

// Fundings are who paid for a camera.
var Fundings = []string{"government", "private"}

// CameraFile is the editable part of a camera's file (一机一档, REG-1).
// Coordinates are WGS-84; (0, 0) means not yet surveyed. Azimuth is degrees
// clockwise from north, nil when unknown; FOV and Range are the horizontal
// field-of-view angle (degrees) and visible range (metres), 0 when unknown.
// Dates are "YYYY-MM-DD".
type CameraFile struct {
	Code     string `json:"code"`
	UnitID   string `json:"unit_id"` // owning / managing unit (管理单位)
	Name     string `json:"name"`
	Vendor   string `json:"vendor"`
	Model    string `json:"model"`
	Firmware string `json:"firmware"`
	Type     string `json:"type"` // one of CameraTypes

	Lat       float64  `json:"lat"`
	Lon       float64  `json:"lon"`
	Address   string   `json:"address"`
	Division  string   `json:"division"` // administrative division code (行政区划代码)
	Height    float64  `json:"height"`
	Azimuth   *float64 `json:"azimuth"`
	FOV       float64  `json:"fov"`
	Range     float64  `json:"range"`
	PlaceType string   `json:"place_type"` // checked against the profile's prohibited places (REG-6)
	SiteID    string   `json:"site_id"`
	SystemID  string   `json:"system_id"`

	BuildingUnit   string `json:"building_unit"`  // 建设单位
	OperatingUnit  string `json:"operating_unit"` // 运维单位 (may be an entrusted operator)
	ContactName    string `json:"contact_name"`
	ContactPhone   string `json:"contact_phone"`
	Funding        string `json:"funding"` // government | private
	CommissionedOn string `json:"commissioned_on"`
	AcceptedOn     string `json:"accepted_on"`
	Public         bool   `json:"public"`  // in a public place (signage required, REG-9)
	Signage        bool   `json:"signage"` // visible signage installed

	Extended      map[string]string `json:"extended"`
	RecordingMode string            `json:"recording_mode"` // continuous | on_demand | off
}

// Camera is a camera's file as read.
type Camera struct {
	ID string `json:"id"`
	CameraFile
	UnitName       string    `json:"unit_name"`
	GCJ02          *LatLon   `json:"gcj02,omitempty"` // the position in GCJ-02, for Chinese maps
	FilingState    string    `json:"filing_state"`    // none | submitted | accepted | returned
	State          State     `json:"state"`
	Enabled        bool      `json:"enabled"`
	HasSource      bool      `json:"has_source"` // a stream URL is stored (sealed; never returned)
	HasONVIF       bool      `json:"has_onvif"`  // ONVIF settings are stored (the password sealed; never returned)
	Transport      string    `json:"transport"`  // how the recorder asks for RTP: auto | tcp | udp | multicast (MED-1)
	Completeness   int       `json:"completeness"`
	Missing        []string  `json:"missing"`
	SignageMissing bool      `json:"signage_missing"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Located reports whether the file has a surveyed position.
func (c *CameraFile) Located() bool { return c.Lat != 0 || c.Lon != 0 }

// CameraInput is what registering or updating a file takes. SourceURL is the
// stream URL with its credentials (rtsp://user:pass@host/…); nil keeps the
// stored one on update, "" clears it.
type CameraInput struct {
	CameraFile
	SourceURL *string     `json:"source_url,omitempty"`
	Enabled   *bool       `json:"enabled,omitempty"`
	ONVIF     *ONVIFInput `json:"onvif,omitempty"`     // PTZ over ONVIF (MED-3); nil keeps, url "" clears
	Transport *string     `json:"transport,omitempty"` // auto | tcp | udp | multicast (MED-1); nil keeps
}

// FieldError is one problem with one attribute.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`    // message key
	Message string `json:"message"` // English, for logs and reports
}

// weights are the completeness weights (REG-1): the share of the score each
// attribute contributes when filled in. They sum to 100.
var weights = []struct {
	field  string
	weight int
	filled func(*CameraFile) bool
}{
	{"name", 8, func(c *CameraFile) bool { return c.Name != "" }},
	{"vendor", 5, func(c *CameraFile) bool { return c.Vendor != "" }},
	{"model", 5, func(c *CameraFile) bool { return c.Model != "" }},
	{"firmware", 2, func(c *CameraFile) bool { return c.Firmware != "" }},
	{"type", 5, func(c *CameraFile) bool { return c.Type != "" }},
	{"position", 12, func(c *CameraFile) bool { return c.Located() }},
	{"address", 5, func(c *CameraFile) bool { return c.Address != "" }},
	{"division", 5, func(c *CameraFile) bool { return c.Division != "" }},
	{"height", 3, func(c *CameraFile) bool { return c.Height > 0 }},
	{"azimuth", 5, func(c *CameraFile) bool { return c.Azimuth != nil }},
	{"fov", 4, func(c *CameraFile) bool { return c.FOV > 0 }},
	{"range", 4, func(c *CameraFile) bool { return c.Range > 0 }},
	{"place_type", 2, func(c *CameraFile) bool { return c.PlaceType != "" }},
	{"building_unit", 5, func(c *CameraFile) bool { return c.BuildingUnit != "" }},
	{"operating_unit", 5, func(c *CameraFile) bool { return c.OperatingUnit != "" }},
	{"contact_name", 4, func(c *CameraFile) bool { return c.ContactName != "" }},
	{"contact_phone", 4, func(c *CameraFile) bool { return c.ContactPhone != "" }},
	{"funding", 3, func(c *CameraFile) bool { return c.Funding != "" }},
	{"commissioned_on", 4, func(c *CameraFile) bool { return c.CommissionedOn != "" }},
	{"accepted_on", 4, func(c *CameraFile) bool { return c.AcceptedOn != "" }},
	{"site_id", 6, func(c *CameraFile) bool { return c.SiteID != "" }},
}

// Completeness scores a file 0–100 by the weights above and lists what is
// missing. A file scoring 100 is complete and may be admitted.
func Completeness(c *CameraFile) (int, []string) {
	score := 0
	missing := []string{}
	for _, w := range weights {
		if w.filled(c) {
			score += w.weight
		} else {
			missing = append(missing, w.field)
		}
	}
	return score, missing
}

var (
	placeRe = regexp.MustCompile(`^[a-z0-9_]{0,64}$`)
	dateRe  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	phoneRe = regexp.MustCompile(`^[0-9+\- ()]{0,24}$`)
)

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

func validDate(s string) bool {
	if !dateRe.MatchString(s) {
		return false
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// Validate checks the file's attributes one by one and returns every
// problem (the rules that need the database or the profile — duplicates,
// units, sites, prohibited places — are the service's).
func (c *CameraFile) Validate() []FieldError {
	var errs []FieldError
	add := func(field, code, msg string, args ...any) {
		errs = append(errs, FieldError{Field: field, Code: code, Message: fmt.Sprintf(msg, args...)})
	}
	if _, err := ParseCode(c.Code); err != nil {
		add("code", "registry.bad_code", "%v", err)
	}
	text := func(field, v string, required bool, max int) {
		switch {
		case required && strings.TrimSpace(v) == "":
			add(field, "registry.required", "%s is required", field)
		case utf8.RuneCountInString(v) > max:
			add(field, "registry.too_long", "%s is longer than %d characters", field, max)
		case !utf8.ValidString(v):
			add(field, "registry.bad_text", "%s is not valid UTF-8", field)
		}
	}
	text("name", c.Name, true, 100)
	text("vendor", c.Vendor, false, 100)
	text("model", c.Model, false, 100)
	text("firmware", c.Firmware, false, 100)
	text("address", c.Address, false, 200)
	text("building_unit", c.BuildingUnit, false, 100)
	text("operating_unit", c.OperatingUnit, false, 100)
	text("contact_name", c.ContactName, false, 50)
	if c.UnitID == "" {
		add("unit_id", "registry.required", "unit_id is required")
	}
	if c.Type != "" && !oneOf(c.Type, CameraTypes) {
		add("type", "registry.bad_value", "type %q is not one of %s", c.Type, strings.Join(CameraTypes, ", "))
	}
	if c.Lat < -90 || c.Lat > 90 || c.Lon < -180 || c.Lon > 180 || (c.Lat == 0) != (c.Lon == 0) {
		add("lat", "registry.bad_position", "position %g, %g is not a WGS-84 latitude and longitude", c.Lat, c.Lon)
	}
	if c.Division != "" && !ValidDivision(c.Division) {
		add("division", "registry.bad_division", "division %q is not a 6-digit administrative division code", c.Division)
	}
	if c.Height < 0 || c.Height > 1000 {
		add("height", "registry.bad_value", "height %g m is outside 0–1000", c.Height)
	}
	if c.Azimuth != nil && (*c.Azimuth < 0 || *c.Azimuth >= 360) {
		add("azimuth", "registry.bad_value", "azimuth %g is outside 0–360", *c.Azimuth)
	}
	if c.FOV < 0 || c.FOV > 360 {
		add("fov", "registry.bad_value", "field of view %g is outside 0–360", c.FOV)
	}
	if c.Range < 0 || c.Range > 5000 {
		add("range", "registry.bad_value", "range %g m is outside 0–5000", c.Range)
	}
	if !placeRe.MatchString(c.PlaceType) {
		add("place_type", "registry.bad_value", "place type %q is not a code of lower-case letters, digits and _", c.PlaceType)
	}
	if !phoneRe.MatchString(c.ContactPhone) {
		add("contact_phone", "registry.bad_value", "contact phone %q is not a phone number", c.ContactPhone)
	}
	if c.Funding != "" && !oneOf(c.Funding, Fundings) {
		add("funding", "registry.bad_value", "funding %q is not government or private", c.Funding)
	}
	for _, d := range []struct{ f, v string }{{"commissioned_on", c.CommissionedOn}, {"accepted_on", c.AcceptedOn}} {
		if d.v != "" && !validDate(d.v) {
			add(d.f, "registry.bad_date", "%s %q is not a date YYYY-MM-DD", d.f, d.v)
		}
	}
	if c.RecordingMode != "" && !oneOf(c.RecordingMode, RecordingModes) {
		add("recording_mode", "registry.bad_value", "recording mode %q is not one of %s", c.RecordingMode, strings.Join(RecordingModes, ", "))
	}
	if len(c.Extended) > 50 {
		add("extended", "registry.bad_value", "more than 50 extended attributes")
	}
	for k, v := range c.Extended {
		if k == "" || len(k) > 64 || len(v) > 500 || !utf8.ValidString(k+v) {
			add("extended", "registry.bad_value", "extended attribute %q is empty or too long", k)
			break
		}
	}
	return errs
}

// normalise fills defaults.
func (c *CameraFile) normalise() {
	c.Code = strings.TrimSpace(c.Code)
	c.Name = strings.TrimSpace(c.Name)
	if c.RecordingMode == "" {
		c.RecordingMode = "continuous"
	}
	if c.Extended == nil {
		c.Extended = map[string]string{}
	}
}

// column is one attribute as text: the catalogue's columns, the import's
// columns and the history's field names.
type column struct {
	name string
	get  func(*CameraFile) string
	set  func(*CameraFile, string) error
}

func num(v float64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func parseNum(dst *float64) func(*CameraFile, string) error {
	return func(_ *CameraFile, s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			*dst = 0
			return nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		*dst = v
		return nil
	}
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "n", "否":
		return false, nil
	case "1", "true", "yes", "y", "是":
		return true, nil
	}
	return false, fmt.Errorf("%q is not yes or no", s)
}

func strCol(name string, p func(*CameraFile) *string) column {
	return column{name, func(c *CameraFile) string { return *p(c) },
		func(c *CameraFile, s string) error { *p(c) = strings.TrimSpace(s); return nil }}
}

func numCol(name string, p func(*CameraFile) *float64) column {
	return column{name, func(c *CameraFile) string { return num(*p(c)) },
		func(c *CameraFile, s string) error { return parseNum(p(c))(c, s) }}
}

func boolCol(name string, p func(*CameraFile) *bool) column {
	return column{name, func(c *CameraFile) string { return strconv.FormatBool(*p(c)) },
		func(c *CameraFile, s string) error { v, err := parseBool(s); *p(c) = v; return err }}
}

// columns lists the file's attributes in catalogue order.
var columns = []column{
	strCol("code", func(c *CameraFile) *string { return &c.Code }),
	strCol("name", func(c *CameraFile) *string { return &c.Name }),
	strCol("unit_id", func(c *CameraFile) *string { return &c.UnitID }),
	strCol("vendor", func(c *CameraFile) *string { return &c.Vendor }),
	strCol("model", func(c *CameraFile) *string { return &c.Model }),
	strCol("firmware", func(c *CameraFile) *string { return &c.Firmware }),
	strCol("type", func(c *CameraFile) *string { return &c.Type }),
	numCol("lat", func(c *CameraFile) *float64 { return &c.Lat }),
	numCol("lon", func(c *CameraFile) *float64 { return &c.Lon }),
	strCol("address", func(c *CameraFile) *string { return &c.Address }),
	strCol("division", func(c *CameraFile) *string { return &c.Division }),
	numCol("height", func(c *CameraFile) *float64 { return &c.Height }),
	{"azimuth", func(c *CameraFile) string {
		if c.Azimuth == nil {
			return ""
		}
		return strconv.FormatFloat(*c.Azimuth, 'f', -1, 64)
	}, func(c *CameraFile, s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			c.Azimuth = nil
			return nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		c.Azimuth = &v
		return nil
	}},
	numCol("fov", func(c *CameraFile) *float64 { return &c.FOV }),
	numCol("range", func(c *CameraFile) *float64 { return &c.Range }),
	strCol("place_type", func(c *CameraFile) *string { return &c.PlaceType }),
	strCol("site_id", func(c *CameraFile) *string { return &c.SiteID }),
	strCol("system_id", func(c *CameraFile) *string { return &c.SystemID }),
	strCol("building_unit", func(c *CameraFile) *string { return &c.BuildingUnit }),
	strCol("operating_unit", func(c *CameraFile) *string { return &c.OperatingUnit }),
	strCol("contact_name", func(c *CameraFile) *string { return &c.ContactName }),
	strCol("contact_phone", func(c *CameraFile) *string { return &c.ContactPhone }),
	strCol("funding", func(c *CameraFile) *string { return &c.Funding }),
	strCol("commissioned_on", func(c *CameraFile) *string { return &c.CommissionedOn }),
	strCol("accepted_on", func(c *CameraFile) *string { return &c.AcceptedOn }),
	boolCol("public", func(c *CameraFile) *bool { return &c.Public }),
	boolCol("signage", func(c *CameraFile) *bool { return &c.Signage }),
	strCol("recording_mode", func(c *CameraFile) *string { return &c.RecordingMode }),
	{"extended", func(c *CameraFile) string {
		if len(c.Extended) == 0 {
			return ""
		}
		b, _ := json.Marshal(c.Extended)
		return string(b)
	}, func(c *CameraFile, s string) error {
		s = strings.TrimSpace(s)
		c.Extended = map[string]string{}
		if s == "" {
			return nil
		}
		if err := json.Unmarshal([]byte(s), &c.Extended); err != nil {
			return fmt.Errorf("not a JSON object of strings: %v", err)
		}
		return nil
	}},
}

// ColumnNames returns the catalogue's attribute columns in order.
func ColumnNames() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.name
	}
	return out
}

// diff returns the changed attributes between two files as (field, old, new).
func diff(a, b *CameraFile) [][3]string {
	var out [][3]string
	for _, col := range columns {
		if o, n := col.get(a), col.get(b); o != n {
			out = append(out, [3]string{col.name, o, n})
		}
	}
	return out
}
