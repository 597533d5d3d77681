package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/profile"
	"vigil/internal/store"
)

func invalid(code, field string, params problem.P) *problem.Error {
	if params == nil {
		params = problem.P{}
	}
	return problem.Invalid(code, field, params)
}

// fileProblem turns validation errors into one problem naming the first,
// with all of them in params["errors"].
func fileProblem(errs []FieldError) error {
	e := invalid(errs[0].Code, errs[0].Field, problem.P{"field": errs[0].Field, "detail": errs[0].Message, "errors": errs})
	return e
}

const cameraCols = `c.id, c.code, c.unit_id, u.name, c.name, c.vendor, c.model, c.firmware, c.type, c.lat, c.lon, c.address, c.division,
	c.height, c.azimuth, c.fov, c.range_m, c.place_type, c.site_id, c.system_id, c.building_unit, c.operating_unit,
	c.contact_name, c.contact_phone, c.funding, c.commissioned_on, c.accepted_on, c.filing_state, c.public, c.signage,
	c.extended, c.state, c.source_url_enc, c.recording_mode, c.enabled, c.created_at, c.updated_at, c.onvif_url, c.transport`

const cameraFrom = ` FROM cameras c JOIN units u ON u.id = c.unit_id`

type scanner interface{ Scan(...any) error }

func (s *Service) scanCamera(r scanner) (*Camera, error) {
	var c Camera
	var az float64
	var ext, src, onvifURL string
	var created, updated int64
	err := r.Scan(&c.ID, &c.Code, &c.UnitID, &c.UnitName, &c.Name, &c.Vendor, &c.Model, &c.Firmware, &c.Type, &c.Lat, &c.Lon,
		&c.Address, &c.Division, &c.Height, &az, &c.FOV, &c.Range, &c.PlaceType, &c.SiteID, &c.SystemID, &c.BuildingUnit,
		&c.OperatingUnit, &c.ContactName, &c.ContactPhone, &c.Funding, &c.CommissionedOn, &c.AcceptedOn, &c.FilingState,
		&c.Public, &c.Signage, &ext, &c.State, &src, &c.RecordingMode, &c.Enabled, &created, &updated, &onvifURL, &c.Transport)
	if err != nil {
		return nil, err
	}
	if az >= 0 {
		c.Azimuth = &az
	}
	c.Extended = map[string]string{}
	json.Unmarshal([]byte(ext), &c.Extended)
	c.HasSource = src != ""
	c.HasONVIF = onvifURL != ""
	c.CreatedAt, c.UpdatedAt = store.Time(created), store.Time(updated)
	s.derive(&c)
	return &c, nil
}

// derive fills the computed attributes: GCJ-02, completeness, signage.
func (s *Service) derive(c *Camera) {
	if c.Located() {
		lat, lon := WGS84ToGCJ02(c.Lat, c.Lon)
		c.GCJ02 = &LatLon{lat, lon}
	}
	c.Completeness, c.Missing = Completeness(&c.CameraFile)
	required := true
	if s.profile != nil {
		required, _ = s.profile.SignageRequired()
	}
	c.SignageMissing = required && c.Public && !c.Signage
}

func azStore(a *float64) float64 {
	if a == nil {
		return -1
	}
	return *a
}

// checkRules applies the rules that need the database and the profile: the
// prohibited place (REG-6), the unit, the site and the system. It returns
// the site's public flag.
func (s *Service) checkRules(ctx context.Context, q querier, f *CameraFile, unit unitInfo) error {
	if f.PlaceType != "" && s.profile != nil {
		if bad, cite := s.profile.IsProhibitedPlace(f.PlaceType); bad {
			l, _ := profile.LabelOf(f.PlaceType)
			return problem.Unprocessable("registry.prohibited_place", problem.P{
				"place": f.PlaceType, "place_zh": l.ZH, "place_en": l.EN, "article": strings.Join(cite, "; "), "rule": "REG-6"})
		}
	}
	if f.SiteID != "" {
		var public bool
		var path string
		err := q.QueryRow(ctx, `SELECT s.public, u.path FROM sites s JOIN units u ON u.id = s.unit_id WHERE s.id = ?`, f.SiteID).Scan(&public, &path)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid("registry.site_not_found", "site_id", problem.P{"id": f.SiteID})
		}
		if err != nil {
			return fmt.Errorf("load site: %w", err)
		}
		if public {
			f.Public = true
		}
	}
	if f.SystemID != "" {
		var unitID string
		err := q.QueryRow(ctx, `SELECT unit_id FROM systems WHERE id = ?`, f.SystemID).Scan(&unitID)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid("registry.system_not_found", "system_id", problem.P{"id": f.SystemID})
		}
		if err != nil {
			return fmt.Errorf("load system: %w", err)
		}
		if unitID != unit.ID {
			return invalid("registry.system_other_unit", "system_id", problem.P{"id": f.SystemID})
		}
	}
	return nil
}

