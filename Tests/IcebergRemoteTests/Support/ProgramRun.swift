import Foundation
import TestSupport
import XCTest

/// Runs the built `k2-replay` / `k2-verify` with secrets in the environment only, and checks that none of
/// them comes back on stdout or stderr.
enum ProgramRun {
    static func run(_ product: String, _ arguments: [String], environment: [String: String]) throws -> ProcessResult {
        try ProcessRunner.run(TestEnvironment.productPath(product), arguments, environment: environment)
    }

    /// Fails when any secret (or a percent-encoded spelling of it) appears in what the program printed.
    static func assertNoSecrets(_ result: ProcessResult, _ secrets: [String], file: StaticString = #filePath, line: UInt = #line) {
        let printed = result.stdoutText + "\n" + result.stderrText
        for secret in secrets where !secret.isEmpty {
            let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret
            XCTAssertFalse(printed.contains(secret) || printed.contains(encoded),
                           "a secret was printed: \(printed.prefix(2000))", file: file, line: line)
        }
    }
}
