# Vigil — the two commands of the README are `make run` and `make test`.
# Both install what is missing on a fresh Debian machine and are idempotent.

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X vigil/internal/app.Version=$(VERSION)
FUZZTIME ?= 5s
WEB_SRC := $(shell find web/src web/public web/scripts web/index.html web/package.json web/package-lock.json web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)

.PHONY: run test build deps deps-run web vet fuzz bench clean

DEMO ?= 4

## run: install what is missing, build, and serve Vigil at 127.0.0.1:8080 with DEMO simulated cameras recorded.
run: deps-run build
	./bin/vigil serve --demo $(DEMO) $(ARGS)

## test: install the test peers (PostgreSQL, ffmpeg, VLC, GStreamer, Chromium), then vet, test on SQLite and PostgreSQL, and fuzz briefly.
test: deps build
	@set -euo pipefail; \
	dsn=$$(scripts/test-postgres.sh start); \
	trap 'scripts/test-postgres.sh stop' EXIT; \
	echo "== go vet"; $(GO) vet ./...; \
	echo "== go test (SQLite and PostgreSQL)"; \
	VIGIL_TEST_POSTGRES="$$dsn" $(GO) test -p 2 -timeout 30m ./...; \
	echo "== fuzz ($(FUZZTIME) each)"; FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

build: web/dist/index.html
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/vigil ./cmd/vigil

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
