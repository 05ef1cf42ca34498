# k2-backfill. `make run` and `make test` install what they need (scripts/setup.sh, idempotent).
SWIFT ?= swift
SWIFT_TEST_FLAGS ?=

.PHONY: setup build release test run bench fuzz clean

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

# libFuzzer targets (Fuzz/, docs/reliability.md "Fuzzing"): each runs FUZZ_SECONDS (600), FUZZ_JOBS (2) at a
# time; corpora and crashes under var/fuzz/<target>/; fails when any target finds a crash, timeout or OOM.
FUZZ_SECONDS ?= 600
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash Fuzz/run.sh

clean:
	rm -rf .build var
