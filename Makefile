# k2-backfill. `make run` and `make test` install what they need (scripts/setup.sh, idempotent).
SWIFT ?= swift
SWIFT_TEST_FLAGS ?=

.PHONY: setup build release test run bench clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# The whole test suite: Swift unit and integration tests (which start embedded Kafka, PostgreSQL,
# the exchange simulator and moto_server on loopback themselves) read back by the independent checkers.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build $(SWIFT_TEST_FLAGS)

# The main job on embedded defaults, ending in a parity report.
run: release
	@bash scripts/run.sh

# Benchmarks side by side with their peers; results go to docs/benchmarks.md.
bench: release
	@bash scripts/bench.sh

clean:
	rm -rf .build var
