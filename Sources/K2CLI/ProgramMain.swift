import ArgumentParser
import Foundation

/// The entry point of the four programs, so that they agree on what a script sees:
/// `--help` and `--version` exit 0; a bad or unknown argument, or any error the command throws, exits 2
/// (`K2ExitCode.unusable`: could not run), with the message on stderr and, under `--json`, a JSON error
/// object on stdout; an `ExitCode` the command throws (0, 1, 130) is its own.
public enum ProgramMain {
    public static func run(_ root: ParsableCommand.Type, arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        do {
            var command = try root.parseAsRoot(arguments)
            try command.run()
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch let failure as ProgramFailure {
            let program = root.configuration.commandName ?? "k2"
            if failure.code == .unusable { couldNotRun(failure.message, program: program, json: arguments.contains("--json")) }
            StandardError.print("\(program): \(failure.message)")
            // A script reading --json gets an object on every failure that printed no report (a replay that
            // stopped on an S3 or catalog error), with the exit code it sees.
            if arguments.contains("--json") { writeErrorObject(failure.message, program: program, code: failure.code) }
            exit(failure.code.rawValue)
        } catch {
            if root.exitCode(for: error) == .success { root.exit(withError: error) }
            couldNotRun(root.fullMessage(for: error), program: root.configuration.commandName ?? "k2", json: arguments.contains("--json"))
        }
    }

    /// Says why the program could not run and exits 2.
    public static func couldNotRun(_ message: String, program: String, json: Bool) -> Never {
        let text = message.hasPrefix("Error: ") ? String(message.dropFirst("Error: ".count)) : message
        StandardError.print("\(program): \(text)")
        if json { writeErrorObject(text, program: program, code: .unusable) }
        exit(K2ExitCode.unusable.rawValue)
    }

    /// The JSON error object on stdout: the message's first line and the exit code.
    static func writeErrorObject(_ text: String, program: String, code: K2ExitCode) {
        let firstLine = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? text
        try? JSONReport.write(ErrorReport(error: firstLine, exitCode: Int(code.rawValue)), program: program, format: 1)
    }

    struct ErrorReport: Encodable {
        var error: String
        var exitCode: Int

        enum CodingKeys: String, CodingKey {
            case error
            case exitCode = "exit_code"
        }
    }
}

/// A failure a command reports and exits with: the message goes to stderr (and, under `--json`, into a
/// JSON error object on stdout), the code is the exit status.
public struct ProgramFailure: Error, CustomStringConvertible {
    public var message: String
    public var code: K2ExitCode

    public init(_ message: String, code: K2ExitCode) {
        self.message = message
        self.code = code
    }

    public var description: String { message }
}
