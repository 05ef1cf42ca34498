#!/usr/bin/env bash
# Installs what k2-backfill needs on a Debian machine, idempotently:
#   - Debian packages (C libraries we link, CLI peers used by tests and benchmarks, PostgreSQL, Chromium)
#   - a Python venv under .venv with the independent checkers (pyiceberg, pyarrow, duckdb, kafka-python, ...)
# Safe to run again: it only installs what is missing. Set K2_SKIP_SETUP=1 to skip entirely.
set -euo pipefail
[ "${K2_SKIP_SETUP:-0}" = 1 ] && exit 0
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  librdkafka-dev libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev libsqlite3-dev
  kafkacat zstd lz4 postgresql chromium openjdk-17-jre-headless
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian ships kcat as the 'kafkacat' package; expose it under both names.
if ! command -v kcat >/dev/null && command -v kafkacat >/dev/null; then
  ln -sf "$(command -v kafkacat)" /usr/local/bin/kcat 2>/dev/null || true
fi

# Python checkers. The requirements file is the single list; its hash marks the venv as current.
REQ=scripts/requirements-checkers.txt
STAMP=.venv/.k2-requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  echo "setup: preparing Python venv .venv (independent checkers)" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r "$REQ"
  echo "$want" > "$STAMP"
fi

# Java Iceberg 1.10 through Spark 3.5 in a venv of its own (.venv-spark): the engine K2's Bronze jobs run.
bash scripts/setup-spark.sh
