package registry

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// plantedError is one error planted in row n (0-based data row) of a
// generated sheet: the column it is in and the value written there.
type plantedError struct {
	column string
	value  func(n int) string
}

var plants = []plantedError{
	{"code", func(n int) string { return fmt.Sprintf("31010700001320%05dX", n) }},  // not digits
	{"type", func(int) string { return "bullet" }},                                 // not a camera type
	{"lat", func(int) string { return "95" }},                                      // not a latitude
	{"division", func(int) string { return "990100" }},                             // no such province
	{"commissioned_on", func(int) string { return "2026-13-01" }},                  // no such date
	{"place_type", func(int) string { return "toilet" }},                           // prohibited (REG-6)
	{"funding", func(int) string { return "lottery" }},                             // not government/private
	{"azimuth", func(int) string { return "400" }},                                 // outside 0–360
	{"recording_mode", func(int) string { return "sometimes" }},                    // unknown mode
	{"code", func(n int) string { return fmt.Sprintf("31010700001320%06d", n-1) }}, // repeats the row before
}

// writeSheet writes n complete camera files as an Excel catalogue; rows in
// bad get the planted error (bad[row] indexes plants). It returns the bytes
// and the expected problems as "line/column".
func writeSheet(t testing.TB, n int, bad map[int]int) ([]byte, []string) {
	t.Helper()
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	hdr := ColumnNames()
	row := make([]any, len(hdr))
	for i, h := range hdr {
		row[i] = h
	}
	sw.SetRow("A1", row)
	colIdx := map[string]int{}
	for i, h := range hdr {
		colIdx[h] = i
	}
	var want []string
	for r := 0; r < n; r++ {
		cf := completeFile(r, "")
		cells := make([]any, len(columns))
		for i, c := range columns {
			cells[i] = c.get(&cf)
		}
		cells[colIdx["unit_id"]] = ""
		if p, ok := bad[r]; ok {
			cells[colIdx[plants[p].column]] = plants[p].value(r)
			want = append(want, fmt.Sprintf("%d/%s", r+2, plants[p].column))
		}
		cell, _ := excelize.CoordinatesToCellName(1, r+2)
		if err := sw.SetRow(cell, cells); err != nil {
			t.Fatal(err)
		}
	}
	sw.Flush()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	return buf.Bytes(), want
}

