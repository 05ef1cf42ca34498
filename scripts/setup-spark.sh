#!/usr/bin/env bash
# Installs Java Iceberg 1.10.2 on Spark 3.5 as an offline test peer (driven by scripts/spark_peer.py), idempotently:
#   - Debian jars: jarjar (to relocate Jackson), SQLite and PostgreSQL JDBC drivers (Iceberg's JdbcCatalog)
#   - .venv-spark: pyspark 3.5.8 plus the jar-only wheel holding iceberg-spark-runtime-3.5_2.12-1.10.2.jar.
#     Separate from .venv, whose pyspark 4 cannot load a Spark 3.5 runtime.
#   - .venv-spark/k2-jars/iceberg-shaded-jackson.jar: that runtime jar lacks Iceberg's relocated Jackson
#     (org.apache.iceberg.shaded.com.fasterxml.jackson.*), so the first CREATE TABLE fails with
#     NoClassDefFoundError. We rebuild those classes from pyspark's own Jackson 2.15 jars.
# Quiet and quick when already done (a stamp file records the inputs). Set K2_SKIP_SETUP=1 to skip entirely.
set -euo pipefail
[ "${K2_SKIP_SETUP:-0}" = 1 ] && exit 0
cd "$(dirname "$0")/.."

VENV=.venv-spark
PIP_PACKAGES=(pyspark==3.5.8 snowpark-connect-deps-iceberg==1.0.3)
APT_PACKAGES=(openjdk-17-jre-headless libjarjar-java libxerial-sqlite-jdbc-java libpostgresql-jdbc-java)
JARS="$VENV/k2-jars"
SHADED="$JARS/iceberg-shaded-jackson.jar"
STAMP="$VENV/.k2-spark-setup"
# Bump the trailing version when the build steps below change, so existing venvs are redone.
want="${PIP_PACKAGES[*]} ${APT_PACKAGES[*]} shaded-jackson-v2"

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -s "$SHADED" ]; then
  exit 0  # fast path: nothing to do, print nothing
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-spark: installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ] || [ ! -x "$VENV/bin/python" ]; then
  echo "setup-spark: preparing $VENV (pyspark 3.5 + Iceberg 1.10.2 runtime)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
  rm -f "$SHADED"
fi

if [ ! -s "$SHADED" ]; then
  echo "setup-spark: building $SHADED" >&2
  py="$PWD/$VENV/bin/python"
  site=$("$py" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
  jarjar=$(ls /usr/share/java/jarjar.jar /usr/share/java/jarjar-*.jar 2>/dev/null | head -n1)
  [ -n "$jarjar" ] || { echo "setup-spark: jarjar.jar not found under /usr/share/java" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/classes" "$JARS"
  for name in jackson-core jackson-databind jackson-annotations; do
    jar=$(ls "$site"/jars/"$name"-2.*.jar 2>/dev/null | head -n1)
    [ -n "$jar" ] || { echo "setup-spark: $name-2.*.jar not found in $site/jars" >&2; exit 1; }
    "$py" -m zipfile -e "$jar" "$work/classes"
  done
  # Multi-release and JPMS entries would keep the unrelocated package names; the runtime does not need them.
  # Service files would advertise relocated classes under Spark's own (unrelocated) Jackson interfaces.
  rm -rf "$work/classes/META-INF/versions" "$work/classes/module-info.class" \
    "$work/classes/META-INF/services" "$work/classes/META-INF/maven"
  (cd "$work/classes" && "$py" -m zipfile -c ../merged.jar .)
  echo 'rule com.fasterxml.jackson.** org.apache.iceberg.shaded.com.fasterxml.jackson.@1' > "$work/rules.txt"
  java -jar "$jarjar" process "$work/rules.txt" "$work/merged.jar" "$work/shaded.jar"
  mv "$work/shaded.jar" "$SHADED"
fi

echo "$want" > "$STAMP"
