#!/usr/bin/env python3
"""Reads an Iceberg table through duckdb's iceberg_scan, offline, and prints one JSON object about it.

    duckdb_iceberg_read.py METADATA_JSON [--columns topic,partition,offset,raw_bytes] [--s3-endpoint http://127.0.0.1:PORT]
    duckdb_iceberg_read.py NAMESPACE.TABLE --rest http://127.0.0.1:P [--warehouse NAME] --s3-endpoint http://127.0.0.1:Q

METADATA_JSON is a table metadata file (local path, file:// URL, or s3://bucket/... with --s3-endpoint; plain
`*.metadata.json` or gzip `*.gz.metadata.json`). duckdb's iceberg, avro and httpfs extensions come from their PyPI
wheels (scripts/setup.sh) and are LOADed from site-packages: nothing is downloaded, autoinstall/autoload are off.
For S3, credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (path-style URLs, no TLS, AWS_REGION or
us-east-1).
With --rest, duckdb itself is the REST catalog client: it ATTACHes the catalog (OAuth2 client credentials = the same
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY against REST/v1/oauth/tokens, no credential vending) and reads
NAMESPACE.TABLE's current snapshot by name.

--columns names the columns to read (default: those of topic, partition, offset, raw_bytes the table has);
partition and offset are required, topic is grouped on when read, raw_bytes is hashed when read.

Output (one line of JSON):
  {"metadata": ..., "duckdb": version, "columns": [...], "rows": N,
   "partitions": [{"topic": T|null, "partition": P, "count": N, "distinct": D, "min_offset": A, "max_offset": B,
                   "offsets": [[first, last], ...],            # sorted distinct offsets as inclusive ranges
                   "duplicates": [[first, last, count], ...],  # runs of consecutive offsets each present `count` (>1) times
                   "sha256": hex}, ...],                       # only with raw_bytes: over this group's rows, as below
   "sha256": hex|null}
sorted by (topic, partition). "sha256" is SHA-256 over the lines "<partition>\\t<offset>\\t<raw_bytes lowercase hex>\\n"
of every row (duplicates included; a null raw_bytes is the text "null"), rows sorted by (partition, offset, hex).
"""
import argparse
import glob
import hashlib
import importlib.util
import json
import os
import sys
from urllib.parse import urlparse

import duckdb

DEFAULT_COLUMNS = ("topic", "partition", "offset", "raw_bytes")


def extension_path(name):
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or spec.origin is None:
        sys.exit(f"duckdb_iceberg_read: PyPI package duckdb-extension-{name} is not installed (scripts/setup.sh)")
    pattern = os.path.join(os.path.dirname(spec.origin), "extensions", f"v{duckdb.__version__}", f"{name}.duckdb_extension")
    found = glob.glob(pattern)
    if not found:
        sys.exit(f"duckdb_iceberg_read: no {name} extension for duckdb {duckdb.__version__} ({pattern})")
    return found[0]


def sql_string(text):
    return "'" + text.replace("'", "''") + "'"


def quote(ident):
    return '"' + ident.replace('"', '""') + '"'


