package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestImportConsole uploads a catalogue with two planted errors: the dry
// run lists both with line and column and the import stays disabled; the
// corrected file's dry run is clean, and the import writes every row
// (REG-4).
func TestImportConsole(t *testing.T) {
	a := startVigil(t)
	admin := signInAPI(t, a.URL(), "admin", adminPassword)
	unit := "导入测试单位"
	unitID := admin.id("/api/v1/units", map[string]any{"name": unit, "kind": "building_unit", "parent_id": admin.rootUnit(), "division": "420102"})
	dir := t.TempDir()
	write := func(name string, rows ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("code,name,lat,lon,address\n"+strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.csv",
		"42010200001310000101,南门,30.59,114.30,胜利街 1 号",
		"4201020000131000010,北门,30.59,114.30,胜利街 2 号", // line 3: 19 digits
		"42010200001310000103,操场,99.5,114.30,胜利街 3 号", // line 4: latitude out of range
	)
	good := write("good.csv",
		"42010200001310000101,南门,30.59,114.30,胜利街 1 号",
		"42010200001310000102,北门,30.59,114.30,胜利街 2 号",
		"42010200001310000103,操场,30.595,114.30,胜利街 3 号",
	)

	b := newBrowser(t, "zh-CN")
	signInAs(b, a.URL(), "admin", adminPassword, "nav-import")
	b.click("nav-import")
	b.pick("import-unit", "", unit)
	upload := func(p string) {
		b.t.Helper()
		b.do("choose "+filepath.Base(p), chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="import-file"] input[type=file], .ant-upload input[type=file]`), []string{p}))
		b.click("import-dry-run")
		b.do("the dry-run report", chromedp.WaitVisible(tid("import-summary")))
	}
	upload(bad)
	b.waitFor("two problems", `document.querySelectorAll('[data-testid="import-problems"] tbody tr.ant-table-row').length === 2`)
	rows := eval[string](b, `[...document.querySelectorAll('[data-testid="import-problems"] tbody tr.ant-table-row')].map(r => [...r.cells].slice(0, 2).map(c => c.textContent).join('|')).join('\n')`)
	if !strings.Contains(rows, "3|国标编码") || !strings.Contains(rows, "4|纬度") {
		t.Errorf("the dry run reports\n%s\nwant line 3 (code) and line 4 (latitude)", rows)
	}
	if !eval[bool](b, `document.querySelector('[data-testid="import-commit"]').disabled`) {
		t.Errorf("the import is enabled after a dry run with problems")
	}
	b.screenshot("import-problems")

	upload(good)
	b.waitFor("a clean dry run", `document.querySelector('[data-testid="import-summary"]')?.dataset.clean === 'true'`)
	b.click("import-commit")
	b.waitFor("the import", `(document.querySelector('[data-testid="import-summary"]')?.textContent ?? '').includes('已导入 3 个')`)
	var got struct {
		Total int `json:"total"`
	}
	admin.do("GET", "/api/v1/cameras?unit_id="+unitID, nil, &got)
	if got.Total != 3 {
		t.Errorf("after the import the unit has %d cameras, want 3", got.Total)
	}
	b.screenshot("import-done")
	if ex := b.pageExceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page:\n%s", strings.Join(ex, "\n"))
	}
}
