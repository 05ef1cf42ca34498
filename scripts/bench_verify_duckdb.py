"""The duckdb side of the k2-verify benchmark: the same per-partition figures k2-verify reports (rows,
distinct offsets, min/max offset, missing ranges on each side, duplicated offsets) over the same Parquet
files, reading only the partition and offset columns.

usage: bench_verify_duckdb.py FILES_JSON   (the JSON printed by bench_verify_tables.py)
Prints the result as JSON (per partition), so the benchmark can check both tools agree.
"""
import json
import sys

import duckdb

files = json.load(open(sys.argv[1]))
con = duckdb.connect()
for view, side in (("l", "left"), ("r", "right")):
    paths = ", ".join("'" + path.replace("'", "''") + "'" for path in files[side])
    con.execute(f'CREATE VIEW {view} AS SELECT "partition" AS p, "offset" AS o FROM read_parquet([{paths}])')
stats = {}
for side in ("l", "r"):
    for p, rows, distinct, lo, hi in con.execute(
            f"SELECT p, count(*), count(DISTINCT o), min(o), max(o) FROM {side} GROUP BY p").fetchall():
        stats.setdefault(p, {})[side] = dict(rows=rows, distinct=distinct, min=lo, max=hi)


def ranges(sql):
    # Gaps and islands: consecutive offsets share offset - row_number().
    out = {}
    for p, first, last in con.execute(f"""
            SELECT p, min(o), max(o) FROM (
              SELECT p, o, o - row_number() OVER (PARTITION BY p ORDER BY o) AS island FROM ({sql}))
            GROUP BY p, island ORDER BY p, 2""").fetchall():
        out.setdefault(p, []).append([first, last])
    return out


missing_in_right = ranges("SELECT DISTINCT p, o FROM l EXCEPT SELECT DISTINCT p, o FROM r")
missing_in_left = ranges("SELECT DISTINCT p, o FROM r EXCEPT SELECT DISTINCT p, o FROM l")
duplicates = {}
for side in ("l", "r"):
    for p, n in con.execute(f"SELECT p, count(*) FROM (SELECT p, o FROM {side} GROUP BY p, o HAVING count(*) > 1) GROUP BY p").fetchall():
        duplicates.setdefault(p, {})[side] = n
print(json.dumps({str(p): dict(stats[p], missing_in_left=missing_in_left.get(p, []), missing_in_right=missing_in_right.get(p, []),
                               duplicated_offsets=duplicates.get(p, {})) for p in sorted(stats)}))