func countCameras(t testing.TB, db *store.DB) int {
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM cameras`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImport10kWith50PlantedErrors: the dry run of a 10,000-camera Excel
// file with 50 planted errors reports exactly those 50 with line and
// column and writes nothing; the import of the file with errors is refused
// whole; the fixed file imports completely; the catalogue exported as CSV
// and as Excel imports into an empty registry as the same files (REG-4).
func TestImport10kWith50PlantedErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		bad := map[int]int{}
		for i := 0; i < 50; i++ {
			bad[37+i*197] = i % len(plants)
		}
		data, want := writeSheet(t, 10000, bad)
		tbl, err := ParseXLSX(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := fx.reg.Import(ctx, fx.admin, "school", tbl, true)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range rep.Problems {
			got = append(got, fmt.Sprintf("%d/%s", p.Line, p.Column))
			if p.Cell == "" || p.Message == "" {
				t.Errorf("problem without cell or message: %+v", p)
			}
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("dry run found %d problems, want the 50 planted:\ngot  %v\nwant %v", len(got), got, want)
		}
		if rep.Rows != 10000 || rep.Valid != 9950 || countCameras(t, db) != 0 {
			t.Fatalf("report %d rows %d valid; %d cameras written", rep.Rows, rep.Valid, countCameras(t, db))
		}
		// Without dry run, a file with problems writes nothing either.
		if rep, err := fx.reg.Import(ctx, fx.admin, "school", tbl, false); err != nil || rep.Imported != 0 || countCameras(t, db) != 0 {
			t.Fatalf("import with problems: %v, imported %d", err, rep.Imported)
		}
		// Fixed: all 10,000 import.
		fixed, _ := writeSheet(t, 10000, nil)
		tbl, err = ParseXLSX(bytes.NewReader(fixed))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		rep, err = fx.reg.Import(ctx, fx.admin, "school", tbl, false)
		if err != nil || rep.Imported != 10000 || len(rep.Problems) != 0 {
			t.Fatalf("import: %v %+v", err, rep.Problems[:min(3, len(rep.Problems))])
		}
		t.Logf("imported 10,000 cameras from Excel in %v", time.Since(start))
		if countCameras(t, db) != 10000 {
			t.Fatalf("%d cameras after import", countCameras(t, db))
		}
		// Round trip: export → import into an empty registry → same files.
		cat, err := fx.reg.Catalogue(ctx, fx.admin, "school")
		if err != nil || len(cat.Cameras) != 10000 || cat.Units[0].Count != 10000 {
			t.Fatalf("catalogue: %v", err)
		}
		for _, format := range []string{"csv", "xlsx"} {
			var buf bytes.Buffer
			var tb *Table
			if format == "csv" {
				cat.WriteCSV(&buf)
				tb, err = ParseCSV(&buf)
			} else {
				cat.WriteXLSX(&buf)
				tb, err = ParseXLSX(&buf)
			}
			if err != nil {
				t.Fatal(err)
			}
			fx2 := newFixture(t, storetest.Open(t, db.Dialect))
			rep, err := fx2.reg.Import(ctx, fx2.admin, "school", tb, false)
			if err != nil || rep.Imported != 10000 {
				t.Fatalf("%s re-import: %v %+v", format, err, rep)
			}
			cat2, _ := fx2.reg.Catalogue(ctx, fx2.admin, "school")
			for i := range cat.Cameras {
				if !reflect.DeepEqual(cat.Cameras[i].CameraFile, cat2.Cameras[i].CameraFile) {
					t.Fatalf("%s round trip changed %s:\n%+v\n%+v", format, cat.Cameras[i].Code, cat.Cameras[i].CameraFile, cat2.Cameras[i].CameraFile)
				}
			}
		}
	})
}

func TestCatalogueXMLAndScope(t *testing.T) { // REG-4
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		for i := 0; i < 3; i++ {
			if _, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: completeFile(i, "")}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := fx.reg.Catalogue(ctx, fx.other, "school"); err == nil {
			t.Error("jingan read putuo's catalogue")
		}
		cat, err := fx.reg.Catalogue(ctx, fx.cop, "putuo") // the district's directory
		if err != nil || len(cat.Cameras) != 3 {
			t.Fatalf("district catalogue: %v", err)
		}
		var buf bytes.Buffer
		if err := cat.WriteXML(&buf, "31010700002000000001"); err != nil {
			t.Fatal(err)
		}
		var r catalogResponse
		if err := xml.Unmarshal(buf.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.CmdType != "Catalog" || r.SumNum != 3 || r.DeviceList.Num != 3 || r.DeviceList.Items[0].DeviceID != "31010700001320000000" ||
			r.DeviceList.Items[0].CivilCode != "310107" || r.DeviceList.Items[0].Info.PTZType != 3 {
			t.Errorf("catalog %+v", r)
		}
		if !strings.Contains(buf.String(), `<DeviceList Num="3">`) {
			t.Error("DeviceList lacks Num")
		}
		// A GB2312 body from a lower platform reads with its Chinese names.
		gb, _ := simplifiedchinese.GB18030.NewEncoder().String(strings.Replace(buf.String(), `encoding="UTF-8"`, `encoding="GB2312"`, 1))
		tb, err := ParseCatalogXML(strings.NewReader(gb))
		if err != nil || len(tb.Rows) != 3 || tb.Rows[0].Cells[1] != "校门 0" {
			t.Fatalf("GB2312 catalog: %v %v", err, tb)
		}
		// The XML parses back as an import table.
		tb, err = ParseCatalogXML(bytes.NewReader(buf.Bytes()))
		if err != nil || len(tb.Rows) != 3 || tb.Rows[0].Cells[0] != "31010700001320000000" {
			t.Fatalf("parse back: %v", err)
		}
	})
}

// BenchmarkImport10k: a 10,000-camera Excel import on SQLite (target < 10 s).
func BenchmarkImport10k(b *testing.B) {
	data, _ := writeSheet(b, 10000, nil)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fx := newFixture(b, storetest.Open(b, store.SQLite))
		b.StartTimer()
		tbl, err := ParseXLSX(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		rep, err := fx.reg.Import(context.Background(), fx.admin, "school", tbl, false)
		if err != nil || rep.Imported != 10000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkExport100k: the catalogue of 100,000 cameras read from SQLite and
// written as CSV and as Excel (target < 5 s).
func BenchmarkExport100k(b *testing.B) {
	fx := newFixture(b, storetest.Open(b, store.SQLite))
	ctx := context.Background()
	var tb Table
	tb.Header = ColumnNames()
	for r := 0; r < 100000; r++ {
		cf := completeFile(r, "")
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = c.get(&cf)
		}
		tb.Rows = append(tb.Rows, TableRow{Line: r + 2, Cells: cells})
	}
	if rep, err := fx.reg.Import(ctx, fx.admin, "school", &tb, false); err != nil || rep.Imported != 100000 {
		b.Fatalf("seed: %v", err)
	}
	for _, format := range []string{"csv", "xlsx", "json", "xml"} {
		b.Run(format, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cat, err := fx.reg.Catalogue(ctx, fx.admin, "school")
				if err != nil || len(cat.Cameras) != 100000 {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				switch format {
				case "csv":
					err = cat.WriteCSV(&buf)
				case "xlsx":
					err = cat.WriteXLSX(&buf)
				case "json":
					err = cat.WriteJSON(&buf)
				case "xml":
					err = cat.WriteXML(&buf, "31010700002000000001")
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
