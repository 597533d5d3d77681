package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// MaxImportRows is the most rows one import may carry.
const MaxImportRows = 200000

// Table is a parsed spreadsheet: its header and its data rows, each with the
// line (row number, 1-based, header = 1) it came from.
type Table struct {
	Header []string
	Rows   []TableRow
}

// TableRow is one data row.
type TableRow struct {
	Line  int
	Cells []string
}

// ParseCSV reads a CSV catalogue (UTF-8, with or without a byte-order mark).
func ParseCSV(r io.Reader) (*Table, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	t := &Table{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse csv: %w", err)
		}
		if line == 1 {
			t.Header = rec
			continue
		}
		if len(t.Rows) >= MaxImportRows {
			return nil, fmt.Errorf("parse csv: more than %d rows", MaxImportRows)
		}
		pl, _ := cr.FieldPos(0)
		t.Rows = append(t.Rows, TableRow{Line: pl, Cells: rec})
	}
	if t.Header == nil {
		return nil, errors.New("parse csv: empty file, no header row")
	}
	return t, nil
}

// ParseXLSX reads the first sheet of an Excel catalogue. A malformed
// workbook is an error, never a panic.
func ParseXLSX(r io.Reader) (t *Table, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("read xlsx: malformed workbook: %v", p)
		}
	}()
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, fmt.Errorf("open xlsx: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errors.New("open xlsx: no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("read xlsx: %w", err)
	}
	defer rows.Close()
	t = &Table{}
	for line := 1; rows.Next(); line++ {
		cells, err := rows.Columns()
		if err != nil {
			return nil, fmt.Errorf("read xlsx row %d: %w", line, err)
		}
		if line == 1 {
			t.Header = cells
			continue
		}
		if len(t.Rows) >= MaxImportRows {
			return nil, fmt.Errorf("read xlsx: more than %d rows", MaxImportRows)
		}
		t.Rows = append(t.Rows, TableRow{Line: line, Cells: cells})
	}
	if t.Header == nil {
		return nil, errors.New("read xlsx: empty sheet, no header row")
	}
	return t, nil
}

// ParseCatalogXML reads a GB/T 28181 Catalog response (from a lower
// platform) as a table with the catalogue's columns; line is the item's
// position in the DeviceList (header = 1, first item = 2).
func ParseCatalogXML(r io.Reader) (*Table, error) {
	var resp catalogResponse
	dec := xml.NewDecoder(io.LimitReader(r, 256<<20))
	dec.CharsetReader = func(charset string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "gb2312", "gbk", "gb18030":
			// GB/T 28181 bodies are often GB2312; GB18030 is its superset.
			return transform.NewReader(in, simplifiedchinese.GB18030.NewDecoder()), nil
		case "utf-8", "":
			return in, nil
		}
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	if err := dec.Decode(&resp); err != nil {
		return nil, fmt.Errorf("parse catalog xml: %w", err)
	}
	if resp.CmdType != "Catalog" {
		return nil, fmt.Errorf("parse catalog xml: CmdType %q, want Catalog", resp.CmdType)
	}
	if len(resp.DeviceList.Items) > MaxImportRows {
		return nil, fmt.Errorf("parse catalog xml: more than %d items", MaxImportRows)
	}
	t := &Table{Header: []string{"code", "name", "vendor", "model", "division", "address", "lat", "lon", "azimuth", "type"}}
	rev := map[int]string{1: "dome", 3: "fixed"}
	for i, it := range resp.DeviceList.Items {
		az := ""
		if it.Info.Direction != 0 {
			az = num(it.Info.Direction)
		}
		t.Rows = append(t.Rows, TableRow{Line: i + 2, Cells: []string{it.DeviceID, it.Name, it.Manufacturer, it.Model, it.CivilCode,
			it.Address, num(it.Latitude), num(it.Longitude), az, rev[it.Info.PTZType]}})
	}
	return t, nil
}

