# k2-backfill. `make run` and `make test` install what they need (scripts/setup.sh, idempotent).
SWIFT ?= swift
SWIFT_TEST_FLAGS ?=

.PHONY: setup build release test run bench burn-in fuzz clean

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

# A short burn-in (docs/burn-in.md) on embedded defaults: a generated Binance log replayed at 2,000 msg/s for
# 2 minutes into the embedded Kafka, followed into a Spark- and a Flink-style table, checked every 45 s; the report
# goes to var/burn-in-short/report.html and report.json. BURN_IN_ARGS adds options (e.g. --rate 5000 --duration 30m).
BURN_IN_ARGS ?=
burn-in: release
	@test -d var/burn-log || .build/release/k2-replay generate-log --out var/burn-log --trades 1000000 \
	    --symbols BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT,XRPUSDT,ADAUSDT --spacing-us 200
	rm -rf var/burn-in-short
	.build/release/k2-replay burn-in --log var/burn-log --rate 2000 --duration 2m --warmup 30s --verify-every 45s \
	    --report-dir var/burn-in-short --metrics-address 127.0.0.1:0 $(BURN_IN_ARGS)

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
