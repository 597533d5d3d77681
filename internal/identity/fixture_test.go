package identity

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const adminPassword = "Vigil-Passw0rd"

type fixture struct {
	svc   *Service
	db    *store.DB
	log   *audit.Log
	clock *testClock
	root  Unit
	admin *policy.Subject // the system administrator
	sec   *policy.Subject // the security administrator (secadmin)
	aud   *policy.Subject // the security auditor (auditor)
}

// cheapArgon2 keeps tests fast; production uses DefaultArgon2.
var cheapArgon2 = Argon2Params{Time: 1, Memory: 1024, Threads: 1}

func newFixture(t *testing.T, db *store.DB, tweak ...func(*Options)) *fixture {
	t.Helper()
	kr := storetest.Keyring(t, keyring.Standard)
	log := audit.New(db, kr)
	t.Cleanup(log.Close)
	clock := &testClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	log.SetClock(clock.Now)
	opts := Options{Argon2: cheapArgon2, Now: clock.Now, SignInPerAddress: 1000, SignInPerUser: 1000}
	for _, f := range tweak {
		f(&opts)
	}
	svc := New(db, log, kr, opts)
	ctx := context.Background()
	created, err := svc.Bootstrap(ctx, OnePassword(adminPassword))
	if err != nil || len(created) != 3 {
		t.Fatalf("bootstrap: created=%v err=%v", created, err)
	}
	f := &fixture{svc: svc, db: db, log: log, clock: clock}
	f.admin = f.signIn(t, "admin", adminPassword)
	f.sec = f.signIn(t, "secadmin", adminPassword)
	f.aud = f.signIn(t, "auditor", adminPassword)
	units, err := svc.ListUnits(ctx, f.admin)
	if err != nil || len(units) != 1 {
		t.Fatalf("units after bootstrap: %v %v", units, err)
	}
	f.root = units[0]
	return f
}

// signIn signs in with a password and returns the session's subject.
func (f *fixture) signIn(t *testing.T, username, password string) *policy.Subject {
	t.Helper()
	sess, err := f.svc.SignIn(context.Background(), SignInInput{Username: username, Password: password, Remote: "192.0.2.1"})
	if err != nil {
		t.Fatalf("sign in %s: %v", username, err)
	}
	subj, _, err := f.svc.AuthenticateRequest(context.Background(), sess.ID, "", "192.0.2.1")
	if err != nil {
		t.Fatalf("authenticate %s: %v", username, err)
	}
	return subj
}

func (f *fixture) unit(t *testing.T, parent, name string) Unit {
	t.Helper()
	u, err := f.svc.CreateUnit(context.Background(), f.admin, UnitInput{ParentID: parent, Name: name, Kind: KindPolice, Division: "310107"})
	if err != nil {
		t.Fatalf("create unit %s: %v", name, err)
	}
	return u
}

// userPassword is the password of users made by fixture.user, after the
// change that an administrator-set password requires.
const userPassword = "Working-Pass2"

// user creates a user with the given role over its unit and returns it
// signed in, the initial password already changed as required.
func (f *fixture) user(t *testing.T, username, unitID, role string) (User, *policy.Subject) {
	t.Helper()
	ctx := context.Background()
	u, err := f.svc.CreateUser(ctx, f.admin, UserInput{Username: username, Name: "用户" + username, UnitID: unitID, Password: "Initial-Pass1"})
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	if role != "" {
		if _, err := f.svc.AddGrant(ctx, f.admin, u.ID, f.roleID(t, role), unitID); err != nil {
			t.Fatalf("grant %s to %s: %v", role, username, err)
		}
	}
	first := f.signIn(t, username, "Initial-Pass1")
	if err := f.svc.ChangePassword(ctx, first, "Initial-Pass1", userPassword, ""); err != nil {
		t.Fatalf("first password change of %s: %v", username, err)
	}
	return u, f.signIn(t, username, userPassword)
}

func (f *fixture) roleID(t *testing.T, name string) string {
	t.Helper()
	roles, err := f.svc.ListRoles(context.Background(), f.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no role %s", name)
	return ""
}

func (f *fixture) auditCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_entries`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) lastAudit(t *testing.T, action string) audit.Entry {
	t.Helper()
	es, err := f.log.List(context.Background(), audit.Filter{Action: action, Limit: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("no audit entry %s (%v)", action, err)
	}
	return es[0]
}

// code returns the problem code of err ("" if it is none).
func code(err error) string {
	if pe, ok := problem.As(err); ok {
		return pe.Code
	}
	var d *policy.DeniedError
	if errors.As(err, &d) {
		return "policy.denied"
	}
	return ""
}

func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { fn(t, newFixture(t, db)) })
}
