#!/usr/bin/env bash
# `make run`: the main job on embedded defaults. Grows with each program (see README).
# One function per stage; each prints what it does. Work goes to var/run/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${K2_BIN:-$(swift build -c release --show-bin-path)}
RUN=var/run
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
# warehouse with the embedded SQLite catalog; a second run of the same command finds nothing left to do.
stage_backfill_iceberg() {
    local catalog=sqlite:$RUN/catalog.db warehouse=$RUN/warehouse
    for exchange in binance kraken; do
        for style in spark flink; do
            local table=market_data.bronze_${exchange}_trades
            [ "$style" = flink ] && table=${table}_flink
            echo "== stage 4: k2-replay --from kafka://…/market.crypto.trades.$exchange.raw --to iceberg --style $style --table $table"
            "$BIN/k2-replay" --from "kafka://$BOOTSTRAP/market.crypto.trades.$exchange.raw" --to iceberg \
                --catalog "$catalog" --warehouse "$warehouse" --table "$table" --style "$style" --create --until-end \
                --commit-rows 500 --quiet --json
            echo
        done
    done
    echo "-- rerun of the last backfill (resumes from the k2.replay.* snapshot keys: nothing to write)"
    "$BIN/k2-replay" --from "kafka://$BOOTSTRAP/market.crypto.trades.kraken.raw" --to iceberg \
        --catalog "$catalog" --warehouse "$warehouse" --table market_data.bronze_kraken_trades_flink --style flink \
        --until-end --commit-rows 500 --quiet --json
    echo
    echo "-- the exchange log straight into a Spark-style table (offsets null, partition by K2's partitioner)"
    "$BIN/k2-replay" --from "$RUN/log" --to iceberg --catalog "$catalog" --warehouse "$warehouse" \
        --table market_data.bronze_binance_trades_from_log --style spark --create --source binance \
        --schema-id binance=1,kraken=2 --quiet --json
    echo
}

# Stage 5: parity of the two Bronze tables against each other and against Kafka, payloads included.
stage_verify() {
    local status=0
    for exchange in binance kraken; do
        echo "== stage 5: k2-verify market_data.bronze_${exchange}_trades vs _flink, truth Kafka, --payload"
        "$BIN/k2-verify" --catalog "sqlite:$RUN/catalog.db" \
            --left "market_data.bronze_${exchange}_trades" --right "market_data.bronze_${exchange}_trades_flink" \
            --truth "kafka://$BOOTSTRAP/market.crypto.trades.$exchange.raw" --payload || status=$?
    done
    return $status
}

stage_segment_log
stage_kafka
stage_replay_to_kafka
stage_backfill_iceberg
stage_verify
