package registry

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"vigil/internal/policy"
)

// UnitSummary is one unit's line of the resource directory (资源目录, REG-4).
type UnitSummary struct {
	UnitID    string         `json:"unit_id"`
	UnitName  string         `json:"unit_name"`
	Count     int            `json:"count"`
	Types     map[string]int `json:"types"`
	Operators []string       `json:"operators"`
}

// Catalogue is the resource directory of a unit's subtree — a unit, a
// district or a city — read from the live files, so it is always current.
type Catalogue struct {
	GeneratedAt time.Time     `json:"generated_at"`
	UnitID      string        `json:"unit_id"`
	UnitName    string        `json:"unit_name"`
	Division    string        `json:"division"`
	Units       []UnitSummary `json:"units"`
	Cameras     []*Camera     `json:"cameras"`
}

// Catalogue returns the directory of the unit's subtree (deregistered
// cameras left out), limited to what subj may read.
func (s *Service) Catalogue(ctx context.Context, subj *policy.Subject, unitID string) (*Catalogue, error) {
	u, err := s.unit(ctx, s.db, unitID)
	if err != nil {
		return nil, err
	}
	if err := checkRead(subj, u); err != nil {
		return nil, err
	}
	cams, _, err := s.listCameras(ctx, CameraFilter{scopes: readScopes(subj), unitPathPfx: u.Path})
	if err != nil {
		return nil, err
	}
	cat := &Catalogue{GeneratedAt: s.now().UTC(), UnitID: u.ID, UnitName: u.Name, Division: u.Division, Cameras: make([]*Camera, 0, len(cams))}
	byUnit := map[string]*UnitSummary{}
	ops := map[string]map[string]bool{}
	for _, c := range cams {
		if c.State == StateDeregistered {
			continue
		}
		cat.Cameras = append(cat.Cameras, c)
		us := byUnit[c.UnitID]
		if us == nil {
			us = &UnitSummary{UnitID: c.UnitID, UnitName: c.UnitName, Types: map[string]int{}, Operators: []string{}}
			byUnit[c.UnitID] = us
			ops[c.UnitID] = map[string]bool{}
		}
		us.Count++
		t := c.Type
		if t == "" {
			t = "unknown"
		}
		us.Types[t]++
		if c.OperatingUnit != "" && !ops[c.UnitID][c.OperatingUnit] {
			ops[c.UnitID][c.OperatingUnit] = true
			us.Operators = append(us.Operators, c.OperatingUnit)
		}
	}
	cat.Units = []UnitSummary{}
	for _, us := range byUnit {
		sort.Strings(us.Operators)
		cat.Units = append(cat.Units, *us)
	}
	sort.Slice(cat.Units, func(i, j int) bool { return cat.Units[i].UnitName < cat.Units[j].UnitName })
	return cat, nil
}

// exportExtra are read-only columns the export adds after the attributes;
// an import ignores them.
var exportExtra = []string{"unit_name", "state", "filing_state", "completeness", "gcj02_lat", "gcj02_lon"}

func exportHeader() []string { return append(ColumnNames(), exportExtra...) }

func exportRow(c *Camera) []string {
	row := make([]string, 0, len(columns)+len(exportExtra))
	for _, col := range columns {
		row = append(row, col.get(&c.CameraFile))
	}
	var glat, glon string
	if c.GCJ02 != nil {
		glat, glon = strconv.FormatFloat(c.GCJ02.Lat, 'f', 7, 64), strconv.FormatFloat(c.GCJ02.Lon, 'f', 7, 64)
	}
	return append(row, c.UnitName, string(c.State), c.FilingState, strconv.Itoa(c.Completeness), glat, glon)
}

// WriteCSV writes the catalogue as UTF-8 CSV with a byte-order mark (so
// that spreadsheet programs read the Chinese), one camera per row.
func (cat *Catalogue) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("\ufeff")
	cw := csv.NewWriter(bw)
	cw.Write(exportHeader())
	for _, c := range cat.Cameras {
		cw.Write(exportRow(c))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return bw.Flush()
}

// WriteJSON writes the catalogue as one JSON document.
func (cat *Catalogue) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cat); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return bw.Flush()
}

