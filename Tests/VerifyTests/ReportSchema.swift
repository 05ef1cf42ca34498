import Foundation
import TestSupport
import XCTest

/// Checks a `k2-verify --json` report against the schema kept beside its documentation
/// (docs/verify-report.schema.json: every key present, null where it does not apply, nothing else).
enum ReportSchema {
    static func assertValid(_ report: Data, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let schema = TestEnvironment.repositoryRoot.appendingPathComponent("docs/verify-report.schema.json").path
        let result = try ProcessRunner.python("""
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(json.load(sys.stdin)), key=lambda e: list(e.path))
            for e in errors[:10]: print("/".join(map(str, e.path)) + ": " + e.message)
            sys.exit(1 if errors else 0)
            """, [schema], stdin: report)
        XCTAssertEqual(result.status, 0, "\(what) does not match docs/verify-report.schema.json:\n\(result.stdoutText)\(result.stderrText)",
                       file: file, line: line)
    }
}
