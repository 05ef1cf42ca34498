"""Java Iceberg 1.10.2 (on Spark 3.5) as a test peer: runs scenario steps in ONE Spark session.

usage: .venv-spark/bin/python scripts/spark_peer.py STEPS.json     (or the steps JSON on stdin, or '-')
Install first with scripts/setup-spark.sh (idempotent).

STEPS.json:
  {"catalog": {"name": "k2",                               # default k2 (= catalog_name in the JDBC tables)
               "uri": "jdbc:sqlite:/tmp/x/catalog.db",     # or jdbc:postgresql://127.0.0.1:PORT/DB
               "user": "...", "password": "...",           # PostgreSQL only
               "warehouse": "/tmp/x/warehouse",            # a directory or file:/ URI
               "properties": {}},                          # optional extra Iceberg catalog properties
   "namespace": "market_data",                             # default market_data
   "steps": [{"op": "create_spark_bronze", "table": "t"}, ...]}
A bare list is taken as the steps. Tables are "t", "ns.t" or "catalog.ns.t".

Ops (one function op_<name> each, below); RANGES = [{"partition": P, "first": A, "last": B}] (inclusive):
  create_spark_bronze  {table, properties?}        Spark DDL, days(ingestion_date), zstd, format v2
  create_flink_style   {table, properties?}        Java API: required columns, timestamp without zone, snappy
  append_spark_rows    {table, topic, partitions: RANGES, commits: N, days: [ISO dates], skip?: RANGES,
                        duplicate?: RANGES}         N Spark appends tagged spark.sql.streaming.queryId/epochId
  append_flink_rows    {same, new_job?}            N generic-writer appends tagged flink.job-id/operator-id/
                                                   max-committed-checkpoint-id (continuing the last job)
  sql                  {statement, limit?}         any Spark SQL / CALL; rows back as JSON
  equality_delete      {table, rows?: [{partition, offset}], ranges?: RANGES, fields?: ["partition","offset"]}
                                                   one delete file per partition holding such rows; it deletes
                                                   only rows committed before it (lower sequence number)
  position_delete_java {table, rows?, ranges?}     position deletes (file, pos) for those rows, written by Java
                       (both deletes commit as the next Flink checkpoint on a table a Flink job wrote)
  facts                {table, topic?, expected?: {"P": [A, B]}}   what Spark reads, deletes applied

The last line of stdout is one JSON object: {"ok": true, "seconds": ..., "steps": [{"op", "seconds", "result"}]}.
On failure it has "ok": false and "error", the message also goes to stderr, and the exit code is 1.
"""
import datetime as dt
import glob
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import uuid

OPS = {}
KAFKA_EPOCH_MS = 1707436800000  # 2024-02-09T00:00:00Z: kafka_timestamp = this + offset milliseconds
MAGIC = b"\x00\x00\x00\x00\x01"  # a Confluent wire-format prefix (magic 0, schema id 1) on every payload
COLUMNS = ["raw_bytes", "topic", "partition", "offset", "kafka_timestamp", "ingestion_timestamp", "ingestion_date"]


def op(fn):
    OPS[fn.__name__[3:]] = fn
    return fn


class Peer:
    """The session, the catalog and small helpers shared by the ops."""

    def __init__(self, config, scratch):
        cat = config.get("catalog", {})
        self.name = cat.get("name", "k2")
        self.namespace = config.get("namespace", "market_data")
        self.scratch = scratch
        self.spark = start_spark(self.name, cat, scratch)
        self.jvm = self.spark._jvm
        self.gateway = self.spark.sparkContext._gateway
        # Spark's own Iceberg catalog object (cache disabled in start_spark), so Java commits and Spark SQL
        # share one JDBC connection pool and always see each other's latest metadata.
        plugin = self.spark._jsparkSession.sessionState().catalogManager().catalog(self.name)
        self.catalog = plugin.icebergCatalog()
        self.sql(f"CREATE NAMESPACE IF NOT EXISTS {self.name}.{self.namespace}")

    def ident(self, table):
        parts = table.split(".")
        if len(parts) == 3 and parts[0] == self.name:
            parts = parts[1:]
        if len(parts) == 1:
            parts = [self.namespace] + parts
        return ".".join(parts)

    def sql_name(self, table):
        return f"{self.name}.{self.ident(table)}"

    def load(self, table):
        return self.catalog.loadTable(self.jvm.org.apache.iceberg.catalog.TableIdentifier.parse(self.ident(table)))

    def sql(self, statement):
        return self.spark.sql(statement).collect()

    def int_array(self, values):
        arr = self.gateway.new_array(self.jvm.int, len(values))
        for i, v in enumerate(values):
            arr[i] = v
        return arr

    def java_map(self, d):
        m = self.jvm.java.util.HashMap()
        for k, v in d.items():
            m.put(str(k), str(v))
        return m


