import Foundation

/// This process's resident memory and CPU time, read from /proc: the burn-in's parts run as threads of one
/// process, so memory is the process's, and CPU is told apart per part by thread name (`k2-replay produce`,
/// librdkafka's `rdk:*`, the burn-in's own `burnin:replay`, `burnin:<table style>`; Linux keeps 15 bytes of a name).
struct ProcessUsage {
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// Resident set size in bytes (/proc/self/statm's second field).
    static func residentBytes() -> Int64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int64(fields[1]) else { return 0 }
        return pages * pageSize
    }

    /// CPU seconds (user + system) of the whole process.
    static func processCPUSeconds() -> Double {
        cpuSeconds(statPath: "/proc/self/stat").seconds
    }

    /// CPU seconds per thread, keyed by thread id, with the thread's name; threads that ended are gone from
    /// /proc, so the caller keeps the last value it saw of each.
    static func threads() -> [Int: (name: String, seconds: Double)] {
        var out: [Int: (name: String, seconds: Double)] = [:]
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return out }
        for task in tasks {
            guard let tid = Int(task) else { continue }
            let usage = cpuSeconds(statPath: "/proc/self/task/\(task)/stat")
            out[tid] = (usage.name, usage.seconds)
        }
        return out
    }

    /// The part a thread belongs to, by its name.
    static func part(ofThread name: String) -> String {
        if name.hasPrefix("rdk:mock") { return "embedded Kafka (librdkafka's mock cluster)" }
        if name.hasPrefix("rdk:") { return "kafka client threads (librdkafka)" }
        if name.hasPrefix("burnin:") { return String(name.dropFirst("burnin:".count)) }
        if name.hasPrefix("k2-replay") { return "replay" }
        return "other (sampler, checks, runtime)"
    }

    /// Fields 14 and 15 (utime, stime) of a stat file; the name is between the parentheses of field 2.
    private static func cpuSeconds(statPath: String) -> (name: String, seconds: Double) {
        guard let text = try? String(contentsOfFile: statPath, encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return ("", 0) }
        let name = String(text[text.index(after: open)..<close])
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[0] is field 3 (state): utime is field 14, stime 15.
        guard rest.count > 12, let user = Double(rest[11]), let system = Double(rest[12]) else { return (name, 0) }
        return (name, (user + system) / ticksPerSecond)
    }
}