// RowProblem is one thing wrong in an imported file.
type RowProblem struct {
	Line    int    `json:"line"`   // row number (1 = header)
	Column  string `json:"column"` // column name ("" for the row as a whole)
	Cell    string `json:"cell"`   // spreadsheet reference, e.g. "D17"
	Code    string `json:"code"`   // message key
	Message string `json:"message"`
}

// ImportReport is what an import found and did.
type ImportReport struct {
	DryRun   bool         `json:"dry_run"`
	Rows     int          `json:"rows"`
	Valid    int          `json:"valid"`
	Imported int          `json:"imported"`
	SHA256   string       `json:"sha256,omitempty"`
	Problems []RowProblem `json:"problems"`
}

type importRow struct {
	line int
	file CameraFile
}

// decode turns a table into files, reporting every cell that does not parse.
func decodeTable(t *Table, defaultUnit string) ([]importRow, []RowProblem) {
	var probs []RowProblem
	idx := map[string]int{}
	colOf := map[string]column{}
	for _, c := range columns {
		colOf[c.name] = c
	}
	ignored := map[string]bool{}
	for _, n := range exportExtra {
		ignored[n] = true
	}
	cellRef := func(i, line int) string {
		s, _ := excelize.CoordinatesToCellName(i+1, line)
		return s
	}
	for i, h := range t.Header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case h == "" || ignored[h]:
		case colOf[h].name == "":
			probs = append(probs, RowProblem{Line: 1, Column: h, Cell: cellRef(i, 1), Code: "registry.import_unknown_column", Message: fmt.Sprintf("unknown column %q", h)})
		default:
			if _, dup := idx[h]; dup {
				probs = append(probs, RowProblem{Line: 1, Column: h, Cell: cellRef(i, 1), Code: "registry.import_duplicate_column", Message: fmt.Sprintf("column %q appears twice", h)})
			}
			idx[h] = i
		}
	}
	for _, req := range []string{"code", "name"} {
		if _, ok := idx[req]; !ok {
			probs = append(probs, RowProblem{Line: 1, Column: req, Code: "registry.import_missing_column", Message: fmt.Sprintf("column %q is missing", req)})
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	out := make([]importRow, 0, len(t.Rows))
	for _, r := range t.Rows {
		empty := true
		for _, c := range r.Cells {
			if strings.TrimSpace(c) != "" {
				empty = false
				break
			}
		}
		if empty {
			continue
		}
		f := CameraFile{UnitID: defaultUnit}
		for name, i := range idx {
			v := ""
			if i < len(r.Cells) {
				v = r.Cells[i]
			}
			if name == "unit_id" && strings.TrimSpace(v) == "" {
				continue
			}
			if err := colOf[name].set(&f, v); err != nil {
				probs = append(probs, RowProblem{Line: r.Line, Column: name, Cell: cellRef(i, r.Line), Code: "registry.import_bad_cell", Message: err.Error()})
			}
		}
		f.normalise()
		for _, fe := range f.Validate() {
			col := fe.Field
			if col == "lat" && idx["lat"] == 0 && idx["lon"] != 0 {
				col = "lon"
			}
			ref := ""
			if i, ok := idx[col]; ok {
				ref = cellRef(i, r.Line)
			}
			probs = append(probs, RowProblem{Line: r.Line, Column: col, Cell: ref, Code: fe.Code, Message: fe.Message})
		}
		out = append(out, importRow{line: r.Line, file: f})
	}
	return out, probs
}

// Import checks a catalogue table row by row — every cell, every rule,
// duplicates within the file and against the registry — and reports every
// problem with its line and column. With dryRun, or when anything is wrong,
// nothing is written; otherwise all rows are registered in one transaction
// (REG-4), with one audit entry ("camera.import") and a history row each.
// unitID is the unit for rows without a unit_id.
func (s *Service) Import(ctx context.Context, subj *policy.Subject, unitID string, t *Table, dryRun bool) (*ImportReport, error) {
	// A write, dry run or not: refused outright without camera.admin over
	// the unit named (or anywhere), rather than answered row by row (ACC-1).
	if unitID != "" {
		u, err := s.unit(ctx, s.db, unitID)
		if err != nil {
			return nil, err
		}
		if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
			return nil, err
		}
	} else if len(subj.Scopes(policy.CameraAdmin)) == 0 {
		return nil, &policy.DeniedError{Permission: policy.CameraAdmin, Target: "the camera registry"}
	}
	rep := &ImportReport{DryRun: dryRun, Rows: len(t.Rows), Problems: []RowProblem{}}
	h := sha256.New()
	for _, r := range t.Rows {
		for _, c := range r.Cells {
			io.WriteString(h, c)
			h.Write([]byte{0})
		}
	}
	rep.SHA256 = hex.EncodeToString(h.Sum(nil))
	rows, probs := decodeTable(t, unitID)
	rep.Problems = append(rep.Problems, probs...)
	cellOf := func(line int, col string) string {
		for i, hname := range t.Header {
			if strings.ToLower(strings.TrimSpace(hname)) == col {
				s, _ := excelize.CoordinatesToCellName(i+1, line)
				return s
			}
		}
		return ""
	}
	add := func(line int, col, code, msg string) {
		rep.Problems = append(rep.Problems, RowProblem{Line: line, Column: col, Cell: cellOf(line, col), Code: code, Message: msg})
	}
	// Rules that need the database: units in scope, sites, systems, places, duplicates.
	units := map[string]*unitInfo{}
	sites := map[string]bool{}
	systems := map[string]string{}
	seen := map[string]int{}
	var codes []string
	for _, r := range rows {
		f := &r.file
		u, ok := units[f.UnitID]
		if !ok && f.UnitID != "" {
			ui, err := s.unit(ctx, s.db, f.UnitID)
			if err == nil && policy.Check(subj, policy.CameraAdmin, ui.Path, "unit "+ui.Name) == nil {
				u = &ui
			}
			units[f.UnitID] = u
		}
		if f.UnitID != "" && u == nil {
			add(r.line, "unit_id", "registry.import_unit", fmt.Sprintf("unit %q does not exist or is outside your camera.admin scope", f.UnitID))
		}
		if f.PlaceType != "" && s.profile != nil {
			if bad, cite := s.profile.IsProhibitedPlace(f.PlaceType); bad {
				add(r.line, "place_type", "registry.prohibited_place", fmt.Sprintf("place type %s is a prohibited place (REG-6; %s)", f.PlaceType, strings.Join(cite, "; ")))
			}
		}
		if f.SiteID != "" {
			ok, seenSite := sites[f.SiteID]
			if !seenSite {
				var n int
				s.db.QueryRow(ctx, `SELECT COUNT(*) FROM sites WHERE id = ?`, f.SiteID).Scan(&n)
				ok = n > 0
				sites[f.SiteID] = ok
			}
			if !ok {
				add(r.line, "site_id", "registry.site_not_found", fmt.Sprintf("site %q does not exist", f.SiteID))
			}
		}
		if f.SystemID != "" {
			owner, seenSys := systems[f.SystemID]
			if !seenSys {
				s.db.QueryRow(ctx, `SELECT unit_id FROM systems WHERE id = ?`, f.SystemID).Scan(&owner)
				systems[f.SystemID] = owner
			}
			if owner != f.UnitID {
				add(r.line, "system_id", "registry.system_not_found", fmt.Sprintf("system %q does not exist in unit %s", f.SystemID, f.UnitID))
			}
		}
		if first, dup := seen[f.Code]; dup {
			add(r.line, "code", "registry.import_duplicate_code", fmt.Sprintf("code %s repeats line %d", f.Code, first))
		} else {
			seen[f.Code] = r.line
			codes = append(codes, f.Code)
		}
	}
	existing, err := s.existingCodes(ctx, codes)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if existing[r.file.Code] && seen[r.file.Code] == r.line {
			add(r.line, "code", "registry.duplicate_code", fmt.Sprintf("code %s is already registered", r.file.Code))
		}
	}
	bad := map[int]bool{}
	for _, p := range rep.Problems {
		bad[p.Line] = true
	}
	for _, r := range rows {
		if !bad[r.line] {
			rep.Valid++
		}
	}
	if dryRun || len(rep.Problems) > 0 {
		return rep, nil
	}
	a := Actor(subj)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		now := store.Micros(s.now())
		if err := s.insertBatch(ctx, tx, rows, a, now); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, a, "camera.import", "unit:"+unitID, map[string]any{"count": len(rows), "sha256": rep.SHA256})
	})
	if err != nil {
		return nil, err
	}
	rep.Imported = len(rows)
	s.idxMu.Lock()
	s.idx = nil // reloaded on next use
	s.idxMu.Unlock()
	return rep, nil
}

