# Vigil — the two commands of the README are `make run` and `make test`.
# Both install what is missing on a fresh Debian machine and are idempotent.

SHELL := /bin/bash
GO ?= go
# The Go toolchain that builds and tests Vigil: go1.27.3, whose standard
# library has none of the vulnerabilities that govulncheck finds reachable
# with go1.26.8 (AUD-3). The go command fetches it once through the module
# proxy; GOTOOLCHAIN=local make … uses the installed Go instead.
export GOTOOLCHAIN ?= go1.27.3
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X vigil/internal/app.Version=$(VERSION)
FUZZTIME ?= 5s
WEB_SRC := $(shell find web/src web/public web/scripts web/index.html web/package.json web/package-lock.json web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)

.PHONY: run test build sbom vulncheck deps deps-run web vet fuzz bench clean

DEMO ?= 4

## run: install what is missing, build, and serve Vigil at 127.0.0.1:8080 with DEMO simulated cameras recorded.
run: deps-run build
	./bin/vigil serve --demo $(DEMO) $(ARGS)

## test: install the test peers (PostgreSQL, ffmpeg, VLC, GStreamer, Chromium), then vet, check known vulnerabilities, test on SQLite and PostgreSQL, and fuzz briefly.
test: deps build
	@set -euo pipefail; \
	echo "== go vet"; $(GO) vet ./...; \
	GO=$(GO) scripts/vulncheck.sh; \
	dsn=$$(scripts/test-postgres.sh start); \
	trap 'scripts/test-postgres.sh stop' EXIT; \
	echo "== go test (SQLite and PostgreSQL)"; \
	VIGIL_TEST_POSTGRES="$$dsn" $(GO) test -p 2 -timeout 30m ./...; \
	echo "== fuzz ($(FUZZTIME) each)"; FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## build: the binary (console embedded) and its SBOMs, bin/vigil.cdx.json and bin/console.cdx.json (CycloneDX, AUD-3).
build: web/dist/index.html
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/vigil ./cmd/vigil
	@$(MAKE) --no-print-directory sbom

sbom:
	$(GO) run ./scripts/sbom go bin/vigil > bin/vigil.cdx.json.tmp && mv bin/vigil.cdx.json.tmp bin/vigil.cdx.json
	$(GO) run ./scripts/sbom npm web/package-lock.json > bin/console.cdx.json.tmp && mv bin/console.cdx.json.tmp bin/console.cdx.json

## vulncheck: known vulnerabilities of the Go modules and standard library (govulncheck) and of the console's npm packages (npm audit).
vulncheck:
	GO=$(GO) scripts/vulncheck.sh

web: web/dist/index.html

web/dist/index.html: $(WEB_SRC)
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

## deps-run: what `make run` needs: Go (present) and Node.js for the console.
deps-run:
	@scripts/deps.sh run

## deps: everything the tests need.
deps:
	@scripts/deps.sh test

vet:
	$(GO) vet ./...

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

clean:
	rm -rf bin web/dist/assets web/dist/index.html