def connect(s3_endpoint, remote):
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute("SET TimeZone = 'UTC'")
    names = ["avro", "iceberg"] + (["httpfs"] if s3_endpoint or remote else [])
    for name in names:  # avro before iceberg: iceberg reads manifests through it
        con.execute(f"LOAD {sql_string(extension_path(name))}")
    if s3_endpoint:
        url = urlparse(s3_endpoint if "://" in s3_endpoint else "http://" + s3_endpoint)
        key_id = os.environ.get("AWS_ACCESS_KEY_ID")
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not key_id or not secret:
            sys.exit("duckdb_iceberg_read: --s3-endpoint needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        con.execute(
            f"CREATE SECRET k2_s3 (TYPE s3, KEY_ID {sql_string(key_id)}, SECRET {sql_string(secret)}, "
            f"ENDPOINT {sql_string(url.netloc)}, URL_STYLE 'path', USE_SSL {'true' if url.scheme == 'https' else 'false'}, "
            f"REGION {sql_string(region)})")
    return con


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("metadata", help="table metadata JSON (path, file:// or s3:// URL); with --rest, NAMESPACE.TABLE")
    ap.add_argument("--columns", help="comma-separated columns to read (default: topic,partition,offset,raw_bytes present)")
    ap.add_argument("--s3-endpoint", help="S3 endpoint, e.g. http://127.0.0.1:8333 (credentials from AWS_* env)")
    ap.add_argument("--rest", help="Iceberg REST catalog URI: read the table named by the first argument through it")
    ap.add_argument("--warehouse", default="warehouse", help="warehouse to ATTACH with --rest (default: warehouse)")
    args = ap.parse_args()

    metadata = args.metadata
    if args.rest:
        namespace, _, table = metadata.rpartition(".")
        if not namespace:
            sys.exit("duckdb_iceberg_read: with --rest, name the table as NAMESPACE.TABLE")
        con = connect(args.s3_endpoint, remote=True)
        key_id, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not key_id or not secret:
            sys.exit("duckdb_iceberg_read: --rest needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (OAuth2 client credentials)")
        rest = args.rest.rstrip("/")
        con.execute(f"CREATE SECRET k2_rest (TYPE iceberg, CLIENT_ID {sql_string(key_id)}, CLIENT_SECRET {sql_string(secret)}, "
                    f"OAUTH2_SERVER_URI {sql_string(rest + '/v1/oauth/tokens')})")
        con.execute(f"ATTACH {sql_string(args.warehouse)} AS k2cat (TYPE iceberg, ENDPOINT {sql_string(rest)}, SECRET k2_rest, "
                    "ACCESS_DELEGATION_MODE 'none')")
        scan = f"k2cat.{quote(namespace)}.{quote(table)}"
    else:
        if metadata.startswith("file://"):
            metadata = urlparse(metadata).path
        if "://" not in metadata:
            metadata = os.path.abspath(metadata)
        con = connect(args.s3_endpoint, remote="://" in metadata)
        scan = f"iceberg_scan({sql_string(metadata)})"

    table_columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    if args.columns:
        columns = [c.strip() for c in args.columns.split(",") if c.strip()]
        missing = [c for c in columns if c not in table_columns]
        if missing:
            sys.exit(f"duckdb_iceberg_read: no column(s) {missing} in the table (it has {table_columns})")
    else:
        columns = [c for c in DEFAULT_COLUMNS if c in table_columns]
    for required in ("partition", "offset"):
        if required not in columns:
            sys.exit(f"duckdb_iceberg_read: column {required!r} must be read (have {columns})")
    topic = quote("topic") if "topic" in columns else "NULL::VARCHAR"
    extra = [quote(c) for c in columns if c not in ("topic", "partition", "offset")]
    select = ", ".join([f"{topic} AS topic", '"partition"', '"offset"'] + extra)
    # One scan into a temporary table; everything below reads it.
    con.execute(f"CREATE TEMP TABLE t AS SELECT {select} FROM {scan}")

    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    groups = {}
    for tp, p, n, d, lo, hi in con.execute(
            'SELECT topic, "partition", count(*), count(DISTINCT "offset"), min("offset"), max("offset") '
            'FROM t GROUP BY ALL ORDER BY topic NULLS FIRST, "partition" NULLS FIRST').fetchall():
        groups[(tp, p)] = {"topic": tp, "partition": p, "count": n, "distinct": d, "min_offset": lo,
                           "max_offset": hi, "offsets": [], "duplicates": []}
    # Inclusive ranges of the distinct offsets (gaps and islands).
    for tp, p, lo, hi in con.execute(
            'WITH d AS (SELECT DISTINCT topic, "partition", "offset" FROM t), '
            'g AS (SELECT *, "offset" - row_number() OVER (PARTITION BY topic, "partition" ORDER BY "offset") AS k FROM d) '
            'SELECT topic, "partition", min("offset"), max("offset") FROM g GROUP BY topic, "partition", k '
            'ORDER BY topic NULLS FIRST, "partition" NULLS FIRST, 3').fetchall():
        groups[(tp, p)]["offsets"].append([lo, hi])
    # Duplicated offsets: runs of consecutive offsets with the same number of copies.
    for tp, p, lo, hi, c in con.execute(
            'WITH d AS (SELECT topic, "partition", "offset", count(*) AS c FROM t GROUP BY ALL HAVING count(*) > 1), '
            'g AS (SELECT *, "offset" - row_number() OVER (PARTITION BY topic, "partition", c ORDER BY "offset") AS k FROM d) '
            'SELECT topic, "partition", min("offset"), max("offset"), c FROM g GROUP BY topic, "partition", c, k '
            'ORDER BY topic NULLS FIRST, "partition" NULLS FIRST, 3').fetchall():
        groups[(tp, p)]["duplicates"].append([lo, hi, c])

    digest = None
    if "raw_bytes" in columns:
        total = hashlib.sha256()
        per = {key: hashlib.sha256() for key in groups}
        cur = con.execute(
            'SELECT topic, "partition", "offset", lower(hex(raw_bytes)) AS h FROM t '
            'ORDER BY "partition" NULLS FIRST, "offset" NULLS FIRST, h NULLS FIRST, topic NULLS FIRST')
        while True:
            batch = cur.fetchmany(65536)
            if not batch:
                break
            for tp, p, o, h in batch:
                line = f"{'null' if p is None else p}\t{'null' if o is None else o}\t{'null' if h is None else h}\n".encode()
                total.update(line)
                per[(tp, p)].update(line)
        digest = total.hexdigest()
        for key, h in per.items():
            groups[key]["sha256"] = h.hexdigest()

    print(json.dumps({"metadata": args.metadata, "duckdb": duckdb.__version__, "columns": columns, "rows": rows,
                      "partitions": list(groups.values()), "sha256": digest}, separators=(",", ":")))


if __name__ == "__main__":
    try:
        main()
    except duckdb.Error as e:
        sys.exit(f"duckdb_iceberg_read: {type(e).__name__}: {e}")
