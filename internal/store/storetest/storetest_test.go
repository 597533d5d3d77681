package storetest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestHelperPostgresDSN is run as a child process by TestPostgresWithoutServer.
func TestHelperPostgresDSN(t *testing.T) {
	if os.Getenv("STORETEST_CHILD") != "1" {
		t.Skip("helper: run by TestPostgresWithoutServer")
	}
	storetest.DSN(t, store.Postgres)
	t.Log("DSN returned")
}

func runChild(t *testing.T, sqliteOnly string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPostgresDSN$", "-test.v")
	env := []string{"STORETEST_CHILD=1"}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, storetest.EnvPostgres+"=") && !strings.HasPrefix(e, storetest.EnvSQLiteOnly+"=") {
			env = append(env, e)
		}
	}
	if sqliteOnly != "" {
		env = append(env, storetest.EnvSQLiteOnly+"="+sqliteOnly)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Without VIGIL_TEST_POSTGRES a PostgreSQL test fails with a message naming
// both variables; with VIGIL_TEST_SQLITE_ONLY=1 it is skipped and the run
// says so loudly — never a silent pass.
func TestPostgresWithoutServer(t *testing.T) {
	out, err := runChild(t, "")
	if err == nil || !strings.Contains(out, storetest.EnvPostgres+" is not set") || !strings.Contains(out, storetest.EnvSQLiteOnly+"=1") {
		t.Fatalf("without a server and without %s: want a failure naming both variables, got err=%v\n%s", storetest.EnvSQLiteOnly, err, out)
	}
	out, err = runChild(t, "1")
	if err != nil || !strings.Contains(out, "--- SKIP: TestHelperPostgresDSN") || !strings.Contains(out, storetest.SkippedBanner) {
		t.Fatalf("with %s=1: want a loud skip, got err=%v\n%s", storetest.EnvSQLiteOnly, err, out)
	}
	if strings.Contains(out, "DSN returned") {
		t.Fatal("the helper went on past DSN")
	}
}