// WriteXLSX writes the catalogue as an Excel workbook: sheet "cameras" with
// the same columns as the CSV, and sheet "summary" per unit.
func (cat *Catalogue) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	f.ZipWriter = fastZip
	f.SetSheetName("Sheet1", "cameras")
	sw, err := f.NewStreamWriter("cameras")
	if err != nil {
		return err
	}
	toRow := func(ss []string) []any {
		out := make([]any, len(ss))
		for i, s := range ss {
			if s != "" { // empty cells are left out
				out[i] = s
			}
		}
		return out
	}
	if err := sw.SetRow("A1", toRow(exportHeader())); err != nil {
		return err
	}
	for i, c := range cat.Cameras {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, toRow(exportRow(c))); err != nil {
			return fmt.Errorf("write xlsx row %d: %w", i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if _, err := f.NewSheet("summary"); err != nil {
		return err
	}
	f.SetSheetRow("summary", "A1", &[]any{"unit_id", "unit_name", "count", "types", "operators"})
	for i, us := range cat.Units {
		types, _ := json.Marshal(us.Types)
		ops, _ := json.Marshal(us.Operators)
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		f.SetSheetRow("summary", cell, &[]any{us.UnitID, us.UnitName, us.Count, string(types), string(ops)})
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	return nil
}

// fastZip compresses workbooks with flate.BestSpeed: a 100,000-row
// catalogue is mostly repetitive XML, and the default level costs more
// time than the few per cent of size it saves.
func fastZip(w io.Writer) excelize.ZipWriter {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	return zw
}

// catalogItem is one <Item> of a GB/T 28181 Catalog response.
type catalogItem struct {
	DeviceID     string  `xml:"DeviceID"`
	Name         string  `xml:"Name"`
	Manufacturer string  `xml:"Manufacturer"`
	Model        string  `xml:"Model"`
	Owner        string  `xml:"Owner"`
	CivilCode    string  `xml:"CivilCode"`
	Address      string  `xml:"Address"`
	Parental     int     `xml:"Parental"`
	ParentID     string  `xml:"ParentID"`
	SafetyWay    int     `xml:"SafetyWay"`
	RegisterWay  int     `xml:"RegisterWay"`
	Secrecy      int     `xml:"Secrecy"`
	Status       string  `xml:"Status"`
	Longitude    float64 `xml:"Longitude"`
	Latitude     float64 `xml:"Latitude"`
	Info         struct {
		PTZType   int     `xml:"PTZType,omitempty"`
		Direction float64 `xml:"Direction,omitempty"`
	} `xml:"Info"`
}

type catalogResponse struct {
	XMLName    xml.Name `xml:"Response"`
	CmdType    string   `xml:"CmdType"`
	SN         int      `xml:"SN"`
	DeviceID   string   `xml:"DeviceID"`
	SumNum     int      `xml:"SumNum"`
	DeviceList struct {
		Num   int           `xml:"Num,attr"`
		Items []catalogItem `xml:"Item"`
	} `xml:"DeviceList"`
}

// ptzTypes maps camera types to the Catalog's PTZType: 1 dome (球机),
// 2 half-dome, 3 fixed (固定枪机), 4 remote-controlled.
var ptzTypes = map[string]int{"dome": 1, "ptz": 1, "fixed": 3, "panoramic": 3}

// WriteXML writes the catalogue as a GB/T 28181 (MANSCDP) Catalog response.
// platformID is the 20-digit code of this platform (the DeviceID answering).
func (cat *Catalogue) WriteXML(w io.Writer, platformID string) error {
	var r catalogResponse
	r.CmdType, r.SN, r.DeviceID = "Catalog", 1, platformID
	r.SumNum = len(cat.Cameras)
	r.DeviceList.Num = len(cat.Cameras)
	r.DeviceList.Items = make([]catalogItem, 0, len(cat.Cameras))
	for _, c := range cat.Cameras {
		it := catalogItem{DeviceID: c.Code, Name: c.Name, Manufacturer: c.Vendor, Model: c.Model, Owner: c.UnitName,
			CivilCode: c.Division, Address: c.Address, ParentID: platformID, RegisterWay: 1, Status: "OFF",
			Longitude: c.Lon, Latitude: c.Lat}
		if c.State == StateOnline {
			it.Status = "ON"
		}
		it.Info.PTZType = ptzTypes[c.Type]
		if c.Azimuth != nil {
			it.Info.Direction = *c.Azimuth
		}
		r.DeviceList.Items = append(r.DeviceList.Items, it)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write catalog xml: %w", err)
	}
	bw.WriteString("\n")
	return bw.Flush()
}
