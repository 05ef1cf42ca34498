#!/usr/bin/env bash
# `make run`: the main job on embedded defaults. Grows with each program (see README).
# One function per stage; each prints what it does. Work goes to var/run/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${K2_BIN:-$(swift build -c release --show-bin-path)}
RUN=${K2_RUN_DIR:-var/run}   # K2_RUN_DIR: elsewhere (the test of this script uses a temporary directory)
# Idempotent: every run starts from an empty var/run (log, Kafka, warehouse and catalog are rebuilt).
rm -rf "$RUN"
mkdir -p "$RUN"

# Stage 1: the bundled fixture frames written into a segment log (as a capture records them), checked,
# compacted to zstd-9, checked again, and a few records read back.
stage_segment_log() {
    local log=$RUN/log
    rm -rf "$log"
    echo "== stage 1: segment log from the bundled fixture frames -> $log"
    "$BIN/k2-bench" write-log --out "$log" \
        fixtures/binance/combined-trades.jsonl fixtures/kraken/v1-frames.jsonl fixtures/kraken/v2-frames.jsonl
    echo "-- k2-compact $log --check"
    "$BIN/k2-compact" "$log" --check
    echo "-- k2-compact $log --all --codec zstd-9   (merge, recompress, de-duplicate)"
    "$BIN/k2-compact" "$log" --all --codec zstd-9
    "$BIN/k2-compact" "$log" --check | tail -1
    echo "-- a few records read back"
    "$BIN/k2-bench" read-log "$log" --limit 3 --source binance
    "$BIN/k2-bench" read-log "$log" --limit 3 --source kraken
    "$BIN/k2-bench" read-log "$log" --limit 3 --source kraken-v2
}

# Stage 2: an embedded Kafka cluster (librdkafka's mock, 3 brokers, K2's raw topics with 6 partitions),
# served by a background `k2-replay embedded-kafka` until this script exits.
KAFKA_PID=
stop_kafka() {
    if [ -n "$KAFKA_PID" ]; then kill "$KAFKA_PID" 2>/dev/null || true; wait "$KAFKA_PID" 2>/dev/null || true; fi
}
trap stop_kafka EXIT
stage_kafka() {
    echo "== stage 2: embedded Kafka (k2-replay embedded-kafka --brokers 3 --topic-partitions 6)"
    "$BIN/k2-replay" embedded-kafka --brokers 3 --topic-partitions 6 >"$RUN/kafka.out" 2>"$RUN/kafka.err" &
    KAFKA_PID=$!
    for _ in $(seq 1 100); do
        grep -q '^bootstrap=' "$RUN/kafka.out" 2>/dev/null && break
        sleep 0.1
    done
    BOOTSTRAP=$(sed -n 's/^bootstrap=//p' "$RUN/kafka.out" | head -1)
    if [ -z "$BOOTSTRAP" ]; then echo "embedded Kafka did not start:"; cat "$RUN/kafka.err"; exit 1; fi
    echo "   bootstrap=$BOOTSTRAP"
}

# Stage 3: the log replayed into Kafka as K2's producers would have written it (Avro v1 values).
stage_replay_to_kafka() {
    echo "== stage 3: k2-replay --from $RUN/log --to kafka --bootstrap $BOOTSTRAP"
    "$BIN/k2-replay" --from "$RUN/log" --to kafka --bootstrap "$BOOTSTRAP" --schema-id binance=1,kraken=2 --quiet --json \
        --state-dir "$RUN/state" \
        | tee "$RUN/replay-kafka.json"
    echo
}

# Stage 4: each topic backfilled from Kafka into both Bronze tables (Spark- and Flink-style) in a local
# warehouse with the embedded SQLite catalog. The Flink-style Binance table misses offsets 40-69 of partition 0
# and 60-99 of partition 3, as when its job was down while they arrived (--offsets leaves them out: every
# partition from the earliest offset, but partitions 0 and 3 only in the ranges named); a second run of the same
# command finds nothing left to do.
CATALOG=sqlite:$RUN/warehouse/catalog.db
WAREHOUSE=$RUN/warehouse
OUTAGE=earliest-,0:earliest-39,0:70-,3:earliest-59,3:100-
stage_backfill_iceberg() {
    for exchange in binance kraken; do
        for style in spark flink; do
            local table=market_data.bronze_${exchange}_trades offsets=()
            [ "$style" = flink ] && table=${table}_flink
            if [ "$style" = flink ] && [ "$exchange" = binance ]; then
                offsets=(--offsets "$OUTAGE")
                echo "== stage 4: k2-replay --from kafka://…/market.crypto.trades.$exchange.raw --to iceberg --style $style --table $table --offsets $OUTAGE"
                echo "   (the Flink job was down while offsets 40-69 of partition 0 and 60-99 of partition 3 arrived)"
            else
                echo "== stage 4: k2-replay --from kafka://…/market.crypto.trades.$exchange.raw --to iceberg --style $style --table $table"
            fi
            "$BIN/k2-replay" --from "kafka://$BOOTSTRAP/market.crypto.trades.$exchange.raw" --to iceberg \
                --catalog "$CATALOG" --warehouse "$WAREHOUSE" --table "$table" --style "$style" --create --until-end \
                "${offsets[@]}" --commit-rows 500 --quiet --json
            echo
        done
    done
    echo "-- offsets 10-29 of partition 3 backfilled into the Spark-style table a second time, as when a backfill was"
    echo "   rerun without its checkpoint: they are in that table twice now"
    "$BIN/k2-replay" --from "kafka://$BOOTSTRAP/market.crypto.trades.binance.raw" --to iceberg \
        --catalog "$CATALOG" --warehouse "$WAREHOUSE" --table market_data.bronze_binance_trades --style spark \
        --offsets 3:10-29 --quiet --json
    echo
    echo "-- rerun of the last backfill (resumes from the k2.replay.* snapshot keys: nothing to write)"
    "$BIN/k2-replay" --from "kafka://$BOOTSTRAP/market.crypto.trades.kraken.raw" --to iceberg \
        --catalog "$CATALOG" --warehouse "$WAREHOUSE" --table market_data.bronze_kraken_trades_flink --style flink \
        --until-end --commit-rows 500 --quiet --json
    echo
    echo "-- the exchange log straight into a Spark-style table (offsets null, partition by K2's partitioner)"
    "$BIN/k2-replay" --from "$RUN/log" --to iceberg --catalog "$CATALOG" --warehouse "$WAREHOUSE" \
        --table market_data.bronze_binance_trades_from_log --style spark --create --source binance \
        --schema-id binance=1,kraken=2 --quiet --json
    echo
}