def start_spark(name, cat, scratch):
    from pyspark.sql import SparkSession
    import snowpark_connect_deps_iceberg as wheel

    here = os.path.dirname(os.path.abspath(__file__))
    venv = os.path.dirname(os.path.dirname(sys.executable))
    runtime = glob.glob(os.path.join(os.path.dirname(wheel.__file__), "jars", "iceberg-spark-runtime-3.5_2.12-*.jar"))
    shaded = [p for p in (os.path.join(venv, "k2-jars", "iceberg-shaded-jackson.jar"),
                          os.path.join(here, "..", ".venv-spark", "k2-jars", "iceberg-shaded-jackson.jar"))
              if os.path.exists(p)]
    uri = cat.get("uri") or fail("catalog.uri is required (jdbc:sqlite:/path/catalog.db or jdbc:postgresql://...)")
    driver = "/usr/share/java/sqlite-jdbc.jar" if uri.startswith("jdbc:sqlite:") else "/usr/share/java/postgresql.jar"
    for what, found in (("Iceberg runtime jar", runtime), ("iceberg-shaded-jackson.jar", shaded),
                        (driver, [driver] if os.path.exists(driver) else [])):
        if not found:
            fail(f"{what} not found: run scripts/setup-spark.sh")
    warehouse = cat.get("warehouse") or fail("catalog.warehouse is required")
    if "://" not in warehouse and not warehouse.startswith("file:"):
        os.makedirs(warehouse, exist_ok=True)
        warehouse = os.path.abspath(warehouse)
    if uri.startswith("jdbc:sqlite:"):
        os.makedirs(os.path.dirname(os.path.abspath(uri[len("jdbc:sqlite:"):])), exist_ok=True)

    # Spark's INFO/WARN chatter goes to stderr; keeping it to errors keeps test logs readable.
    log4j = os.path.join(scratch, "log4j2.properties")
    with open(log4j, "w") as f:
        # WARN at start (a pyspark "shell" whose root level is not WARN gets a notice printed), ERROR once started.
        f.write("rootLogger.level = warn\nrootLogger.appenderRef.stderr.ref = console\n"
                "logger.native.name = org.apache.hadoop.util.NativeCodeLoader\nlogger.native.level = error\n"
                "appender.console.type = Console\nappender.console.name = console\n"
                "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
                "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n\n")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # loopback only (and no "hostname resolves to" warnings)
    os.environ["SPARK_LOCAL_DIRS"] = scratch  # shuffle/cache files (spark.local.dir would print a warning)
    c = f"spark.sql.catalog.{name}"
    b = (SparkSession.builder.master("local[2]").appName("k2-spark-peer")
         .config("spark.jars", ",".join([runtime[0], shaded[0], driver]))
         .config("spark.driver.memory", "1g")
         .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log4j}")
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.driver.host", "127.0.0.1")
         .config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.sql.warehouse.dir", os.path.join(scratch, "spark-warehouse"))
         .config("spark.sql.catalogImplementation", "in-memory")
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.default.parallelism", "2")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
         .config(c, "org.apache.iceberg.spark.SparkCatalog")
         .config(f"{c}.catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
         .config(f"{c}.uri", uri)
         .config(f"{c}.warehouse", warehouse)
         # Without this, Spark would keep serving a Table object cached before a Java-API commit.
         .config(f"{c}.cache-enabled", "false"))
    props = {"jdbc.schema-version": "V1"} if uri.startswith("jdbc:sqlite:") else {}  # the setting checked on SQLite
    props.update({f"jdbc.{k}": cat[k] for k in ("user", "password") if cat.get(k)})
    props.update(cat.get("properties") or {})  # any other Iceberg catalog property, passed through
    for k, v in props.items():
        b = b.config(f"{c}.{k}", str(v))
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def fail(message):
    raise PeerError(message)


