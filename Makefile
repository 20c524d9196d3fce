# Herald — common tasks. `make help` lists them.
GO      ?= go
BIN     ?= ./bin/herald
PKGS    ?= ./...

.PHONY: help run test build fmt lint

help: ## list targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

run: ## start Herald on http://127.0.0.1:8080 with the demo tenant (data in ./data)
	$(GO) run ./cmd/herald serve --demo

test: ## go vet, then every test with the race detector
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)

build: ## build ./bin/herald
	$(GO) build -trimpath -o $(BIN) ./cmd/herald

fmt: ## format every Go file
	gofmt -w .

lint: ## fail on unformatted files, then go vet
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
