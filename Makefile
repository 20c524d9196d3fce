# Herald — common tasks. `make help` lists them.
GO      ?= go
BIN     ?= ./bin/herald
PKGS    ?= ./...
# The op package under -race takes ~10 min on 2 cores (go test's default
# limit): give every test binary room.
TEST_TIMEOUT ?= 30m

.PHONY: help run test test-faults build fmt lint bench example-spa

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

run: ## start Herald on http://127.0.0.1:8080 with the demo tenant (data in ./data)
	$(GO) run ./cmd/herald serve --demo

# The E2E suite runs four times: on SQLite (with everything else), then on
# PostgreSQL + Redis (HERALD_TEST_POSTGRES_URL, HERALD_TEST_REDIS_URL; the
# tests fail, never skip, when the servers are unreachable), then on
# PostgreSQL + a Redis Cluster and + a Sentinel group that the tests start
# themselves (redis-server and redis-cli must be installed).
test: ## go vet, every test with the race detector, then the E2E suite on PostgreSQL + Redis, Cluster, Sentinel
	# TestExampleSPA drives docs/examples/spa in Chromium: install its one
	# locked npm dependency first (a no-op when node_modules is current).
	cd docs/examples/spa && { [ -d node_modules/oidc-client-ts ] || npm ci --no-audit --no-fund; }
	$(GO) vet $(PKGS)
	$(GO) test -timeout $(TEST_TIMEOUT) -race -count=1 $(PKGS)
	# The login-timing medians (issue 10) mean nothing under -race, which
	# skips them: run them once without it.
	$(GO) test -timeout $(TEST_TIMEOUT) -count=1 -run 'TimingMedians' ./op/password/
	HERALD_E2E_STORE=postgres+redis $(GO) test -timeout $(TEST_TIMEOUT) -race -count=1 -run 'E2E' ./op/
	# The E2E suite once more on a local Redis Cluster and on a Sentinel
	# group (started by the tests; the storage contract on both runs in the
	# race run above). Without -race: Herald's code paths are those of the
	# run above, only the Redis topology differs (~2.5 min each).
	HERALD_E2E_STORE=postgres+rediscluster $(GO) test -timeout $(TEST_TIMEOUT) -count=1 -run 'E2E' ./op/
	HERALD_E2E_STORE=postgres+sentinel $(GO) test -timeout $(TEST_TIMEOUT) -count=1 -run 'E2E' ./op/

# Three herald serve replicas on a private PostgreSQL and a local Redis
# Cluster, under load while a replica, a Redis master and PostgreSQL fail
# (docs/deploy.md, "Fault test"). About 1.5 minutes.
test-faults: ## kill a replica, a Redis master and restart PostgreSQL under load; print outcomes and recovery times
	HERALD_FAULT_TEST=1 $(GO) test -timeout $(TEST_TIMEOUT) -count=1 -v -run '^TestFaults$$' ./cmd/herald/

# herald version reports these (cmd/herald/version.go).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS ?= -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# docs/examples/spa: oidc-client-ts against `make run`'s demo tenant
# (npm ci installs the one locked dependency; node_modules is not committed).
example-spa: ## serve the example single-page app on http://localhost:5173 (needs npm; start make run first)
	cd docs/examples/spa && npm ci --no-audit --no-fund && $(GO) run serve.go

build: ## build ./bin/herald
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/herald

fmt: ## format every Go file
	gofmt -w .

# staticcheck and deadcode are pinned in go.mod's tool block, so `go tool`
# fetches and builds them through the module proxy on a fresh machine (the
# first run takes a few minutes). deadcode runs with -test: the storage
# contract suite and test-only options (keys.WithClock, ...) are reached
# from tests only. It exits 0 on findings, so its output decides.
lint: ## fail on unformatted files, go vet, staticcheck or deadcode findings
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	@out="$$($(GO) tool deadcode -test $(PKGS))" || exit 1; \
	if [ -n "$$out" ]; then echo "deadcode: unreachable functions:"; echo "$$out"; exit 1; fi; \
	echo "deadcode: clean"

# The tenant-scaling Go benchmarks (issue 4) run first, three times (the
# driver compares the fastest runs); the load driver reads their output.
# Extra driver flags: make bench BENCHFLAGS="--only W3,W5".
bench: ## measure Herald on SQLite and PostgreSQL + Redis (about 7 min) and rewrite docs/benchmarks.md
	@out="$$(mktemp)"; trap 'rm -f "$$out"' EXIT; \
	$(GO) test -run '^$$' -bench 'Tenants' -benchtime 2s -count 3 ./op/ >"$$out" 2>&1 || { cat "$$out"; exit 1; }; \
	cat "$$out"; \
	$(GO) run ./cmd/herald-bench --tenant-bench "$$out" $(BENCHFLAGS)