class PeerError(Exception):
    pass


# ---------------------------------------------------------------- row plans shared by the Spark and Flink writers

def bronze_rows(peer, step):
    """DataFrame (commit + the seven Bronze columns) of what an append writes, the same for both writers.
    Offsets are cut into `commits` consecutive slices per partition (like micro-batches / checkpoints) and spread
    over `days` in order; `skip` ranges are left out; `duplicate` ranges are written a second time in the
    last commit (as a replayed batch would). Every value is a function of (topic, partition, offset, commit),
    so reruns write identical rows."""
    topic = step.get("topic", "market-data")
    commits = int(step.get("commits", 1))
    days = step.get("days") or [dt.date.today().isoformat()]
    parts = step.get("partitions") or fail("partitions is required: [{partition, first, last}]")
    frames = []
    for p in parts:
        first, last = int(p["first"]), int(p["last"])
        n = last - first + 1
        frames.append(peer.spark.range(first, last + 1).selectExpr(
            f"CAST(floor((id - {first}) * {commits} / {n}) AS INT) AS commit",
            f"{int(p['partition'])} AS partition", "id AS offset",
            f"CAST(floor((id - {first}) * {len(days)} / {n}) AS INT) AS day"))
    df = frames[0]
    for f in frames[1:]:
        df = df.unionByName(f)
    if step.get("skip"):
        df = df.where(f"NOT ({ranges_predicate(step['skip'])})")
    if step.get("duplicate"):
        again = df.where(ranges_predicate(step["duplicate"])).selectExpr(
            f"{commits - 1} AS commit", "partition", "offset", "day")
        df = df.unionByName(again)
    day = f"element_at(array({', '.join(f'DATE{chr(39)}{d}{chr(39)}' for d in days)}), day + 1)"
    return df.selectExpr(
        "commit", f"concat(X'{MAGIC.hex()}', encode(concat('{topic}', '/', partition, '/', offset), 'UTF-8'))"
        " AS raw_bytes", f"'{topic}' AS topic", "partition", "offset",
        f"timestamp_millis({KAFKA_EPOCH_MS} + offset) AS kafka_timestamp",
        # the day's midnight plus one hour per commit
        f"timestamp_millis(unix_millis(CAST({day} AS TIMESTAMP)) + commit * 3600000) AS ingestion_timestamp",
        f"{day} AS ingestion_date")


def ranges_predicate(ranges):
    return " OR ".join(f"(partition = {int(r['partition'])} AND offset BETWEEN {int(r['first'])} AND {int(r['last'])})"
                       for r in ranges)


# ---------------------------------------------------------------- ops

@op
def op_create_spark_bronze(peer, step):
    """K2's Spark Bronze DDL: nullable columns, Spark TIMESTAMP (= Iceberg timestamptz), days(ingestion_date)."""
    props = {"format-version": "2", "write.format.default": "parquet",
             "write.parquet.compression-codec": "zstd", "write.target-file-size-bytes": "134217728"}
    props.update({k: str(v) for k, v in (step.get("properties") or {}).items()})
    tbl = ", ".join(f"'{k}'='{v}'" for k, v in props.items())
    peer.sql(f"""CREATE TABLE {peer.sql_name(step['table'])} (
        raw_bytes BINARY, topic STRING, `partition` INT, `offset` BIGINT,
        kafka_timestamp TIMESTAMP, ingestion_timestamp TIMESTAMP, ingestion_date DATE)
      USING iceberg PARTITIONED BY (days(ingestion_date)) TBLPROPERTIES ({tbl})""")
    return table_info(peer, step["table"])