func (s *Service) existingCodes(ctx context.Context, codes []string) (map[string]bool, error) {
	out := map[string]bool{}
	for i := 0; i < len(codes); i += 500 {
		batch := codes[i:min(i+500, len(codes))]
		args := make([]any, len(batch))
		for j, c := range batch {
			args[j] = c
		}
		rows, err := s.db.Query(ctx, `SELECT code FROM cameras WHERE code IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("check codes: %w", err)
		}
		for rows.Next() {
			var c string
			rows.Scan(&c)
			out[c] = true
		}
		rows.Close()
	}
	return out, nil
}

// insertBatch inserts files with multi-row statements (100 rows each),
// and one history row per file.
func (s *Service) insertBatch(ctx context.Context, tx *store.Tx, rows []importRow, a audit.Actor, now int64) error {
	const per = 100
	camCols := `INSERT INTO cameras (id, code, unit_id, name, vendor, model, firmware, type, lat, lon, address, division,
		height, azimuth, fov, range_m, place_type, site_id, system_id, building_unit, operating_unit, contact_name, contact_phone,
		funding, commissioned_on, accepted_on, public, signage, extended, state, source_url_enc, recording_mode, enabled,
		completeness, created_at, updated_at) VALUES `
	camPH := "(" + strings.TrimSuffix(strings.Repeat("?, ", 36), ", ") + ")"
	histCols := `INSERT INTO camera_history (id, camera_id, at, actor_id, actor_name, action, field, old_value, new_value) VALUES `
	histPH := "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
	for i := 0; i < len(rows); i += per {
		batch := rows[i:min(i+per, len(rows))]
		var cargs, hargs []any
		for j, r := range batch {
			f := &r.file
			id := newID()
			ext, _ := json.Marshal(f.Extended)
			score, _ := Completeness(f)
			cargs = append(cargs, id, f.Code, f.UnitID, f.Name, f.Vendor, f.Model, f.Firmware, f.Type, f.Lat, f.Lon, f.Address, f.Division,
				f.Height, azStore(f.Azimuth), f.FOV, f.Range, f.PlaceType, f.SiteID, f.SystemID, f.BuildingUnit, f.OperatingUnit,
				f.ContactName, f.ContactPhone, f.Funding, f.CommissionedOn, f.AcceptedOn, f.Public, f.Signage, string(ext),
				string(StateRegistered), "", f.RecordingMode, true, score, now, now)
			hargs = append(hargs, fmt.Sprintf("%016x%04x%s", now, (i+j)%0xffff, newID()), id, now, a.ID, a.Name, "import", "*", "", f.Code)
		}
		q := camCols + strings.TrimSuffix(strings.Repeat(camPH+", ", len(batch)), ", ")
		if _, err := tx.Exec(ctx, q, cargs...); err != nil {
			if store.IsUniqueViolation(err) {
				return problem.Conflict("registry.duplicate_code", problem.P{"code": "(import)"})
			}
			return fmt.Errorf("import cameras (rows from line %d): %w", batch[0].line, err)
		}
		q = histCols + strings.TrimSuffix(strings.Repeat(histPH+", ", len(batch)), ", ")
		if _, err := tx.Exec(ctx, q, hargs...); err != nil {
			return fmt.Errorf("import history: %w", err)
		}
	}
	return nil
}
