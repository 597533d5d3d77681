package e2e

import (
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// consoleFlow is what the console test does to a running Vigil, signed in
// as an administrator. The names carry a suffix so that reruns against the
// same data directory do not collide.
type consoleFlow struct {
	base, username, password string
	unitName                 string
	newUser, newUserName     string
	newUserPassword          string
}

func newConsoleFlow(base, username, password string) consoleFlow {
	sfx := fmt.Sprint(time.Now().UnixNano() % 100000)
	return consoleFlow{
		base: base, username: username, password: password,
		unitName:    "江岸区第一中学" + sfx,
		newUser:     "zhangsan" + sfx,
		newUserName: "张三" + sfx,

		newUserPassword: "Initial-Passw0rd-42",
	}
}

// signIn opens the console, which starts on the sign-in page, and signs in.
func (f consoleFlow) signIn(b *browser) {
	b.t.Helper()
	b.do("open the console", chromedp.Navigate(f.base+"/"))
	b.waitFor("the sign-in page", `!!document.querySelector('[data-testid="signin-username"]')`)
	// The browser asks in Chinese, so the console starts in Chinese.
	b.waitText("signin-submit", "登 录") // antd spaces two CJK characters in a button
	b.waitFor("the web font to settle", `document.fonts.status === "loaded"`)
	b.screenshot("signin")
	b.typeInto("signin-username", f.username)
	// A wrong password first: the server's answer is shown, in Chinese.
	b.typeInto("signin-password", "not-the-password")
	b.click("signin-submit")
	b.waitFor("the refusal", `(document.querySelector('[data-testid="signin-error"]')?.textContent ?? '').includes('用户名或密码错误')`)
	b.replaceText("signin-password", f.password)
	b.click("signin-submit")
	b.waitText("nav-units", "单位管理")
}

// createUnit creates a unit (a school, the default kind) under the root.
func (f consoleFlow) createUnit(b *browser) {
	b.t.Helper()
	b.click("nav-units")
	b.click("unit-new")
	b.typeInto("unit-form-name", f.unitName)
	b.typeInto("unit-form-division", "420102")
	b.typeInto("unit-form-contact", "李老师")
	b.typeInto("unit-form-phone", "027-82800000")
	b.click("unit-submit")
	b.waitModalsClosed()
	b.waitFor("the new unit in the tree", fmt.Sprintf(
		`[...document.querySelectorAll('[data-testid="unit-name"]')].some(e => e.textContent === %s)`, jsString(f.unitName)))
}

// createUser creates a user in the new unit, picking the unit in the tree.
func (f consoleFlow) createUser(b *browser) {
	b.t.Helper()
	b.click("nav-users")
	b.click("user-new")
	b.typeInto("user-form-username", f.newUser)
	b.typeInto("user-form-name", f.newUserName)
	b.do("open the unit picker",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="user-form-unit"] .ant-select`)),
		chromedp.Click(chromedp.CSS(`[data-testid="user-form-unit"] .ant-select`), chromedp.NodeVisible))
	b.do("see the unit in the picker", chromedp.WaitVisible(byText(".ant-select-tree-title", f.unitName)))
	b.waitStill()
	b.do("pick the unit",
		chromedp.Click(byText(".ant-select-tree-title", f.unitName), chromedp.NodeVisible))
	b.waitFor("the unit to be picked", fmt.Sprintf(
		`(document.querySelector('[data-testid="user-form-unit"]')?.textContent ?? '').includes(%s)`, jsString(f.unitName)))
	b.typeInto("user-form-post", "安保干事")
	b.typeInto("user-form-phone", "13800138000")
	b.typeInto("user-form-id-number", "420102199003070010")
	b.typeInto("user-form-password", f.newUserPassword)
	b.typeInto("user-form-purpose", "校园安全值班监看")
	b.click("user-submit")
	b.waitModalsClosed()
	b.waitFor("the new user in the table", fmt.Sprintf(
		`[...document.querySelectorAll('[data-testid="user-username"]')].some(e => e.textContent === %s)`, jsString(f.newUser)))
	// The ID number comes back masked: the table never shows it whole.
	if body := eval[string](b, `document.body.innerText`); strings.Contains(body, "420102199003070010") || !strings.Contains(body, "420***********0010") {
		b.t.Errorf("the users table does not show the ID number masked as 420***********0010")
	}
}

// as signs out and signs in as another of the first accounts (AUD-2: the
// system administrator, the security administrator and the auditor are
// three people), waiting for the menu entry navID.
func (f consoleFlow) as(b *browser, username, navID string) {
	b.t.Helper()
	b.click("sign-out")
	b.typeInto("signin-username", username)
	b.typeInto("signin-password", f.password)
	b.click("signin-submit")
	b.do("wait for "+navID, chromedp.WaitVisible(tid(navID)))
}

// grantAuditor, as the signed-in security administrator whose sign-in is
// older than the re-authentication window, gives the new user the built-in
// auditor role over their unit in the user's grants drawer: the console
// asks for the password again and then makes the grant (AUD-2).
func (f consoleFlow) grantAuditor(b *browser) {
	b.t.Helper()
	b.click("nav-users")
	b.waitFor("the new user in the table", fmt.Sprintf(
		`[...document.querySelectorAll('[data-testid="user-username"]')].some(e => e.textContent === %s)`, jsString(f.newUser)))
	f.grantRole(b)
}

// grantRole gives the new user the built-in auditor role over their unit
// in the user's grants drawer.
func (f consoleFlow) grantRole(b *browser) {
	b.t.Helper()
	b.click("user-grants-" + f.newUser)
	b.waitFor("the grants drawer", `!!document.querySelector('.ant-drawer-open [data-testid="grant-add"]')`)
	b.waitStill()
	b.pick("grant-role", "", "审计员")
	b.click("grant-add")
	b.waitFor("the re-authentication dialog", `!!document.querySelector('[data-testid="reauth-password"]')`)
	b.typeInto("reauth-password", f.password)
	b.click("reauth-submit")
	b.waitFor("the grant in the drawer", `[...document.querySelectorAll('.ant-drawer-open [data-testid="grant-role-name"]')].some(e => e.textContent === '审计员')`)
	// The dialog's mask fades out over the drawer: a click on the drawer's
	// close button before it has gone lands on the mask instead.
	b.waitFor("the re-authentication dialog to go", `![...document.querySelectorAll('.ant-modal-mask, .ant-modal-wrap')].some(e => e.offsetParent !== null || getComputedStyle(e).display !== 'none')`)
	b.waitStill()
	b.do("close the drawer", chromedp.Click(chromedp.CSS(".ant-drawer-open .ant-drawer-close"), chromedp.NodeVisible))
	b.waitFor("the drawer to close", `!document.querySelector('.ant-drawer-open')`)
	b.waitStill()
}

// auditRow is the text of the audit rows whose action is action, joined.
func auditRows(b *browser, action string) string {
	return eval[string](b, fmt.Sprintf(
		`[...document.querySelectorAll('[data-testid="audit-action"][data-action=%s]')].map(e => e.closest('tr').innerText).join('\n')`,
		jsString(action)))
}

// checkAudit, as the auditor (who alone reads it, AUD-2), opens the audit
// log, finds the two creations with their names, and verifies the chain
// (AUD-1).
func (f consoleFlow) checkAudit(b *browser) {
	b.t.Helper()
	f.as(b, "auditor", "nav-audit")
	b.click("nav-audit")
	for _, action := range []string{"unit.create", "user.create"} {
		b.waitFor("a "+action+" entry", fmt.Sprintf(
			`!!document.querySelector('[data-testid="audit-action"][data-action=%s]')`, jsString(action)))
	}
	if rows := auditRows(b, "unit.create"); !strings.Contains(rows, f.unitName) {
		b.t.Errorf("the unit.create entries do not name %q:\n%s", f.unitName, rows)
	}
	if rows := auditRows(b, "user.create"); !strings.Contains(rows, f.newUser) && !strings.Contains(rows, f.newUserName) {
		b.t.Errorf("the user.create entries name neither %q nor %q:\n%s", f.newUser, f.newUserName, rows)
	}
	// Known actions show their translated label, not the raw name.
	if got := eval[string](b, `document.querySelector('[data-testid="audit-action"][data-action="unit.create"]').textContent`); got != "新建单位" {
		b.t.Errorf("unit.create is labelled %q, want 新建单位", got)
	}
	b.screenshot("audit")
	b.click("audit-verify")
	b.waitFor("the verification result", `!!document.querySelector('[data-testid="audit-verify-result"]')`)
	res := eval[string](b, `(() => { const e = document.querySelector('[data-testid="audit-verify-result"]'); return (e.classList.contains('ant-alert-success') ? 'OK ' : 'BAD ') + e.innerText; })()`)
	if !strings.HasPrefix(res, "OK ") || !strings.Contains(res, "日志链完整") {
		b.t.Errorf("verify chain: %q, want success", res)
	}
	b.screenshot("audit-verified")
}

// switchLanguage switches to English and back, checking the menu, the
// remembered choice and the cookie the server reads.
func (f consoleFlow) switchLanguage(b *browser) {
	b.t.Helper()
	b.click("lang-switch")
	b.waitText("nav-audit", "Audit log")
	b.waitText("nav-access", "Access registry")
	if c := eval[string](b, `document.cookie`); !strings.Contains(c, "lang=en") {
		b.t.Errorf("after switching to English the cookie is %q, want lang=en", c)
	}
	if got := eval[string](b, `localStorage.getItem('vigil.lang')`); got != "en" {
		b.t.Errorf("remembered language %q, want en", got)
	}
	// The server answers in the language of the cookie.
	const problemDetail = `fetch('/api/v1/units/no-such-unit', {credentials: 'same-origin'}).then(r => r.json()).then(j => j.detail)`
	if got := eval[string](b, problemDetail); !strings.Contains(got, "There is no unit") {
		b.t.Errorf("in English the server answered %q", got)
	}
	// The choice survives a reload.
	b.do("reload", chromedp.Reload())
	b.waitText("nav-access", "Access registry")
	b.waitText("audit-verify", "Verify chain")
	b.waitStill()
	b.screenshot("english")
	b.click("lang-switch")
	b.waitText("nav-audit", "审计日志")
	if c := eval[string](b, `document.cookie`); !strings.Contains(c, "lang=zh-CN") {
		b.t.Errorf("after switching back the cookie is %q, want lang=zh-CN", c)
	}
	if got := eval[string](b, problemDetail); !strings.Contains(got, "不存在单位") {
		b.t.Errorf("in Chinese the server answered %q", got)
	}
}

// newUserSignsIn signs out, signs in as the user the administrator created:
// the password was set by someone else, so the console asks for a new one
// first; and with the auditor role only, the menu offers the audit log, the
// access registry and the profile, nothing else (ACC-1, least privilege).
func (f consoleFlow) newUserSignsIn(b *browser) {
	b.t.Helper()
	b.click("sign-out")
	b.typeInto("signin-username", f.newUser)
	b.typeInto("signin-password", f.newUserPassword)
	b.click("signin-submit")
	b.waitFor("the request to change the password", `!!document.querySelector('[data-testid="must-change-password"]')`)
	if got := eval[string](b, `document.querySelector('[data-testid="header-user"]').textContent`); !strings.Contains(got, f.newUserName) || !strings.Contains(got, f.unitName) {
		b.t.Errorf("the header shows %q, want the user's name and unit", got)
	}
	b.typeInto("password-old", f.newUserPassword)
	b.typeInto("password-new", "Changed-Passw0rd-77")
	b.typeInto("password-confirm", "Changed-Passw0rd-77")
	b.click("password-submit")
	b.waitFor("the password to be changed", `!!document.querySelector('[data-testid="password-changed"]')`)
	b.screenshot("new-user")
	menu := eval[[]string](b, `[...document.querySelectorAll('[data-testid^="nav-"]')].map(e => e.dataset.testid)`)
	if want := "nav-audit nav-access nav-profile"; strings.Join(menu, " ") != want {
		b.t.Errorf("an auditor sees the menu %v, want %s", menu, want)
	}
}

// totpCode is the authenticator code for the step at t.
func totpCode(b *browser, secret string, at time.Time) string {
	b.t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		b.t.Fatalf("totp code: %v", err)
	}
	return code
}

// enrolTOTPAndSignInAgain turns on the authenticator for the signed-in new
// user, then signs out and in again, answering the console's request for
// the code. The sign-in code is the next step's, so that it is not the one
// already used to confirm (the server refuses reuse) and needs no wait.
func (f consoleFlow) enrolTOTPAndSignInAgain(b *browser) {
	b.t.Helper()
	b.click("totp-start")
	b.waitFor("the secret", `!!document.querySelector('[data-testid="totp-secret"]')`)
	secret := eval[string](b, `document.querySelector('[data-testid="totp-secret"]').textContent`)
	// The QR code for the authenticator app is drawn: its canvas has dark modules.
	b.waitFor("the QR code", `(() => {
		const c = document.querySelector('[data-testid="totp-qr"] canvas');
		if (!c || !c.width) return false;
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let dark = 0;
		for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] < 100) dark++;
		return dark > 200;
	})()`)
	b.typeInto("totp-code", totpCode(b, secret, time.Now()))
	b.click("totp-confirm")
	b.waitFor("two-factor to be on", `!!document.querySelector('[data-testid="totp-on"]')`)
	b.click("sign-out")
	b.typeInto("signin-username", f.newUser)
	b.typeInto("signin-password", "Changed-Passw0rd-77")
	b.click("signin-submit")
	b.typeInto("signin-totp", totpCode(b, secret, time.Now().Add(30*time.Second)))
	b.click("signin-submit")
	b.waitText("nav-audit", "审计日志")
	if got := eval[string](b, `document.querySelector('[data-testid="header-user"]').textContent`); !strings.Contains(got, f.newUserName) {
		b.t.Errorf("after the TOTP sign-in the header shows %q", got)
	}
}
