import Foundation
import K2Core

/// Where a looped replay is: the pass under way and its stamp, in `passes-<hash>.json` beside the checkpoints
/// (the hash names the log, selection, format, topic and target). Written (atomically, fsynced) before a pass
/// produces anything, so a rerun after SIGKILL resumes that pass, with the same stamp, from its own checkpoint.
struct PassLedger {
    let path: String

    init(stateDirectory: String, configuration: ReplayConfiguration, log: String) {
        var fields: [String] = [log]
        fields.append(configuration.sources?.sorted().joined(separator: ",") ?? "*")
        fields.append(configuration.symbols?.joined(separator: ",") ?? "*")
        fields.append(configuration.sinceNanos.map { String($0) } ?? "-")
        fields.append(configuration.untilNanos.map { String($0) } ?? "-")
        fields.append(configuration.format.rawValue)
        fields.append(configuration.topic ?? "-")
        fields.append(Self.describe(configuration.bootstrap))
        var hasher = FNV1a()
        for field in fields { hasher.combineField(field) }
        path = stateDirectory + "/passes-" + FNV1a.hex(hasher.value) + ".json"
    }

    private static func describe(_ bootstrap: ReplayConfiguration.Bootstrap?) -> String {
        switch bootstrap {
        case .servers(let servers)?: return servers
        case .embedded?: return "embedded"
        case nil: return "-"
        }
    }

    /// The pass under way; nil when no pass started yet.
    func load() throws -> PassStamp? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(PassStamp.self, from: data)
        } catch {
            throw ReplayError.unusable("pass ledger \(path): not readable (\(error)); move it away to start the passes afresh")
        }
    }

    func write(_ stamp: PassStamp) throws {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let data = try JSONEncoder().encode(stamp)
            // Data.write(.atomic) renames a temporary file into place; the fsyncs make the rename durable.
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ReplayError.failed("pass ledger \(path): cannot write: \(error.localizedDescription)")
        }
        for target in [path, directory] {
            let fd = open(target, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { _ = fsync(fd); close(fd) }
        }
    }
}
