package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/profile"
	"vigil/internal/store"
)

// SiteInput is what creating a site (场所) takes (REG-5).
type SiteInput struct {
	UnitID      string `json:"unit_id"` // managing unit
	Name        string `json:"name"`
	Category    string `json:"category"`     // a code of profile.SiteCategories
	AntiTerror  bool   `json:"anti_terror"`  // 防范恐怖袭击重点目标
	SecurityKey bool   `json:"security_key"` // 治安保卫重点单位
	Public      bool   `json:"public"`       // a public place: cameras need signage (REG-9)
	Address     string `json:"address"`
}

// Site is a site with what its class implies.
type Site struct {
	ID string `json:"id"`
	SiteInput
	UnitName         string    `json:"unit_name"`
	Mandated         bool      `json:"mandated"` // the profile requires sites of this category to be covered
	MinRetentionDays int       `json:"min_retention_days"`
	RetentionCite    []string  `json:"retention_cite"`
	CreatedAt        time.Time `json:"created_at"`
}

func (s *Service) fillSite(st *Site) {
	st.RetentionCite = []string{}
	if s.profile != nil {
		st.MinRetentionDays, st.RetentionCite = s.profile.MinRetentionDays(st.Category, st.AntiTerror, st.SecurityKey)
		st.Mandated, _ = s.profile.IsMandatedSite(st.Category)
	}
}

func validCategory(c string) bool {
	for _, l := range profile.SiteCategories() {
		if l.Code == c {
			return true
		}
	}
	return false
}

// CreateSite creates a site; audited ("site.create").
func (s *Service) CreateSite(ctx context.Context, subj *policy.Subject, in SiteInput) (*Site, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 300 {
		return nil, invalid("registry.required", "name", problem.P{"field": "name"})
	}
	if !validCategory(in.Category) {
		return nil, invalid("registry.bad_category", "category", problem.P{"category": in.Category})
	}
	u, err := s.unit(ctx, s.db, in.UnitID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
		return nil, err
	}
	st := &Site{ID: newID(), SiteInput: in, UnitName: u.Name, CreatedAt: store.Time(store.Micros(s.now()))}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		now := store.Micros(st.CreatedAt)
		if _, err := tx.Exec(ctx, `INSERT INTO sites (id, unit_id, name, category, anti_terror, security_key, public, address, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, st.ID, in.UnitID, in.Name, in.Category, in.AntiTerror, in.SecurityKey, in.Public, in.Address, now, now); err != nil {
			return fmt.Errorf("insert site: %w", err)
		}
		return s.auditTx(ctx, tx, Actor(subj), "site.create", "site:"+st.ID, map[string]any{"name": in.Name, "category": in.Category})
	})
	if err != nil {
		return nil, err
	}
	s.fillSite(st)
	return st, nil
}

// Sites lists the sites subj may read (unitID: that unit's subtree).
func (s *Service) Sites(ctx context.Context, subj *policy.Subject, unitID string) ([]*Site, error) {
	cond, args := scopeWhere("u.path", readScopes(subj))
	if unitID != "" {
		u, err := s.unit(ctx, s.db, unitID)
		if err != nil {
			return nil, err
		}
		cond += " AND u.path LIKE ?"
		args = append(args, u.Path+"%")
	}
	rows, err := s.db.Query(ctx, `SELECT s.id, s.unit_id, u.name, s.name, s.category, s.anti_terror, s.security_key, s.public, s.address, s.created_at
		FROM sites s JOIN units u ON u.id = s.unit_id WHERE `+cond+` ORDER BY s.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	out := []*Site{}
	for rows.Next() {
		st := &Site{}
		var created int64
		if err := rows.Scan(&st.ID, &st.UnitID, &st.UnitName, &st.Name, &st.Category, &st.AntiTerror, &st.SecurityKey, &st.Public, &st.Address, &created); err != nil {
			return nil, err
		}
		st.CreatedAt = store.Time(created)
		s.fillSite(st)
		out = append(out, st)
	}
	return out, rows.Err()
}

// ZoneInput is a protected zone (军事管理区, 涉密单位周边…, REG-7): a
// polygon of at least three WGS-84 [lon, lat] points.
type ZoneInput struct {
	Name    string       `json:"name"`
	Kind    string       `json:"kind"` // military | classified | other
	Polygon [][2]float64 `json:"polygon"`
}

// Zone is a stored protected zone.
type Zone struct {
	ID string `json:"id"`
	ZoneInput
	CreatedAt time.Time `json:"created_at"`
}

// CreateZone stores a protected zone. Zones are drawn by the police: a user
// of a police unit with admin.units, or a system administrator.
func (s *Service) CreateZone(ctx context.Context, subj *policy.Subject, in ZoneInput) (*Zone, error) {
	if !subj.Can(policy.AdminSystem, "") && !(subj.UnitKind == "police" && len(subj.Scopes(policy.AdminUnits)) > 0) {
		return nil, &policy.DeniedError{Permission: policy.AdminUnits, Target: "protected zones",
			Reason: "protected zones are drawn by the police (admin.units in a police unit) or a system administrator"}
	}
	if strings.TrimSpace(in.Name) == "" {
		return nil, invalid("registry.required", "name", problem.P{"field": "name"})
	}
	if !oneOf(in.Kind, []string{"military", "classified", "other"}) {
		return nil, invalid("registry.bad_value", "kind", problem.P{"field": "kind"})
	}
	if len(in.Polygon) < 3 || len(in.Polygon) > 10000 {
		return nil, invalid("registry.bad_polygon", "polygon", nil)
	}
	for _, p := range in.Polygon {
		if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
			return nil, invalid("registry.bad_polygon", "polygon", nil)
		}
	}
	z := &Zone{ID: newID(), ZoneInput: in, CreatedAt: store.Time(store.Micros(s.now()))}
	poly, _ := json.Marshal(in.Polygon)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO protected_zones (id, name, kind, polygon, created_at) VALUES (?, ?, ?, ?, ?)`,
			z.ID, in.Name, in.Kind, string(poly), store.Micros(z.CreatedAt)); err != nil {
			return fmt.Errorf("insert zone: %w", err)
		}
		return s.auditTx(ctx, tx, Actor(subj), "zone.create", "zone:"+z.ID, map[string]any{"name": in.Name, "kind": in.Kind})
	})
	if err != nil {
		return nil, err
	}
	return z, nil
}

// Zones lists the protected zones, to a subject who may read some files.
func (s *Service) Zones(ctx context.Context, subj *policy.Subject) ([]*Zone, error) {
	if err := checkAnyRead(subj); err != nil {
		return nil, err
	}
	return s.loadZones(ctx, s.db)
}

func (s *Service) loadZones(ctx context.Context, q querier) ([]*Zone, error) {
	rows, err := q.Query(ctx, `SELECT id, name, kind, polygon, created_at FROM protected_zones ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list zones: %w", err)
	}
	defer rows.Close()
	out := []*Zone{}
	for rows.Next() {
		z := &Zone{}
		var poly string
		var created int64
		if err := rows.Scan(&z.ID, &z.Name, &z.Kind, &poly, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(poly), &z.Polygon); err != nil {
			return nil, fmt.Errorf("zone %s polygon: %w", z.ID, err)
		}
		z.CreatedAt = store.Time(created)
		out = append(out, z)
	}
	return out, rows.Err()
}