@op
def op_append_spark_rows(peer, step):
    """N micro-batches of a real Structured Streaming query into the table, as K2's Spark Bronze job writes:
    Iceberg's streaming sink tags each commit with spark.sql.streaming.queryId / epochId (0..N-1).
    (The batch writer's `snapshot-property.*` option cannot do it: Spark lower-cases option keys, giving
    `spark.sql.streaming.epochid`.) Each batch is staged as one Parquet file, read one file per trigger."""
    rows = bronze_rows(peer, step).cache()
    run = os.path.join(peer.scratch, f"stream-{uuid.uuid4().hex}")
    source = os.path.join(run, "source")
    os.makedirs(source)
    commits = int(step.get("commits", 1))
    for epoch in range(commits):
        staged = os.path.join(run, f"batch-{epoch}")
        rows.where(f"commit = {epoch}").drop("commit").repartition(1).sortWithinPartitions("partition", "offset") \
            .write.parquet(staged)
        name = os.path.join(source, f"batch-{epoch:06d}.parquet")
        os.rename(glob.glob(os.path.join(staged, "part-*.parquet"))[0], name)
        os.utime(name, (1e9 + epoch, 1e9 + epoch))  # the file source takes the oldest file first
    query = (peer.spark.readStream.schema(rows.drop("commit").schema).option("maxFilesPerTrigger", 1)
             .parquet(source).writeStream.format("iceberg").outputMode("append").trigger(availableNow=True)
             .option("checkpointLocation", os.path.join(run, "checkpoint")).toTable(peer.sql_name(step["table"])))
    query.awaitTermination()
    rows.unpersist()
    query_id = query.id
    out = []
    snapshots = peer.load(step["table"]).snapshots().iterator()
    while snapshots.hasNext():
        snap = snapshots.next()
        summary = snap.summary()
        if summary.get("spark.sql.streaming.queryId") == query_id:
            out.append({"epoch": int(summary.get("spark.sql.streaming.epochId")), "snapshot_id": snap.snapshotId(),
                        "rows": int(summary.get("added-records") or 0)})
    if len(out) != commits:
        fail(f"expected {commits} streaming commits, the table has {len(out)}")
    return {"query_id": query_id, "commits": sorted(out, key=lambda c: c["epoch"])}


FLINK_SCHEMA = {"type": "struct", "schema-id": 0, "fields": [
    {"id": i + 1, "name": n, "required": True, "type": t} for i, (n, t) in enumerate(zip(COLUMNS, [
        "binary", "string", "int", "long", "timestamp", "timestamp", "date"]))]}


@op
def op_create_flink_style(peer, step):
    """A table as Flink's Iceberg sink creates it: required columns, timestamps without zone, identity partition
    on ingestion_date. Made with the Java API, as Flink does, not with Spark DDL."""
    ice = peer.jvm.org.apache.iceberg
    schema = ice.SchemaParser.fromJson(json.dumps(FLINK_SCHEMA))
    spec = ice.PartitionSpec.builderFor(schema).identity("ingestion_date").build()
    props = {"format-version": "2", "write.parquet.compression-codec": "snappy",
             "write.metadata.compression-codec": "gzip", "write.metadata.previous-versions-max": "5"}
    props.update({k: str(v) for k, v in (step.get("properties") or {}).items()})
    ident = ice.catalog.TableIdentifier.parse(peer.ident(step["table"]))
    peer.catalog.createTable(ident, schema, spec, peer.java_map(props))
    return table_info(peer, step["table"])


