import Foundation

/// One command line the documentation shows (a `--help` "Examples:" block or the README), and where it is shown.
struct DocumentedExample: Hashable {
    /// The command as written, wrapped lines and `\` continuations joined, comments removed.
    let command: String
    /// Where it is shown: "k2-replay help replay", "README.md".
    let source: String

    /// The four programs whose examples are run (k2-exchange-sim and the benchmarks are not shipped).
    static let programs = ["k2-capture", "k2-replay", "k2-compact", "k2-verify"]

    /// The program the command starts, after any leading `NAME=value` environment assignments.
    var program: String? {
        let words = DocumentedExample.withoutEnvironmentAssignments(command).split(separator: " ", maxSplits: 1)
        guard let first = words.first, DocumentedExample.programs.contains(String(first)) else { return nil }
        return String(first)
    }

    /// The command's words after the program name (no shell quoting is parsed: the test runs it with sh).
    var arguments: [String] {
        DocumentedExample.withoutEnvironmentAssignments(command).split(separator: " ").dropFirst().map(String.init)
    }

    static func withoutEnvironmentAssignments(_ command: String) -> String {
        var rest = Substring(command.trimmingCharacters(in: .whitespaces))
        while let space = rest.firstIndex(of: " "), rest[..<space].contains("="),
              let first = rest.first, first.isUppercase || first == "_" {
            // A quoted value with spaces is not expected in an assignment here; the word ends at the space.
            rest = rest[rest.index(after: space)...].drop { $0 == " " }
        }
        return String(rest)
    }

    /// The examples of one `--help` text: the lines of its "Examples:" block that start a program (after
    /// environment assignments); a more indented line that does not is the wrap of the line before.
    static func fromHelp(_ help: String, source: String) -> [DocumentedExample] {
        var examples: [(command: String, indent: Int)] = []
        var inBlock = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let indent = line.prefix { $0 == " " }.count
            if trimmed == "Examples:" { inBlock = true; continue }
            guard inBlock else { continue }
            if trimmed.isEmpty { inBlock = false; continue }
            let candidate = DocumentedExample(command: trimmed, source: source)
            if candidate.program != nil {
                examples.append((trimmed, indent))
            } else if let last = examples.last, indent > last.indent {
                examples[examples.count - 1].command += " " + trimmed
            }
        }
        return examples.map { DocumentedExample(command: $0.command, source: source) }
    }

    /// The README's examples: command lines of its fenced code blocks (`\` continuations joined, `# comments`
    /// removed) and the first code span of the "example" column of its tables.
    static func fromMarkdown(_ text: String, source: String) -> [DocumentedExample] {
        var examples: [DocumentedExample] = []
        var inFence = false
        var pending = ""
        var exampleColumn: Int?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.hasPrefix("```") { inFence.toggle(); pending = ""; continue }
            if inFence {
                var content = line
                if let comment = content.range(of: " # ") ?? content.range(of: "  #") { content = String(content[..<comment.lowerBound]) }
                content = content.trimmingCharacters(in: .whitespaces)
                if content.hasSuffix("\\") {
                    pending += content.dropLast().trimmingCharacters(in: .whitespaces) + " "
                    continue
                }
                let command = (pending + content).trimmingCharacters(in: .whitespaces)
                pending = ""
                let example = DocumentedExample(command: command, source: source)
                if example.program != nil { examples.append(example) }
                continue
            }
            guard line.hasPrefix("|") else { exampleColumn = nil; continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if exampleColumn == nil {
                exampleColumn = cells.firstIndex(of: "example")
                continue
            }
            guard let column = exampleColumn, column < cells.count else { continue }
            let parts = cells[column].split(separator: "`", omittingEmptySubsequences: false)
            guard parts.count >= 3 else { continue }
            let example = DocumentedExample(command: String(parts[1]), source: source)
            if example.program != nil { examples.append(example) }
        }
        return examples
    }

    /// The subcommands a `--help` lists (its SUBCOMMANDS: block).
    static func subcommands(inHelp help: String) -> [String] {
        var names: [String] = []
        var inBlock = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "SUBCOMMANDS:" { inBlock = true; continue }
            guard inBlock else { continue }
            if trimmed.isEmpty || trimmed.hasPrefix("See ") { break }
            if let name = trimmed.split(separator: " ").first { names.append(String(name)) }
        }
        return names
    }
}