// zonesContaining returns the protected zones the point lies in.
func (s *Service) zonesContaining(ctx context.Context, q querier, lat, lon float64) ([]*Zone, error) {
	zs, err := s.loadZones(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []*Zone
	for _, z := range zs {
		if PointInPolygon(lat, lon, z.Polygon) {
			out = append(out, z)
		}
	}
	return out, nil
}

// ConsentInput records the consent for a camera inside a protected zone,
// or why it is deemed given (REG-7).
type ConsentInput struct {
	ZoneID    string `json:"zone_id"`
	Basis     string `json:"basis"`      // consent | special_plan | sharing_agreement
	Reference string `json:"reference"`  // document number
	GrantedBy string `json:"granted_by"` // who consented (basis consent)
}

// RecordConsent stores a consent; audited ("zone.consent").
func (s *Service) RecordConsent(ctx context.Context, subj *policy.Subject, cameraID string, in ConsentInput) error {
	if !oneOf(in.Basis, []string{"consent", "special_plan", "sharing_agreement"}) {
		return invalid("registry.bad_value", "basis", problem.P{"field": "basis"})
	}
	if in.Basis == "consent" && strings.TrimSpace(in.GrantedBy) == "" {
		return invalid("registry.required", "granted_by", problem.P{"field": "granted_by"})
	}
	if in.Basis != "consent" && strings.TrimSpace(in.Reference) == "" {
		return invalid("registry.required", "reference", problem.P{"field": "reference"})
	}
	c, err := s.getCamera(ctx, s.db, cameraID)
	if err != nil {
		return err
	}
	u, err := s.unit(ctx, s.db, c.UnitID)
	if err != nil {
		return err
	}
	if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
		return err
	}
	var name string
	if err := s.db.QueryRow(ctx, `SELECT name FROM protected_zones WHERE id = ?`, in.ZoneID).Scan(&name); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return problem.NotFound("registry.zone_not_found", problem.P{"id": in.ZoneID})
		}
		return err
	}
	a := Actor(subj)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO zone_consents (id, zone_id, camera_id, basis, reference, granted_by, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, newID(), in.ZoneID, cameraID, in.Basis, in.Reference, in.GrantedBy, store.Micros(s.now()), a.ID); err != nil {
			if store.IsUniqueViolation(err) {
				return problem.Conflict("registry.consent_exists", problem.P{"zone": name})
			}
			return fmt.Errorf("insert consent: %w", err)
		}
		return s.auditTx(ctx, tx, a, "zone.consent", "camera:"+c.Code, map[string]any{"zone": name, "basis": in.Basis, "reference": in.Reference})
	})
}
