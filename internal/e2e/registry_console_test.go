package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// signInAs signs in through the console's form and waits for the menu
// entry navID.
func signInAs(b *browser, base, username, password, navID string) {
	b.t.Helper()
	b.do("open the console", chromedp.Navigate(base+"/"))
	b.typeInto("signin-username", username)
	b.typeInto("signin-password", password)
	b.click("signin-submit")
	b.do("wait for "+navID, chromedp.WaitVisible(tid(navID)))
}

// pick opens the select with data-testid id, types search (when not
// empty) to filter its options, and clicks the option reading option.
func (b *browser) pick(id, search, option string) {
	b.t.Helper()
	sel := chromedp.CSS(fmt.Sprintf(`[data-testid=%q] .ant-select, .ant-select[data-testid=%q], [data-testid=%q]`, id, id, id))
	opt := byText(".ant-select-item-option-content, .ant-select-tree-title", option)
	// A click while the select's options are still loading, or while the
	// drawer or dialog around it settles, may leave the list closed or
	// empty: close it and open it again, three times at most.
	for attempt := 1; ; attempt++ {
		b.waitStill()
		b.do("open "+id, chromedp.WaitVisible(sel), chromedp.ScrollIntoView(sel), chromedp.Click(sel, chromedp.NodeVisible))
		if search != "" {
			b.do("search "+id, chromedp.KeyEvent(search))
		}
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		err := chromedp.Do(ctx, chromedp.WaitVisible(opt))
		cancel()
		if err == nil {
			break
		}
		if attempt == 3 {
			b.t.Fatalf("open %s: the option %q did not appear after three tries\npage exceptions: %v", id, option, b.pageExceptions())
		}
		// Escape would close the drawer around the select: a click on
		// the select closes an open list.
		if eval[bool](b, `[...document.querySelectorAll('.ant-select-dropdown')].some(e => e.getClientRects().length > 0 && !e.classList.contains('ant-select-dropdown-hidden'))`) {
			b.do("close "+id, chromedp.Click(sel, chromedp.NodeVisible))
		}
	}
	b.waitStill()
	b.do("pick "+option, chromedp.Click(opt, chromedp.NodeVisible))
	b.waitFor(id+" to show "+option, fmt.Sprintf(`(document.querySelector('[data-testid=%q]')?.closest('.ant-select, .ant-form-item')?.textContent ?? document.querySelector('[data-testid=%q]')?.textContent ?? '').includes(%s)`,
		id, id, jsString(option)))
}

