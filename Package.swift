// swift-tools-version: 6.0
// k2-backfill: capture, replay, compact and verify K2 market-data streams (Kafka, segment logs, Iceberg Bronze).
import PackageDescription

// Targets use the Swift 5 language mode (see swiftLanguageModes below): the C libraries' contexts
// (librdkafka handles, zstd contexts) are confined to one thread each, which strict checking cannot see.
// Linux only (Debian 12, x86_64): the sources call glibc and link Debian's C libraries, so no Apple platform is
// claimed in `platforms` (SwiftPM has no entry for Linux; it is always a build platform).
let package = Package(
    name: "k2-backfill",
    products: [
        .executable(name: "k2-capture", targets: ["k2-capture"]),
        .executable(name: "k2-replay", targets: ["k2-replay"]),
        .executable(name: "k2-compact", targets: ["k2-compact"]),
        .executable(name: "k2-verify", targets: ["k2-verify"]),
        .library(name: "K2Backfill", targets: ["K2Core", "SegmentLog", "Exchanges", "Kafka", "Avro", "Parquet", "Iceberg", "Bronze",
                                               "Parity", "ParitySides", "Replay", "Repair", "BurnIn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        // Remote catalogs and storage: S3 and the REST catalog over HTTP, SigV4 HMACs, PostgreSQL.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0" ..< "5.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        // The burn-in (and k2-capture): live figures through swift-metrics, served by swift-prometheus;
        // latency percentiles in an HdrHistogram.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // C libraries from Debian, each through a small system-library target.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // The library, one target per concern.
        // One implementation each of the small helpers every module uses: FNV-1a, civil dates, JSON text.
        .target(name: "K2Core"),
        .target(name: "Codecs", dependencies: ["CZstd", "CLZ4", "CSnappy", "CZlib"]),
        .target(name: "CK2Native"),
        .target(name: "SegmentLog", dependencies: ["Codecs", "CK2Native"]),
        .target(name: "Exchanges", dependencies: ["K2Core"]),
        .target(name: "Kafka", dependencies: ["CRdKafka", "Codecs"]),
        .target(name: "Avro", dependencies: ["Codecs"]),
        .target(name: "Parquet", dependencies: ["Codecs"]),
        .target(name: "Iceberg", dependencies: ["K2Core", "Avro", "Parquet", "Codecs", "CSQLite3",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "PostgresNIO", package: "postgres-nio")]),
        .target(name: "Bronze", dependencies: ["K2Core", "Avro", "Exchanges", "SegmentLog", "Iceberg", "Parquet",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio")]),
        .target(name: "Parity", dependencies: ["K2Core"]),
        // The replay engine: sources (segment logs, Kafka topics), sinks (Kafka, JSON lines, Bronze tables),
        // resume, pacing. k2-replay is its command line.
        .target(name: "Replay", dependencies: ["K2Core", "SegmentLog", "Kafka", "Bronze", "Iceberg"]),
        // The burn-in: re-stamped replay passes, follow-mode backfills and periodic parity checks in one process,
        // sampled each second (k2-replay burn-in); and the HTTP endpoint serving /metrics and /healthz.
        .target(name: "BurnIn", dependencies: ["K2Core", "CK2Native", "Replay", "ParitySides", "Parity", "Iceberg", "Parquet", "Kafka", "Bronze",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Histogram", package: "hdrhistogram-swift")]),
        .target(name: "MetricsEndpoint", dependencies: [
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio")]),
        // The sides of a parity check (Bronze tables, Kafka topics, capture logs) and its library entry, ParityCheck.
        .target(name: "ParitySides", dependencies: ["K2Core", "Parity", "Iceberg", "Kafka", "SegmentLog"]),
        // Repairs of a Bronze table from a parity report: a check of the table against Kafka, then a replay of exactly
        // the offsets it still lacks.
        .target(name: "Repair", dependencies: ["K2Core", "Bronze", "Parity", "ParitySides", "Replay", "Iceberg"]),
        // The catalog options k2-replay and k2-verify share (one spelling of --catalog, --warehouse, --s3-*).
        .target(name: "CatalogCLI", dependencies: ["Iceberg",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(name: "K2CLI", dependencies: ["K2Core", "CK2Native",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The four programs: thin command-line layers over the library.
        .executableTarget(name: "k2-capture", dependencies: ["Capture", "SegmentLog", "Exchanges", "Kafka", "K2CLI", "MetricsEndpoint",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "k2-replay", dependencies: ["Replay", "Repair", "Parity", "SegmentLog", "Kafka", "Bronze", "Iceberg", "CatalogCLI", "K2CLI",
            "BurnIn", "MetricsEndpoint",
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "k2-compact", dependencies: ["SegmentLog", "Exchanges", "K2CLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "k2-verify", dependencies: ["Parity", "ParitySides", "Iceberg", "CatalogCLI", "K2CLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Capture: the WebSocket client (swift-nio, NIOSSL for wss), the recorder and the metrics endpoint.
        .target(name: "Capture", dependencies: ["K2Core", "SegmentLog", "Exchanges", "Kafka", "K2CLI", "MetricsEndpoint",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl")]),
        // A local exchange (Binance, Kraken v1/v2 subscribe protocols) for tests and the bench; not shipped.
        .target(name: "ExchangeSimulator", dependencies: ["K2Core", "Exchanges",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl")]),
        .executableTarget(name: "k2-exchange-sim", dependencies: ["ExchangeSimulator", "K2CLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Test-only support: paths to the checker venv and built tools, child processes.
        .target(name: "TestSupport", dependencies: [], path: "Sources/TestSupport"),
        .testTarget(name: "K2CoreTests", dependencies: ["K2Core"]),
        // docs/library.md's example, compiled against the K2Backfill product's modules and run.
        .testTarget(name: "LibraryExampleTests", dependencies: ["K2Core", "Replay", "ParitySides", "Parity", "Iceberg", "Kafka", "TestSupport"]),
        .testTarget(name: "ExamplesTests", dependencies: ["TestSupport"]),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs", "TestSupport"]),
        .testTarget(name: "IcebergRemoteTests", dependencies: ["Iceberg", "Bronze", "K2Core", "Parquet", "Avro", "SegmentLog", "TestSupport"]),
        .testTarget(name: "ExchangesTests", dependencies: ["Exchanges", "K2Core", "TestSupport"]),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "ExchangeSimulator", "SegmentLog", "TestSupport",
            "k2-capture"]),
        .testTarget(name: "AvroTests", dependencies: ["Avro", "TestSupport"]),
        .testTarget(name: "IcebergTests", dependencies: ["Iceberg", "Avro", "TestSupport"]),
        .testTarget(name: "ParquetTests", dependencies: ["Parquet", "Codecs", "TestSupport"]),
        .testTarget(name: "ParityTests", dependencies: ["K2Core", "Parity", "TestSupport"]),
        .testTarget(name: "ParitySidesTests", dependencies: ["K2Core", "Bronze", "ParitySides", "Parity", "Iceberg", "Kafka", "SegmentLog", "TestSupport"]),
        .testTarget(name: "VerifyTests", dependencies: ["K2Core", "Parity", "Kafka", "SegmentLog", "TestSupport"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "TestSupport"]),
        .testTarget(name: "BronzeTests", dependencies: ["Bronze", "Exchanges", "Avro", "TestSupport"]),
        .testTarget(name: "ReplayEngineTests", dependencies: ["K2Core", "Replay", "Kafka", "SegmentLog", "Bronze", "Iceberg", "K2CLI", "TestSupport"]),
        .testTarget(name: "ReplayTests", dependencies: ["Bronze", "Kafka", "SegmentLog", "K2CLI", "TestSupport"]),
        .testTarget(name: "BurnInTests", dependencies: ["BurnIn", "K2CLI", "Replay", "Iceberg", "Kafka", "K2Core", "SegmentLog", "MetricsEndpoint", "TestSupport",
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "BronzeIcebergTests", dependencies: ["Bronze", "Iceberg", "Kafka", "SegmentLog", "TestSupport"]),
        .testTarget(name: "SegmentLogTests", dependencies: ["SegmentLog", "CK2Native", "TestSupport"]),
        .testTarget(name: "K2CompactTests", dependencies: ["SegmentLog", "TestSupport"]),

        // Not products: the crash-test writer the SIGKILL tests drive, and `make bench`.
        .executableTarget(name: "segment-log-torture", dependencies: ["SegmentLog"]),
        .executableTarget(name: "iceberg-bench", dependencies: ["Iceberg", "Parquet"]),
        .executableTarget(name: "k2-bench", dependencies: ["SegmentLog", "Codecs", "Kafka",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    ],
    swiftLanguageModes: [.v5]
)

// libFuzzer targets (`make fuzz`, docs/reliability.md "Fuzzing"): only with K2_FUZZ set, because they link
// only with `-sanitize=fuzzer`. Each is `Fuzz/<name>/main.swift` over the shared driver in `Fuzz/FuzzSupport`.
import Foundation
if ProcessInfo.processInfo.environment["K2_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("fuzz-segment-log", ["SegmentLog", "Codecs"]),
        ("fuzz-segment-meta", ["SegmentLog"]),
        ("fuzz-exchange-frames", ["Exchanges"]),
        ("fuzz-avro", ["Avro"]),
        ("fuzz-parquet", ["Parquet", "Codecs"]),
        ("fuzz-cli-values", ["K2CLI"]),
        ("fuzz-iceberg-metadata", ["Iceberg", "Codecs"]),
        ("fuzz-confluent-value", ["Bronze", "Avro"]),
    ]
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"))
    for fuzz in fuzzTargets {
        package.targets.append(.executableTarget(name: fuzz.name, dependencies: ["FuzzSupport"] + fuzz.dependencies,
                                                 path: "Fuzz/\(fuzz.name)"))
        package.products.append(.executable(name: fuzz.name, targets: [fuzz.name]))
    }
}