# k2-verify of one exchange's two tables with Kafka as the truth, payloads compared; the JSON and HTML reports
# go to var/run/parity-<exchange>[-<suffix>].{json,html}. Prints the text report; returns k2-verify's exit code.
verify_exchange() {
    local exchange=$1 suffix=${2:-} status=0
    local report=$RUN/parity-$exchange${suffix:+-$suffix}
    "$BIN/k2-verify" --catalog "$CATALOG" \
        --left "market_data.bronze_${exchange}_trades" --right "market_data.bronze_${exchange}_trades_flink" \
        --truth "kafka://$BOOTSTRAP/market.crypto.trades.$exchange.raw" --payload --html "$report.html" >"$report.txt" || status=$?
    "$BIN/k2-verify" --catalog "$CATALOG" \
        --left "market_data.bronze_${exchange}_trades" --right "market_data.bronze_${exchange}_trades_flink" \
        --truth "kafka://$BOOTSTRAP/market.crypto.trades.$exchange.raw" --payload --json >"$report.json" || true
    cat "$report.txt"
    echo "   exit $status; reports: $report.json, $report.html"
    return $status
}

# Stage 5: parity of the two Bronze tables against each other and against Kafka. Kraken's agree; Binance's
# Flink-style table lacks the outage's offsets and its Spark-style table holds offsets 10-29 of partition 3
# twice: k2-verify reports the missing and duplicated ranges and exits 1.
stage_verify() {
    echo "== stage 5: k2-verify market_data.bronze_kraken_trades vs _flink, truth Kafka, --payload"
    verify_exchange kraken
    echo "== stage 5: k2-verify market_data.bronze_binance_trades vs _flink, truth Kafka, --payload (expect exit 1: the outage)"
    local status=0
    verify_exchange binance || status=$?
    if [ "$status" != 1 ]; then echo "k2-verify was expected to find the outage and exit 1 (got $status)"; exit 1; fi
}

# Stage 6: the repairs from that report: exactly the offsets it lists as missing in the Flink-style table, from
# Kafka (checked against the table and Kafka first): a dry run first, then the repair, then a rerun that writes
# nothing; and the extra rows of the duplicated offsets in the Spark-style table (position delete files, one row
# kept per offset). k2-verify then reports parity and exits 0.
stage_repair() {
    local table=market_data.bronze_binance_trades_flink report=$RUN/parity-binance.json
    local repair=(--from "kafka://$BOOTSTRAP/market.crypto.trades.binance.raw" --to iceberg --catalog "$CATALOG"
                  --warehouse "$WAREHOUSE" --table "$table" --style flink --repair "$report")
    echo "== stage 6: k2-replay --repair $report --table $table --dry-run"
    "$BIN/k2-replay" "${repair[@]}" --dry-run
    echo "== stage 6: k2-replay --repair $report --table $table"
    "$BIN/k2-replay" "${repair[@]}"
    echo "-- the same repair again: the table holds those offsets now, nothing is written"
    "$BIN/k2-replay" "${repair[@]}"
    echo "== stage 6: k2-replay --repair $report --table market_data.bronze_binance_trades (the duplicates)"
    "$BIN/k2-replay" --from "kafka://$BOOTSTRAP/market.crypto.trades.binance.raw" --to iceberg --catalog "$CATALOG" \
        --warehouse "$WAREHOUSE" --table market_data.bronze_binance_trades --style spark --repair "$report"
    echo "== stage 6: k2-verify market_data.bronze_binance_trades vs _flink after the repair (expect exit 0: parity)"
    verify_exchange binance repaired
}

stage_segment_log
stage_kafka
stage_replay_to_kafka
stage_backfill_iceberg
stage_verify
stage_repair
