#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets (K2_FUZZ=1, -sanitize=fuzzer,address, lld) and runs each for
# FUZZ_SECONDS, FUZZ_JOBS at a time, every build and run under `nice -n 19`.
#   var/fuzz/<target>/corpus/   the corpus libFuzzer grows (kept between runs)
#   var/fuzz/<target>/seeds/    seeds written by the target itself from the library's writers (-k2_seeds=)
#   var/fuzz/<target>/crashes/  crash, leak, timeout and out-of-memory inputs
#   var/fuzz/<target>/fuzz.log  libFuzzer's output; var/fuzz/summary.tsv one line per target of the last run
# Fixture seeds: fixtures/ (segments, frames, metadata) and fixtures/hostile/fuzz/<target>/ (earlier findings).
# Exit 1 when any target found something. Overridable: FUZZ_SECONDS (600), FUZZ_JOBS (2),
# FUZZ_TARGETS (all), FUZZ_RSS_MB (2048), FUZZ_MALLOC_MB (1024), FUZZ_TIMEOUT (60 s per input, wall clock),
# FUZZ_BUILD=0 (run what is built). The timeout is wall-clock time: on a shared 2-core machine at load 14-18,
# an input that needs 0.1 s of CPU took 11-14 s under nice 19, so 10 s reported starvation as hangs.
# Leak detection is off: Foundation's FileManager.contents(atPath:) of an empty file leaks 4 KiB per call
# (swift-foundation, not this code), which LeakSanitizer would report on every empty input; growth is still
# bounded by the RSS limit.
set -uo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-600}
JOBS=${FUZZ_JOBS:-2}
RSS_MB=${FUZZ_RSS_MB:-2048}
MALLOC_MB=${FUZZ_MALLOC_MB:-1024}
TIMEOUT=${FUZZ_TIMEOUT:-60}
ALL="fuzz-segment-log fuzz-segment-meta fuzz-exchange-frames fuzz-avro fuzz-parquet fuzz-iceberg-metadata fuzz-confluent-value fuzz-cli-values"
TARGETS=${FUZZ_TARGETS:-$ALL}
SCRATCH=.build-fuzz
BUILD_FLAGS=(--scratch-path "$SCRATCH" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)

for target in $TARGETS; do
    [ "${FUZZ_BUILD:-1}" = 0 ] && break
    echo "== building $target"
    K2_FUZZ=1 nice -n 19 swift build "${BUILD_FLAGS[@]}" --product "$target" || { echo "build of $target failed"; exit 2; }
done
BIN=$SCRATCH/debug

# Fixture files that are inputs of a target, one file per input (JSON lines split into one frame each).
fixture_seeds() {
    local target=$1 dir=$2
    case $target in
        fuzz-segment-log) cp fixtures/hostile/*.k2seg "$dir"/ ;;
        fuzz-segment-meta) cp fixtures/hostile/compaction-intent-*.json fixtures/hostile/sequences-high-water-*.json "$dir"/ ;;
        fuzz-exchange-frames)
            for f in fixtures/binance/*.jsonl fixtures/kraken/*.jsonl; do
                split -l 1 -a 4 "$f" "$dir/$(basename "$f" .jsonl)-"
            done
            # One frame per line, without the line's newline (frames arrive without one).
            for f in "$dir"/*; do printf '%s' "$(cat "$f")" > "$f"; done
            cp fixtures/hostile/binance-frame-*.json "$dir"/ ;;
        fuzz-iceberg-metadata) cp fixtures/hostile/metadata-*.json "$dir"/ ;;
    esac
}

run_target() {
    local target=$1 out=var/fuzz/$1
    mkdir -p "$out/corpus" "$out/crashes"
    rm -rf "$out/seeds" && mkdir -p "$out/seeds"
    ASAN_OPTIONS=detect_leaks=0 "$BIN/$target" -k2_seeds="$out/seeds" > /dev/null || { echo "$target: seeds failed" > "$out/fuzz.log"; return 1; }
    fixture_seeds "$target" "$out/seeds"
    local dirs=("$out/corpus" "$out/seeds")
    [ -d "fixtures/hostile/fuzz/$target" ] && dirs+=("fixtures/hostile/fuzz/$target")
    local started=$(date +%s)
    ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no nice -n 19 "$BIN/$target" \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$MALLOC_MB" -timeout="$TIMEOUT" \
        -max_len=65536 -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$out/crashes/" "${dirs[@]}" > "$out/fuzz.log" 2>&1
    local status=$? ended=$(date +%s)
    local execs cov corpus findings
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz.log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$out/fuzz.log" | tail -1 | grep -o '[0-9]*')
    corpus=$(ls "$out/corpus" | wc -l)
    findings=$(ls "$out/crashes" | wc -l)
    printf '%s\t%s\t%ss\t%s\t%s\t%s\t%s\n' "$target" "$status" "$((ended - started))" "${execs:-?}" "${cov:-?}" "$corpus" "$findings" > "$out/result.tsv"
    [ "$status" -eq 0 ] && [ "$findings" -eq 0 ]
}

mkdir -p var/fuzz
echo "== fuzzing ($SECONDS_PER_TARGET s per target, $JOBS at a time, rss ${RSS_MB} MB, malloc ${MALLOC_MB} MB, timeout ${TIMEOUT} s)"
failed=0
running=0
pids=()
for target in $TARGETS; do
    echo "   $target -> var/fuzz/$target/fuzz.log"
    run_target "$target" &
    pids+=($!)
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done
{
    printf 'target\texit\ttime\texecs\tcov\tcorpus\tfindings\n'
    for target in $TARGETS; do cat "var/fuzz/$target/result.tsv" 2>/dev/null || printf '%s\tno result\n' "$target"; done
} > var/fuzz/summary.tsv
column -t -s $'\t' var/fuzz/summary.tsv
if [ "$failed" -ne 0 ]; then
    echo "fuzz: FINDINGS (or a failed run): see var/fuzz/<target>/crashes/ and fuzz.log"
    exit 1
fi
echo "fuzz: no findings"