// TestRegistryConsole drives the registry pages in Chromium: a unit's
// administrator fills in a camera file through the form (a prohibited place
// is refused with the server's Chinese explanation, REG-6), sees its
// completeness (REG-1), submits the filing of the camera's system (REG-3);
// a district police officer sees it pending, accepts it, and the unit drops
// out of the overdue list.
func TestRegistryConsole(t *testing.T) {
	start := time.Now()
	a := startVigil(t)
	admin := signInAPI(t, a.URL(), "admin", adminPassword)
	root := admin.rootUnit()
	sfx := fmt.Sprint(time.Now().UnixNano() % 100000)
	district := admin.id("/api/v1/units", map[string]any{"name": "江岸区" + sfx, "kind": "admin_department", "parent_id": root, "division": "420102"})
	school := "江岸区实验小学" + sfx
	schoolID := admin.id("/api/v1/units", map[string]any{"name": school, "kind": "building_unit", "parent_id": district, "division": "420102"})
	police := admin.id("/api/v1/units", map[string]any{"name": "江岸区公安分局" + sfx, "kind": "police", "parent_id": root, "division": "420102"})
	admin.newUser("police"+sfx, "王警官", police, "unit_admin", district, "Police-Passw0rd-88")
	system := "校园视频监控系统" + sfx
	admin.id("/api/v1/systems", map[string]any{"unit_id": schoolID, "name": system, "in_use_on": "2025-01-02", "retention_days": 90})
	var prof struct {
		Privacy struct {
			ProhibitedPlaces map[string]struct{ Value bool } `json:"prohibited_places"`
		} `json:"privacy"`
	}
	admin.do("GET", "/api/v1/profile", nil, &prof)
	if !prof.Privacy.ProhibitedPlaces["toilet"].Value {
		t.Fatalf("the active profile does not prohibit toilets; the test needs a prohibited place type")
	}

	b := newBrowser(t, "zh-CN")
	signInAs(b, a.URL(), "admin", adminPassword, "nav-cameras")
	const code = "42010200001310000001"
	b.click("nav-cameras")
	b.click("camera-new")
	b.typeInto("camera-form-code", code)
	b.typeInto("camera-form-name", "东门入口")
	b.pick("camera-form-unit", "", school)
	b.pick("camera-form-type", "", "固定枪机")
	b.typeInto("camera-form-vendor", "海康威视")
	b.typeInto("camera-form-model", "DS-2CD3T47")
	b.typeInto("camera-form-lat", "30.5928")
	b.typeInto("camera-form-lon", "114.3055")
	b.typeInto("camera-form-address", "江岸区胜利街 1 号东门")
	b.typeInto("camera-form-azimuth", "90")
	b.typeInto("camera-form-fov", "60")
	b.typeInto("camera-form-range", "40")
	b.pick("camera-form-place", "卫生间", "卫生间（禁止安装）")
	b.pick("camera-form-system", "", system)
	b.pick("camera-form-transport", "", "TCP") // transport per camera (MED-1)
	b.typeInto("camera-form-contact", "李老师")
	b.typeInto("camera-form-phone", "027-82800000")
	b.click("camera-submit")
	// REG-6: refused, with the rule and the place in the server's words.
	b.waitFor("the refusal", `(document.querySelector('[data-testid="camera-form-error"]')?.textContent ?? '').includes('不得在卫生间')`)
	if msg := eval[string](b, `document.querySelector('[data-testid="camera-form-error"]').textContent`); !strings.Contains(msg, "REG-6") {
		t.Errorf("the refusal reads %q, want the rule REG-6 named", msg)
	}
	b.screenshot("registry-prohibited")
	b.pick("camera-form-place", "学校", "学校、幼儿园、教育机构")
	b.click("camera-submit")
	b.waitFor("the camera in the list", fmt.Sprintf(`[...document.querySelectorAll('[data-testid="camera-code"]')].some(e => e.textContent === %q)`, code))
	pct := eval[string](b, fmt.Sprintf(`document.querySelector('[data-testid="camera-completeness-%s"]').textContent`, code))
	if !strings.HasSuffix(pct, "%") || pct == "0%" || pct == "100%" {
		t.Errorf("completeness of the new file reads %q, want a partial percentage", pct)
	}
	// MED-1: the transport chosen in the form is the camera's; the list
	// shows its ingest state (not pulled: it has no stream URL).
	var cams struct {
		Cameras []struct{ Code, Transport string }
	}
	admin.do("GET", "/api/v1/cameras?q="+code, nil, &cams)
	if len(cams.Cameras) != 1 || cams.Cameras[0].Transport != "tcp" {
		t.Errorf("camera after the form: %+v, want transport tcp", cams.Cameras)
	}
	b.waitFor("the ingest state", fmt.Sprintf(`document.querySelector('[data-testid="camera-ingest-%s"]')?.dataset.state === 'idle'`, code))
	// The stored file shows its position in GCJ-02 as well (REG-1).
	b.waitFor("the form to close", `!document.querySelector('.ant-drawer-open')`)
	b.waitStill()
	b.click("camera-edit-" + code)
	b.waitFor("the GCJ-02 position", `/^30\.\d{6}, 114\.\d{6}$/.test(document.querySelector('[data-testid="camera-form-gcj02"]')?.textContent ?? '')`)
	if g := eval[string](b, `document.querySelector('[data-testid="camera-form-gcj02"]').textContent`); g == "30.592800, 114.305500" {
		t.Errorf("GCJ-02 position %q equals the WGS-84 one", g)
	}
	b.waitStill()
	b.screenshot("registry-camera")
	b.do("close the form", chromedp.Click(chromedp.CSS(".ant-drawer-open .ant-drawer-close"), chromedp.NodeVisible))
	b.waitFor("the drawer to close", `!document.querySelector('.ant-drawer-open')`)
	b.waitStill()

	// Coverage (REG-8): the camera's sector is drawn; the same sector
	// planned again is fully covered and flagged.
	b.click("nav-coverage")
	b.waitFor("the sector", `document.querySelectorAll('[data-testid="coverage-sector"]').length === 1`)
	b.typeInto("coverage-lat", "30.5928")
	b.typeInto("coverage-lon", "114.3055")
	b.replaceText("coverage-azimuth", "90")
	b.replaceText("coverage-fov", "60")
	b.replaceText("coverage-range", "40")
	b.click("coverage-check")
	b.waitFor("the overlap", `document.querySelector('[data-testid="coverage-result"]')?.dataset.flagged === 'true' && !!document.querySelector('[data-testid="coverage-planned"]')`)
	if share := eval[string](b, `document.querySelector('[data-testid="coverage-result"] .ant-statistic-content').textContent`); !strings.HasPrefix(share, "9") && !strings.HasPrefix(share, "100") {
		t.Errorf("the same sector planned again is covered %s, want about 100%%", share)
	}
	b.screenshot("registry-coverage")

	// The system went into use long ago and has no filing: it is overdue.
	b.click("nav-filings")
	b.click("tab-filing-overdue")
	b.waitFor("the overdue system", fmt.Sprintf(`[...document.querySelectorAll('[data-testid="overdue-system"]')].some(e => e.textContent === %q)`, system))
	b.screenshot("registry-overdue-before")
	b.click("tab-filing-submit")
	b.waitStill()
	b.click("filing-submit-" + system)
	b.waitStill()
	b.click("filing-form-submit")
	b.waitModalsClosed()
	b.do("the filing is submitted", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-testid=%q][data-state="submitted"]`, "filing-latest-"+system))))
	b.screenshot("registry-filing-submitted")
	b.click("sign-out")

	// The district police: the filing is pending in their overdue view, they accept it.
	signInAs(b, a.URL(), "police"+sfx, "Police-Passw0rd-88", "nav-filings")
	b.click("nav-filings")
	b.click("tab-filing-overdue")
	b.waitStill()
	b.click("overdue-all")
	b.waitFor("the switch to be on", `document.querySelector('[data-testid="overdue-all"]')?.getAttribute('aria-checked') === 'true'`)
	b.waitFor("the pending system", fmt.Sprintf(`[...document.querySelectorAll('[data-testid="overdue-system"]')].some(e => e.textContent === %q && e.closest('tr').textContent.includes('待审核'))`, system))
	b.click("tab-filing-inbox")
	b.click("filing-accept-" + system)
	b.waitFor("the inbox to empty", fmt.Sprintf(`![...document.querySelectorAll('[data-testid="filing-inbox-system"]')].some(e => e.textContent === %q)`, system))
	b.click("tab-filing-overdue")
	b.waitStill()
	b.click("overdue-all")
	b.waitFor("the switch to be on", `document.querySelector('[data-testid="overdue-all"]')?.getAttribute('aria-checked') === 'true'`)
	b.waitFor("the overdue list to load", `!document.querySelector('[data-testid="overdue-table"] .ant-spin-spinning')`)
	b.waitFor("the system to leave the list", fmt.Sprintf(`![...document.querySelectorAll('[data-testid="overdue-system"]')].some(e => e.textContent === %q)`, system))
	b.screenshot("registry-overdue-after")
	var due struct {
		Systems []struct {
			SystemName string `json:"system_name"`
		} `json:"systems"`
	}
	admin.do("GET", "/api/v1/filings/overdue?all=true", nil, &due)
	for _, s := range due.Systems {
		if s.SystemName == system {
			t.Errorf("after acceptance %s is still due", system)
		}
	}
	if ex := b.pageExceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page:\n%s", strings.Join(ex, "\n"))
	}
	t.Logf("registry flow took %v", time.Since(start).Round(time.Millisecond))
}
