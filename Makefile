# Hookyard: the two commands a newcomer needs are `make run` and `make test`.
.PHONY: run test generate build bench lint docs

run: ## start the server on data/hookyard.db with demo data
	go run . serve --demo --db data/hookyard.db

test: ## all tests, with the race detector; the engine, handler and whole-program tests again on PostgreSQL
	go test -race -count=1 ./...
	@if [ -n "$$HOOKYARD_TEST_POSTGRES" ] || [ "$$CI" = true ]; then \
		echo "--- again on PostgreSQL ($$HOOKYARD_TEST_POSTGRES)"; \
		HOOKYARD_TEST_STORE=postgres go test -race -count=1 ./delivery/... ./handlers/... ./e2e/...; \
	else \
		echo "*** PostgreSQL tests SKIPPED: set HOOKYARD_TEST_POSTGRES=postgres://user@host:5432/db to run them ***"; \
	fi

generate: ## regenerate templ views (commit the *_templ.go files)
	go tool templ generate

build: ## a single binary in bin/
	go build -o bin/hookyard .

bench: ## print performance figures (BENCH_FLAGS='-pg postgres://… -nodes 3 -runs postgres,cluster' adds PostgreSQL and several nodes)
	go run ./bench $(BENCH_FLAGS)

lint: ## formatting, vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

docs: ## refresh the README screenshots in docs/ (needs Chromium)
	DOCS_DIR=$(CURDIR)/docs go test -count=1 -run TestBrowserFirstFiveMinutes ./e2e