func (s *Service) sealSource(id, url string) (string, error) {
	if url == "" || s.keyring == nil {
		return "", nil
	}
	if !strings.HasPrefix(url, "rtsp://") && !strings.HasPrefix(url, "rtsps://") {
		return "", invalid("registry.bad_source_url", "source_url", nil)
	}
	return s.keyring.Seal(url, "cameras.source_url:"+id)
}

// SourceURL returns a camera's stream URL with its credentials, for the
// recorder; "" when none is stored.
func (s *Service) SourceURL(ctx context.Context, id string) (string, error) {
	var enc string
	if err := s.db.QueryRow(ctx, `SELECT source_url_enc FROM cameras WHERE id = ?`, id).Scan(&enc); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", store.ErrNotFound
		}
		return "", err
	}
	return s.keyring.Open(enc, "cameras.source_url:"+id)
}

func (s *Service) insertCamera(ctx context.Context, tx *store.Tx, id string, f *CameraFile, src string, enabled bool, now int64) error {
	ext, _ := json.Marshal(f.Extended)
	score, _ := Completeness(f)
	_, err := tx.Exec(ctx, `INSERT INTO cameras (id, code, unit_id, name, vendor, model, firmware, type, lat, lon, address, division,
		height, azimuth, fov, range_m, place_type, site_id, system_id, building_unit, operating_unit, contact_name, contact_phone,
		funding, commissioned_on, accepted_on, public, signage, extended, state, source_url_enc, recording_mode, enabled,
		completeness, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, f.Code, f.UnitID, f.Name, f.Vendor, f.Model, f.Firmware, f.Type, f.Lat, f.Lon, f.Address, f.Division,
		f.Height, azStore(f.Azimuth), f.FOV, f.Range, f.PlaceType, f.SiteID, f.SystemID, f.BuildingUnit, f.OperatingUnit,
		f.ContactName, f.ContactPhone, f.Funding, f.CommissionedOn, f.AcceptedOn, f.Public, f.Signage, string(ext),
		string(StateRegistered), src, f.RecordingMode, enabled, score, now, now)
	if store.IsUniqueViolation(err) {
		return problem.Conflict("registry.duplicate_code", problem.P{"code": f.Code})
	}
	if err != nil {
		return fmt.Errorf("insert camera %s: %w", f.Code, err)
	}
	return nil
}

func (s *Service) history(ctx context.Context, tx *store.Tx, camID string, a audit.Actor, action string, changes [][3]string, now int64) error {
	for i, ch := range changes {
		// Ids sort in the order of writing, so history reads back in order.
		hid := fmt.Sprintf("%016x%04x%s", now, i, newID())
		if _, err := tx.Exec(ctx, `INSERT INTO camera_history (id, camera_id, at, actor_id, actor_name, action, field, old_value, new_value)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, hid, camID, now, a.ID, a.Name, action, ch[0], ch[1], ch[2]); err != nil {
			return fmt.Errorf("camera history: %w", err)
		}
	}
	return nil
}

// Register creates a camera's file (REG-1): validated, checked against the
// prohibited places (REG-6), its code unique; state registered; audited
// ("camera.register") and entered in its history.
func (s *Service) Register(ctx context.Context, subj *policy.Subject, in CameraInput) (*Camera, error) {
	f := in.CameraFile
	f.normalise()
	if errs := f.Validate(); len(errs) > 0 {
		return nil, fileProblem(errs)
	}
	id := newID()
	a := Actor(subj)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.unit(ctx, tx, f.UnitID)
		if err != nil {
			return err
		}
		if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
			return err
		}
		if err := s.checkRules(ctx, tx, &f, u); err != nil {
			return err
		}
		src := ""
		if in.SourceURL != nil {
			if src, err = s.sealSource(id, *in.SourceURL); err != nil {
				return err
			}
		}
		enabled := in.Enabled == nil || *in.Enabled
		now := store.Micros(s.now())
		if err := s.insertCamera(ctx, tx, id, &f, src, enabled, now); err != nil {
			return err
		}
		if _, err := s.storeONVIF(ctx, tx, id, in.ONVIF); err != nil {
			return err
		}
		if _, err := s.storeTransport(ctx, tx, id, in.Transport); err != nil {
			return err
		}
		if err := s.history(ctx, tx, id, a, "register", [][3]string{{"*", "", f.Code}}, now); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, a, "camera.register", "camera:"+f.Code, map[string]any{"id": id, "unit": u.Name, "name": f.Name})
	})
	if err != nil {
		return nil, err
	}
	c, err := s.getCamera(ctx, s.db, id)
	if err == nil {
		s.indexCamera(c)
	}
	return c, err
}

