import K2Core

/// Runs one replay: the source its configuration names into its target, until the source's end or a stop
/// request. The one entry of the library for programs.
public struct ReplayEngine {
    public let configuration: ReplayConfiguration

    private let context: ReplayContext

    /// `stop`: set to end the run early (what was read is flushed or committed, the report says interrupted).
    /// `diagnostics`: the run's notes, warnings and progress lines; nothing is printed by the engine.
    public init(configuration: ReplayConfiguration, stop: CancellationSignal, diagnostics: @escaping ReplayDiagnostics) {
        self.configuration = configuration
        context = ReplayContext(configuration: configuration, stop: stop, diagnostics: diagnostics)
    }

    /// Replays; throws `ReplayError` (and the Kafka, catalog or log error that ended it), or `Interrupted`
    /// when a stop cut off a wait for the catalog or storage.
    public func run() throws -> ReplayReport {
        if configuration.follow {
            guard case .kafka = configuration.origin, configuration.target == .iceberg, !configuration.dryRun else {
                throw ReplayError.usage("--follow reads a kafka:// topic into a table (--to iceberg), without --dry-run")
            }
        }
        switch (configuration.origin, configuration.target) {
        case (_, .iceberg):
            return try IcebergReplay(context: context).run()
        case (.kafka(let bootstrap, let topic), .kafka) where !configuration.dryRun:
            return try KafkaCopyReplay(context: context, sourceBootstrap: bootstrap, sourceTopic: topic).run()
        case (.kafka, _):
            throw ReplayError.usage("--from kafka:// replays into --to kafka or --to iceberg; --dry-run and --to jsonl read segment logs "
                                    + "(k2-capture kafka records a topic into one)")
        case (.segmentLog(let directory), .kafka) where configuration.passes != nil && configuration.restamp == nil:
            guard !configuration.dryRun else { throw ReplayError.usage("--passes and --duration replay into Kafka, not a dry run") }
            return try PassReplay(context: context, directory: directory, passes: configuration.passes!).run()
        case (.segmentLog(let directory), _):
            return try LogReplay(context: context, directory: directory).run()
        }
    }
}

/// What every part of a run shares: its configuration, its stop signal and where its notes go.
struct ReplayContext {
    let configuration: ReplayConfiguration
    let stop: CancellationSignal
    let diagnostics: ReplayDiagnostics

    func note(_ text: String) { diagnostics(ReplayNote(.info, text)) }
    func notice(_ text: String) { diagnostics(ReplayNote(.notice, text)) }
    func warn(_ text: String) { diagnostics(ReplayNote(.warning, "warning: " + text)) }
}