@op
def op_append_flink_rows(peer, step):
    """Same rows as append_spark_rows, written by Iceberg's generic Parquet writer (GenericAppenderFactory) via py4j,
    one data file per day partition per commit (like a Flink checkpoint), committed with Flink's summary keys.
    A few py4j round trips per row, so keep it to thousands of rows."""
    jvm, ice = peer.jvm, peer.jvm.org.apache.iceberg
    table = peer.load(step["table"])
    schema, spec = table.schema(), table.spec()
    factory = ice.data.GenericAppenderFactory(schema, spec).setAll(table.properties())
    job_id, operator_id, checkpoint = flink_job(table, step)
    from_micros = ice.util.DateTimeUtil.timestampFromMicros
    rows = bronze_rows(peer, step).cache()
    commits = []
    for epoch in range(int(step.get("commits", 1))):
        batch = rows.where(f"commit = {epoch}").drop("commit")
        files = output_files(peer, table, epoch)
        append = table.newAppend()
        n = 0
        for (day,) in batch.select("ingestion_date").distinct().orderBy("ingestion_date").collect():
            part = batch.where(f"ingestion_date = DATE'{day}'").orderBy("partition", "offset")
            # Python needs only the timestamps; the Java rows (Long offsets, ByteBuffers) never leave the JVM,
            # because py4j would turn a java.lang.Long into a Python int and back into an Integer.
            micros = part.selectExpr("unix_micros(kafka_timestamp) AS k", "unix_micros(ingestion_timestamp) AS i",
                                     "unix_date(ingestion_date) AS d").collect()
            jrows = part._jdf.collectAsList()
            partition = partition_of(peer, spec, day)
            writer = factory.newDataWriter(files.newOutputFile(spec, partition), ice.FileFormat.PARQUET, partition)
            ingested = from_micros(micros[0].i)
            date = jvm.java.time.LocalDate.ofEpochDay(micros[0].d)
            for i, m in enumerate(micros):
                # SparkValueConverter gives Iceberg's internal longs/ints for the time columns; the generic writer
                # wants java.time values. Flink's TIMESTAMP(3) columns hold milliseconds: so do these.
                rec = ice.spark.SparkValueConverter.convert(schema, jrows.get(i))
                writer.write(rec.copy("kafka_timestamp", from_micros(m.k // 1000 * 1000),
                                      "ingestion_timestamp", ingested, "ingestion_date", date))
            writer.close()
            append.appendFile(writer.toDataFile())
            n += len(micros)
        checkpoint += 1
        flink_summary(append, job_id, operator_id, checkpoint).commit()
        commits.append({"checkpoint": checkpoint, "rows": n, "snapshot_id": table.currentSnapshot().snapshotId()})
    rows.unpersist()
    return {"job_id": job_id, "commits": commits}


def output_files(peer, table, partition_id):
    """Data/delete file names under the table's data/ and partition path. The operation id must be new on every
    call: names are {partitionId}-{taskId}-{operationId}-{count}, and a repeated name would overwrite a live file."""
    ice = peer.jvm.org.apache.iceberg
    return ice.io.OutputFileFactory.builderFor(table, partition_id, 0).format(ice.FileFormat.PARQUET) \
        .operationId(str(uuid.uuid4())).build()


def flink_job(table, step):
    """(job id, operator id, last checkpoint id) of the Flink job that wrote the table last, so further commits
    continue it as a running job would; a new job (step "new_job": true, or none yet) starts at checkpoint 0."""
    snap = table.currentSnapshot()
    while snap is not None and not step.get("new_job"):
        summary = snap.summary()
        if summary.get("flink.max-committed-checkpoint-id"):
            return (summary.get("flink.job-id"), summary.get("flink.operator-id"),
                    int(summary.get("flink.max-committed-checkpoint-id")))
        parent = snap.parentId()
        snap = table.snapshot(parent) if parent is not None else None
    return uuid.uuid4().hex, uuid.uuid4().hex, 0


def flink_summary(update, job_id, operator_id, checkpoint):
    return update.set("flink.job-id", job_id).set("flink.operator-id", operator_id) \
        .set("flink.max-committed-checkpoint-id", str(checkpoint))


def commit_delete(table, delta):
    """Commits a RowDelta; on a table a Flink job writes, as that job's next checkpoint (Flink's sink commits its
    delete files with the checkpoint's data). Returns the checkpoint id, or None."""
    job_id, operator_id, checkpoint = flink_job(table, {})
    if checkpoint == 0:
        delta.commit()
        return None
    flink_summary(delta, job_id, operator_id, checkpoint + 1).commit()
    return checkpoint + 1


def partition_of(peer, spec, day):
    """The partition tuple (Iceberg's internal values) for rows of one ingestion_date, None when unpartitioned."""
    if spec.isUnpartitioned():
        return None
    if spec.fields().size() != 1:
        fail("only single-field partition specs on ingestion_date are supported")
    field = spec.fields().get(0)
    days = (day - dt.date(1970, 1, 1)).days
    rec = peer.jvm.org.apache.iceberg.data.GenericRecord.create(spec.partitionType())
    # identity(date) and days(date) both store days since the epoch.
    if field.transform().toString() not in ("identity", "day"):
        fail(f"unsupported partition transform {field.transform().toString()}")
    rec.set(0, days)
    return rec


@op
def op_sql(peer, step):
    """Any Spark SQL (DML, CALL procedures, metadata-table queries); rows come back as JSON objects."""
    rows = peer.sql(step.get("statement") or fail("statement is required"))
    limit = int(step.get("limit", 1000))
    return {"rows": [r.asDict(recursive=True) for r in rows[:limit]], "row_count": len(rows)}


def key_rows(step):
    """[{partition, offset}, ...] from "rows" and/or "ranges" [{partition, first, last}]."""
    out = list(step.get("rows") or [])
    for r in step.get("ranges") or []:
        out += [{"partition": int(r["partition"]), "offset": o} for o in range(int(r["first"]), int(r["last"]) + 1)]
    return out or fail("rows or ranges is required")


def located(peer, step, columns):
    """The given keys as Spark reads them now (a DataFrame of `columns`), so each delete goes to the partition
    (and file) that holds the row."""
    keys = key_rows(step)
    pred = " OR ".join(f"(partition = {int(k['partition'])} AND offset = {int(k['offset'])})" for k in keys)
    return keys, peer.spark.sql(f"SELECT {', '.join(columns)} FROM {peer.sql_name(step['table'])} WHERE {pred}")


@op
def op_equality_delete(peer, step):
    """An equality delete file per partition, committed with a RowDelta as Flink's upsert sink does. It removes
    matching rows of data files with a lower data sequence number, i.e. committed before it."""
    jvm, ice = peer.jvm, peer.jvm.org.apache.iceberg
    table = peer.load(step["table"])
    schema, spec = table.schema(), table.spec()
    fields = step.get("fields") or ["partition", "offset"]
    ids = [schema.findField(f).fieldId() for f in fields]
    delete_schema = schema.select(jvm.java.util.ArrayList(fields))
    factory = ice.data.GenericAppenderFactory(schema, spec, peer.int_array(ids), delete_schema, None) \
        .setAll(table.properties())
    keys, found = located(peer, step, fields + ["ingestion_date"])
    found = found.distinct().cache()
    if found.count() == 0:
        fail("equality_delete: none of the given rows are in the table")
    files = output_files(peer, table, 0)
    delta = table.newRowDelta()
    written = []
    days = [None] if spec.isUnpartitioned() else \
        [r[0] for r in found.select("ingestion_date").distinct().orderBy("ingestion_date").collect()]
    for day in days:
        part = found if day is None else found.where(f"ingestion_date = DATE'{day}'")
        # Key rows stay in the JVM (py4j would turn Long offsets into Integers): Spark Row -> Iceberg Record.
        jrows = part.select(*fields).orderBy(*fields)._jdf.collectAsList()
        partition = partition_of(peer, spec, day) if day else None
        writer = factory.newEqDeleteWriter(files.newOutputFile(spec, partition), ice.FileFormat.PARQUET, partition)
        for i in range(jrows.size()):
            writer.write(ice.spark.SparkValueConverter.convert(delete_schema, jrows.get(i)))
        writer.close()
        delta.addDeletes(writer.toDeleteFile())
        written.append({"ingestion_date": str(day) if day else None, "keys": jrows.size()})
    found.unpersist()
    checkpoint = commit_delete(table, delta)
    return {"delete_files": written, "keys_asked": len(keys), "checkpoint": checkpoint,
            "snapshot_id": table.currentSnapshot().snapshotId()}


@op
def op_position_delete_java(peer, step):
    """Position delete files (file path + row position) written with the Java API, one per partition."""
    ice = peer.jvm.org.apache.iceberg
    table = peer.load(step["table"])
    keys, found = located(peer, step, ["ingestion_date", "_file", "_pos"])
    found = found.collect()
    if not found:
        fail("position_delete_java: none of the given rows are in the table")
    # Each data file's partition tuple, from the table's own scan (works for any spec).
    partitions = {}
    tasks = table.newScan().planFiles().iterator()
    while tasks.hasNext():
        f = tasks.next().file()
        partitions[f.location()] = f.partition()
    factory = ice.data.GenericAppenderFactory(table.schema(), table.spec()).setAll(table.properties())
    files = output_files(peer, table, 0)
    groups = {}
    for r in found:
        groups.setdefault(r.ingestion_date, []).append((r._file, r._pos))
    delta = table.newRowDelta()
    for day, positions in sorted(groups.items()):
        partition = partitions[positions[0][0]]
        writer = factory.newPosDeleteWriter(files.newOutputFile(table.spec(), partition), ice.FileFormat.PARQUET,
                                            partition)
        for path, pos in sorted(positions):  # the spec requires (file, pos) order
            writer.write(ice.deletes.PositionDelete.create().set(path, pos, None))
        writer.close()
        delta.addDeletes(writer.toDeleteFile())
    checkpoint = commit_delete(table, delta)
    return {"positions": len(found), "delete_files": len(groups), "checkpoint": checkpoint,
            "snapshot_id": table.currentSnapshot().snapshotId()}


@op
def op_facts(peer, step):
    """What Spark reads (deletes applied): per partition counts, gaps and duplicate runs; plus table state."""
    name = peer.sql_name(step["table"])
    where = f"WHERE topic = '{step['topic']}'" if step.get("topic") else ""
    peer.spark.sql(f"SELECT partition, offset FROM {name} {where}").createOrReplaceTempView("k2_rows")
    parts = {}
    for r in peer.sql("""SELECT partition, count(*) AS n, count(DISTINCT offset) AS d, min(offset) AS lo,
                                max(offset) AS hi FROM k2_rows GROUP BY partition ORDER BY partition"""):
        parts[r.partition] = {"rows": r.n, "distinct_offsets": r.d, "min_offset": r.lo, "max_offset": r.hi,
                              "missing": [], "duplicates": []}
    expected = {int(k): v for k, v in (step.get("expected") or {}).items()}
    for p, (first, last) in expected.items():
        parts.setdefault(p, {"rows": 0, "distinct_offsets": 0, "min_offset": None, "max_offset": None,
                             "missing": [], "duplicates": []})
    # Gaps: between consecutive distinct offsets, and against the expected range's ends.
    for r in peer.sql("""SELECT partition, prev + 1 AS a, offset - 1 AS b FROM (
                           SELECT partition, offset, lag(offset) OVER (PARTITION BY partition ORDER BY offset) AS prev
                           FROM (SELECT DISTINCT partition, offset FROM k2_rows))
                         WHERE offset - prev > 1 ORDER BY partition, a"""):
        parts[r.partition]["missing"].append([r.a, r.b])
    for p, (first, last) in expected.items():
        f = parts[p]
        if f["min_offset"] is None:
            f["missing"] = [[first, last]]
            continue
        f["missing"] = ([[first, f["min_offset"] - 1]] if f["min_offset"] > first else []) + \
            [[max(a, first), min(b, last)] for a, b in f["missing"] if b >= first and a <= last] + \
            ([[f["max_offset"] + 1, last]] if f["max_offset"] < last else [])
        f["outside_expected"] = peer.sql(f"""SELECT count(*) AS n FROM k2_rows WHERE partition = {p}
                                             AND (offset < {first} OR offset > {last})""")[0].n
    # Duplicates: runs of consecutive offsets that share the same count > 1 (gaps-and-islands).
    for r in peer.sql("""SELECT partition, min(offset) AS a, max(offset) AS b, c FROM (
                           SELECT partition, offset, c,
                                  offset - row_number() OVER (PARTITION BY partition, c ORDER BY offset) AS run
                           FROM (SELECT partition, offset, count(*) AS c FROM k2_rows GROUP BY partition, offset
                                 HAVING count(*) > 1))
                         GROUP BY partition, c, run ORDER BY partition, a"""):
        parts[r.partition]["duplicates"].append([r.a, r.b, r.c])
    deletes = {"position": 0, "equality": 0}
    for r in peer.sql(f"SELECT content, count(*) AS n FROM {name}.delete_files GROUP BY content"):
        deletes["position" if r.content == 1 else "equality"] += r.n
    info = table_info(peer, step["table"])
    info.update({"total_rows": sum(f["rows"] for f in parts.values()),
                 "partitions": {str(p): parts[p] for p in sorted(parts)},
                 "data_files": peer.sql(f"SELECT count(*) AS n FROM {name}.data_files")[0].n,
                 "delete_files": deletes,
                 "snapshots": peer.sql(f"SELECT count(*) AS n FROM {name}.snapshots")[0].n})
    return info


def table_info(peer, table):
    t = peer.load(table)
    snap = t.currentSnapshot()
    return {"table": peer.sql_name(table), "location": t.location(),
            "metadata_location": t.operations().current().metadataFileLocation(),
            "snapshot_id": snap.snapshotId() if snap else None,
            "sequence_number": snap.sequenceNumber() if snap else None}


# ---------------------------------------------------------------- driver

def to_json(value):
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)  # Decimal and anything else Spark hands back