func (s *Service) getCamera(ctx context.Context, q querier, id string) (*Camera, error) {
	c, err := s.scanCamera(q.QueryRow(ctx, `SELECT `+cameraCols+cameraFrom+` WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, problem.NotFound("registry.camera_not_found", problem.P{"id": id})
	}
	if err != nil {
		return nil, fmt.Errorf("load camera %s: %w", id, err)
	}
	return c, nil
}

// Camera returns one file, if subj may read it.
func (s *Service) Camera(ctx context.Context, subj *policy.Subject, id string) (*Camera, error) {
	c, err := s.getCamera(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	u, err := s.unit(ctx, s.db, c.UnitID)
	if err != nil {
		return nil, err
	}
	if !canRead(subj, u.Path) {
		return nil, problem.NotFound("registry.camera_not_found", problem.P{"id": id})
	}
	return c, nil
}

// CameraFilter selects files. UnitID limits to a unit's subtree.
type CameraFilter struct {
	UnitID      string
	State       State
	SiteID      string
	SystemID    string
	Query       string // substring of code, name or address
	Incomplete  bool   // completeness below 100
	NoSignage   bool   // public cameras without signage (REG-9)
	Limit       int
	Offset      int
	scopes      []string
	unitPathPfx string
}

// Cameras lists the files subj may read, by code.
func (s *Service) Cameras(ctx context.Context, subj *policy.Subject, f CameraFilter) ([]*Camera, int, error) {
	f.scopes = readScopes(subj)
	if f.UnitID != "" {
		u, err := s.unit(ctx, s.db, f.UnitID)
		if err != nil {
			return nil, 0, err
		}
		f.unitPathPfx = u.Path
	}
	return s.listCameras(ctx, f)
}

func (s *Service) listCameras(ctx context.Context, f CameraFilter) ([]*Camera, int, error) {
	cond, args := scopeWhere("u.path", f.scopes)
	where := []string{cond}
	add := func(c string, v ...any) { where = append(where, c); args = append(args, v...) }
	if f.unitPathPfx != "" {
		add("u.path LIKE ?", f.unitPathPfx+"%")
	}
	if f.State != "" {
		add("c.state = ?", string(f.State))
	}
	if f.SiteID != "" {
		add("c.site_id = ?", f.SiteID)
	}
	if f.SystemID != "" {
		add("c.system_id = ?", f.SystemID)
	}
	if f.Query != "" {
		q := "%" + likeEscape(f.Query) + "%"
		add(`(c.code LIKE ? ESCAPE '\' OR c.name LIKE ? ESCAPE '\' OR c.address LIKE ? ESCAPE '\')`, q, q, q)
	}
	if f.Incomplete {
		add("c.completeness < 100")
	}
	if f.NoSignage {
		add("c.public = ? AND c.signage = ?", true, false)
	}
	w := " WHERE " + strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*)`+cameraFrom+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count cameras: %w", err)
	}
	q := `SELECT ` + cameraCols + cameraFrom + w + ` ORDER BY c.code`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, f.Offset)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list cameras: %w", err)
	}
	defer rows.Close()
	out := []*Camera{}
	for rows.Next() {
		c, err := s.scanCamera(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list cameras: %w", err)
		}
		out = append(out, c)
	}
	return out, total, rows.Err()
}

// Update replaces a file's attributes; each changed field enters the
// history and the change is audited ("camera.update"). A move to another
// unit needs camera.admin over both.
func (s *Service) Update(ctx context.Context, subj *policy.Subject, id string, in CameraInput) (*Camera, error) {
	f := in.CameraFile
	f.normalise()
	if errs := f.Validate(); len(errs) > 0 {
		return nil, fileProblem(errs)
	}
	a := Actor(subj)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := s.getCamera(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.State == StateDeregistered {
			return problem.Conflict("registry.deregistered", problem.P{"code": old.Code})
		}
		for _, uid := range []string{old.UnitID, f.UnitID} {
			u, err := s.unit(ctx, tx, uid)
			if err != nil {
				return err
			}
			if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
				return err
			}
		}
		nu, _ := s.unit(ctx, tx, f.UnitID)
		if err := s.checkRules(ctx, tx, &f, nu); err != nil {
			return err
		}
		changes := diff(&old.CameraFile, &f)
		src := ""
		srcChanged := in.SourceURL != nil
		if srcChanged {
			if src, err = s.sealSource(id, *in.SourceURL); err != nil {
				return err
			}
			changes = append(changes, [3]string{"source_url", "(sealed)", "(sealed)"})
		}
		onvifChange, err := s.storeONVIF(ctx, tx, id, in.ONVIF)
		if err != nil {
			return err
		}
		changes = append(changes, onvifChange...)
		transportChange, err := s.storeTransport(ctx, tx, id, in.Transport)
		if err != nil {
			return err
		}
		changes = append(changes, transportChange...)
		enabled := old.Enabled
		if in.Enabled != nil && *in.Enabled != old.Enabled {
			enabled = *in.Enabled
			changes = append(changes, [3]string{"enabled", fmt.Sprint(old.Enabled), fmt.Sprint(enabled)})
		}
		if len(changes) == 0 {
			return nil
		}
		ext, _ := json.Marshal(f.Extended)
		score, _ := Completeness(&f)
		now := store.Micros(s.now())
		q := `UPDATE cameras SET code = ?, unit_id = ?, name = ?, vendor = ?, model = ?, firmware = ?, type = ?, lat = ?, lon = ?,
			address = ?, division = ?, height = ?, azimuth = ?, fov = ?, range_m = ?, place_type = ?, site_id = ?, system_id = ?,
			building_unit = ?, operating_unit = ?, contact_name = ?, contact_phone = ?, funding = ?, commissioned_on = ?,
			accepted_on = ?, public = ?, signage = ?, extended = ?, recording_mode = ?, enabled = ?, completeness = ?, updated_at = ?`
		args := []any{f.Code, f.UnitID, f.Name, f.Vendor, f.Model, f.Firmware, f.Type, f.Lat, f.Lon, f.Address, f.Division, f.Height,
			azStore(f.Azimuth), f.FOV, f.Range, f.PlaceType, f.SiteID, f.SystemID, f.BuildingUnit, f.OperatingUnit, f.ContactName,
			f.ContactPhone, f.Funding, f.CommissionedOn, f.AcceptedOn, f.Public, f.Signage, string(ext), f.RecordingMode, enabled, score, now}
		if srcChanged {
			q += `, source_url_enc = ?`
			args = append(args, src)
		}
		args = append(args, id)
		if _, err := tx.Exec(ctx, q+` WHERE id = ?`, args...); err != nil {
			if store.IsUniqueViolation(err) {
				return problem.Conflict("registry.duplicate_code", problem.P{"code": f.Code})
			}
			return fmt.Errorf("update camera %s: %w", id, err)
		}
		if err := s.history(ctx, tx, id, a, "update", changes, now); err != nil {
			return err
		}
		fields := make([]string, len(changes))
		for i, ch := range changes {
			fields[i] = ch[0]
		}
		return s.auditTx(ctx, tx, a, "camera.update", "camera:"+f.Code, map[string]any{"id": id, "fields": fields})
	})
	if err != nil {
		return nil, err
	}
	c, err := s.getCamera(ctx, s.db, id)
	if err == nil {
		s.indexCamera(c)
	}
	return c, err
}

// Change is one entry of a file's history.
type Change struct {
	At        int64  `json:"-"`
	Time      string `json:"at"`
	ActorID   string `json:"actor_id"`
	ActorName string `json:"actor_name"`
	Action    string `json:"action"`
	Field     string `json:"field"`
	Old       string `json:"old"`
	New       string `json:"new"`
}

// History returns a file's changes, oldest first.
func (s *Service) History(ctx context.Context, subj *policy.Subject, id string) ([]Change, error) {
	if _, err := s.Camera(ctx, subj, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT at, actor_id, actor_name, action, field, old_value, new_value FROM camera_history
		WHERE camera_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("camera history: %w", err)
	}
	defer rows.Close()
	out := []Change{}
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.At, &c.ActorID, &c.ActorName, &c.Action, &c.Field, &c.Old, &c.New); err != nil {
			return nil, err
		}
		c.Time = store.Time(c.At).Format("2006-01-02T15:04:05.000000Z07:00")
		out = append(out, c)
	}
	return out, rows.Err()
}

// likeEscape makes s match itself literally in a LIKE pattern with
// ESCAPE '\': % and _ are wildcards otherwise.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
