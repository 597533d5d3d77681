package registry

import (
	"bytes"
	"strings"
	"testing"
)

// decodeAll runs what an import does with a parsed table before it needs
// the database.
func decodeAll(t *testing.T, tb *Table, err error) {
	if err != nil {
		return
	}
	rows, probs := decodeTable(tb, "unit")
	for _, p := range probs {
		if p.Line < 1 || p.Code == "" {
			t.Fatalf("problem without line or code: %+v", p)
		}
	}
	for _, r := range rows {
		r.file.Validate()
		Completeness(&r.file)
	}
}

// FuzzParseCSV: catalogue CSV from a person's spreadsheet program (REG-4).
func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("code,name,type\n31010700001320000002,东门,fixed\n"))
	f.Add([]byte("\ufeffcode,name,lat,lon,azimuth,extended\n31010700001320000002,a,31.2,121.4,90,\"{\"\"k\"\":\"\"v\"\"}\"\n"))
	f.Add([]byte("code,name,code\n1,2,3\n"))
	f.Add([]byte("name\n\"unterminated\n"))
	f.Add([]byte("code,name,public,signage,height\nx,y,maybe,是,-3\n,,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := ParseCSV(bytes.NewReader(data))
		decodeAll(t, tb, err)
	})
}

// FuzzParseCatalogXML: GB/T 28181 Catalog responses from lower platforms.
func FuzzParseCatalogXML(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><Response><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>31010700002000000001</DeviceID><SumNum>1</SumNum>` +
		`<DeviceList Num="1"><Item><DeviceID>31010700001320000001</DeviceID><Name>门</Name><Longitude>121.4</Longitude><Latitude>31.2</Latitude>` +
		`<Info><PTZType>1</PTZType><Direction>90</Direction></Info></Item></DeviceList></Response>`))
	f.Add([]byte(`<?xml version="1.0" encoding="GB2312"?><Response><CmdType>Catalog</CmdType><DeviceList Num="2"><Item/><Item><Longitude>x</Longitude></Item></DeviceList></Response>`))
	f.Add([]byte(`<Response><CmdType>Keepalive</CmdType></Response>`))
	f.Add([]byte(`<Response><CmdType>Catalog`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := ParseCatalogXML(bytes.NewReader(data))
		decodeAll(t, tb, err)
	})
}

// FuzzParseXLSX: uploaded workbooks; malformed zips and sheets are errors.
func FuzzParseXLSX(f *testing.F) {
	good, _ := writeSheet(f, 3, map[int]int{1: 1})
	f.Add(good)
	f.Add([]byte("PK\x03\x04"))
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		tb, err := ParseXLSX(bytes.NewReader(data))
		decodeAll(t, tb, err)
	})
}

func TestParseErrors(t *testing.T) { // REG-4
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"empty csv", func() error { _, err := ParseCSV(strings.NewReader("")); return err }},
		{"not a catalog", func() error {
			_, err := ParseCatalogXML(strings.NewReader("<Response><CmdType>Alarm</CmdType></Response>"))
			return err
		}},
		{"not a workbook", func() error { _, err := ParseXLSX(strings.NewReader("PK\x03\x04junk")); return err }},
	} {
		if tc.err() == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	tb, _ := ParseCSV(strings.NewReader("code,colour\n1,red\n"))
	_, probs := decodeTable(tb, "u")
	if len(probs) != 2 || probs[0].Code != "registry.import_unknown_column" || probs[0].Cell != "B1" || probs[1].Code != "registry.import_missing_column" {
		t.Errorf("header problems %+v", probs)
	}
}