def read_config(argv):
    if len(argv) > 2:
        fail("usage: spark_peer.py [STEPS.json | -]")
    text = sys.stdin.read() if len(argv) < 2 or argv[1] == "-" else open(argv[1]).read()
    try:
        config = json.loads(text)
    except ValueError as e:
        fail(f"steps JSON: {e}")
    if isinstance(config, list):
        config = {"steps": config}
    for i, s in enumerate(config.get("steps") or fail("no steps")):
        if s.get("op") not in OPS:  # checked before the ~10 s Spark start
            fail(f"step {i}: unknown op {s.get('op')!r} (known: {', '.join(sorted(OPS))})")
    return config


def main(argv):
    started = time.time()
    out = {"ok": True, "steps": []}
    peer = None
    scratch = tempfile.mkdtemp(prefix="k2-spark-peer-")  # logging config, stream staging, Spark's local dirs
    try:
        config = read_config(argv)
        peer = Peer(config, scratch)
        out["spark_start_seconds"] = round(time.time() - started, 2)
        for i, step in enumerate(config["steps"]):
            t0 = time.time()
            try:
                result = OPS[step["op"]](peer, step)
            except Exception as e:
                if not refused(e) or os.environ.get("K2_PEER_TRACE"):
                    traceback.print_exc(file=sys.stderr)  # a bug here rather than a refusal by Spark/Iceberg
                raise PeerError(f"step {i} ({step['op']}): {describe(e)}") from e
            out["steps"].append({"op": step["op"], "seconds": round(time.time() - t0, 2), "result": result})
    except Exception as e:
        out.update(ok=False, error=describe(e))
        if not refused(e):
            traceback.print_exc(file=sys.stderr)
        print(f"spark_peer: {out['error']}", file=sys.stderr)
    finally:
        if peer is not None:
            peer.spark.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    out["seconds"] = round(time.time() - started, 2)
    sys.stdout.flush()
    print(json.dumps(out, default=to_json), flush=True)
    return 0 if out["ok"] else 1


def refused(e):
    """A clear refusal (bad input, Spark or Iceberg saying no) rather than a bug in this script."""
    from pyspark.errors import PySparkException
    return isinstance(e, (PeerError, PySparkException, OSError, ValueError)) or \
        getattr(e, "java_exception", None) is not None


def describe(e):
    """Java exceptions come back as Py4JJavaError with a long Java trace: keep the first line."""
    java = getattr(e, "java_exception", None)
    if java is not None:
        message, root = java.toString().splitlines()[0], java
        while root.getCause() is not None:
            root = root.getCause()
        return message if root.equals(java) else f"{message} (cause: {root.toString().splitlines()[0]})"
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


if __name__ == "__main__":
    sys.exit(main(sys.argv))
