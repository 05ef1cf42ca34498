import Foundation

enum LogFixtures {
    static func segmentFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".k2seg") }.sorted()
            .map { directory + "/" + $0 }
    }
}
