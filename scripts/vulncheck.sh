#!/usr/bin/env bash
# Known vulnerabilities (AUD-3), run by `make test`:
#  - Go: govulncheck over ./... fails when the code reaches a known
#    vulnerability of a module or of the standard library of the Go in use
#    (vulnerable code that is linked but never called is listed, not fatal).
#    The database is the Go vulnerability database: a snapshot pinned below
#    and fetched as a module through the Go module proxy (so it works where
#    only the proxy is reachable; bump VULNDB_VERSION to refresh it), or the
#    one at VIGIL_VULNDB (a URL such as file:///path or https://…).
#  - npm: `npm audit --omit=dev` of the console fails on high or critical
#    advisories of the packages the console ships.
# A database that cannot be reached fails the check with a message saying
# so; for npm, whose audit service some mirrors do not offer, it fails only
# with VIGIL_AUDIT_REQUIRED=1 (CI with access should set it) and otherwise
# says loudly that the console's packages were NOT checked.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
GOVULNCHECK_VERSION=v1.9.0
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018

step() { printf '== %s\n' "$*"; }
took() { printf '   (%ss)\n' "$(( $(date +%s) - $1 ))"; }

# --- Go -------------------------------------------------------------------
t0=$(date +%s)
db=${VIGIL_VULNDB:-}
if [[ -z "$db" ]]; then
	dir=bin/vulndb/$VULNDB_VERSION
	if [[ ! -f $dir/index/db.json ]]; then
		step "govulncheck: building the vulnerability database snapshot $VULNDB_VERSION"
		if ! src=$($GO mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p') || [[ -z "$src" ]]; then
			echo "vulncheck: cannot fetch the Go vulnerability database (golang.org/x/vulndb@$VULNDB_VERSION) through the Go module proxy." >&2
			echo "vulncheck: check the network, or set VIGIL_VULNDB to a reachable database." >&2
			exit 1
		fi
		rm -rf "$dir.tmp" && mkdir -p "$(dirname "$dir")"
		if ! (cd "$src" && $GO run ./cmd/indexdb -vulns data/osv -out "$OLDPWD/$dir.tmp"); then
			echo "vulncheck: building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION failed." >&2
			exit 1
		fi
		mv "$dir.tmp" "$dir"
	fi
	db="file://$PWD/$dir"
fi
tools=$PWD/bin/tools/govulncheck-$GOVULNCHECK_VERSION
if [[ ! -x $tools/govulncheck ]]; then
	GOBIN=$tools $GO install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
fi
govulncheck() { "$tools/govulncheck" -db "$db" "$@"; }

# The check must catch what it is for: a planted module that calls a known
# vulnerable function (golang.org/x/text v0.3.7, GO-2022-1059) must fail.
step "govulncheck: a planted reachable vulnerability is caught"
plant=$(mktemp -d)
trap 'rm -rf "$plant"' EXIT
printf 'module plant\n\ngo 1.26\n\nrequire golang.org/x/text v0.3.7\n' >"$plant/go.mod"
printf 'package main\n\nimport (\n\t"fmt"\n\t"os"\n\n\t"golang.org/x/text/language"\n)\n\nfunc main() { fmt.Println(language.ParseAcceptLanguage(os.Args[1])) }\n' >"$plant/main.go"
(cd "$plant" && $GO mod download golang.org/x/text && $GO mod tidy) >/dev/null
set +e
(cd "$plant" && govulncheck ./... >"$plant/out" 2>&1)
rc=$?
set -e
if [[ $rc != 3 ]] || ! grep -q GO-2022-1059 "$plant/out"; then
	cat "$plant/out" >&2
	echo "vulncheck: govulncheck did not report the planted vulnerability GO-2022-1059 (exit $rc): the check cannot be trusted; is the database ($db) complete?" >&2
	exit 1
fi

step "govulncheck $GOVULNCHECK_VERSION ($($GO env GOVERSION), database ${db##*/})"
set +e
govulncheck ./...
rc=$?
set -e
case $rc in
0) ;;
3)
	echo "vulncheck: the code reaches the known vulnerabilities above. Bump the module (go get MODULE@FIXED && go mod tidy) or the Go toolchain (GOTOOLCHAIN in the Makefile) to the fixed version." >&2
	exit 1 ;;
*)
	echo "vulncheck: govulncheck could not run (exit $rc): is the vulnerability database ($db) reachable?" >&2
	exit 1 ;;
esac
took "$t0"

# --- npm ------------------------------------------------------------------
t0=$(date +%s)
step "npm audit --omit=dev (console; fails on high and critical)"
set +e
(cd web && npm audit --omit=dev --json >"$OLDPWD/bin/npm-audit.json" 2>"$OLDPWD/bin/npm-audit.err")
set -e
verdict=$(node -e '
	const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8") || "{}");
	const v = r.metadata && r.metadata.vulnerabilities;
	if (!v) { console.log("unreachable " + (r.message || r.error && r.error.summary || "no answer")); process.exit(0); }
	const bad = Object.entries(r.vulnerabilities || {}).filter(([, x]) => x.severity === "high" || x.severity === "critical");
	for (const [name, x] of bad) console.error(`  ${x.severity}: ${name} ${x.range} — ${(x.via || []).map(y => y.title || y).join("; ")}`);
	console.log(bad.length ? "found " + bad.length : "ok " + JSON.stringify(v));
' bin/npm-audit.json 2>&1)
case $verdict in
ok*) echo "   no high or critical advisories: ${verdict#ok }" ;;
found*)
	echo "$verdict" >&2
	echo "vulncheck: the console ships packages with high or critical advisories (above). Update them in web/ (npm update PACKAGE, or npm audit fix --omit=dev) and commit package-lock.json." >&2
	exit 1 ;;
*)
	msg="npm audit could not reach the advisory database (${verdict#unreachable }): the console's packages were NOT checked for known vulnerabilities."
	if [[ ${VIGIL_AUDIT_REQUIRED:-} == 1 ]]; then
		echo "vulncheck: $msg" >&2
		exit 1
	fi
	echo "   WARNING: $msg Set VIGIL_AUDIT_REQUIRED=1 to make this fatal." ;;
esac
took "$t0"
