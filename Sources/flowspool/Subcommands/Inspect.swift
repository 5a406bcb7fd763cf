import ArgumentParser
import JSON
import POSIX
import Spool

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an execution's status word.")

    @OptionGroup var spoolOption: SpoolOption
    @Argument(help: "The execution id.") var id: String

    func run() throws {
        try reportingFailures {
            let execution = try checkedID(id, in: try spoolOption.open())
            guard let status = execution.status() else { throw CommandFailure("execution \(id) has no readable status") }
            printLine(status.rawValue)
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an execution: task, status, times, message, inputs and outputs (protected values masked).")

    @OptionGroup var spoolOption: SpoolOption
    @Argument(help: "The execution id.") var id: String
    @Flag(help: "Print one JSON document.") var json = false

    func run() throws {
        try reportingFailures {
            let report = ExecutionReport(try checkedID(id, in: try spoolOption.open()))
            if json {
                printLine(report.json.prettyText)
                return
            }
            var lines: [(String, String)] = [
                ("id", id),
                ("task", report.job?.task ?? "?"),
                ("status", report.status?.rawValue ?? "?"),
            ]
            if let name = report.job?.name { lines.append(("name", name.escapingControlCharacters())) }
            if let parent = report.job?.parent { lines.append(("parent", parent)) }
            if let time = report.submitted { lines.append(("submitted", Clock.iso8601(time))) }
            if let time = report.started { lines.append(("started", Clock.iso8601(time))) }
            if let time = report.ended { lines.append(("ended", Clock.iso8601(time))) }
            if let duration = report.duration { lines.append(("duration", Clock.describeDuration(duration))) }
            if let message = report.execution.message() {
                // Lines after the first are indented, so that no message can pass for a field of its own.
                lines.append(("message", message.trimming("\n").escapingControlCharacters(keeping: "\n").indentingContinuation))
            }
            for (label, value) in lines {
                printLine((label + ":").padding(to: 11) + value)
            }
            printLine("inputs:    " + JSON.object(report.maskedInputs).prettyText.indentingContinuation)
            if let outputs = report.maskedOutputs {
                printLine("outputs:   " + JSON.object(outputs).prettyText.indentingContinuation)
            }
            let children = report.execution.children()
            if !children.isEmpty {
                printLine("children:")
                for child in children {
                    let status = report.execution.spool.execution(child).status()?.rawValue ?? "?"
                    let task = (try? report.execution.spool.execution(child).job().task) ?? "?"
                    printLine("  \(child)  \(task)  \(status)")
                }
            }
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List executions, oldest first.")

    @OptionGroup var spoolOption: SpoolOption
    @Option(help: "Only executions with this status.") var status: String?
    @Option(help: "Only executions of this task type.") var task: String?
    @Option(help: "Only the children of this execution (the executions a flow started).") var parent: String?
    @Flag(help: "Print a JSON list.") var json = false

    func validate() throws {
        if let status, ExecutionStatus(rawValue: status) == nil {
            throw ValidationError("'\(status)' is not a status (\(ExecutionStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    func run() throws {
        try reportingFailures {
            let spool = try spoolOption.open()
            try requireOwnersAccess(to: spool)
            let ids = try parent.map { try checkedID($0, in: spool).children() }
                ?? (try? FileSystem.listDirectory(spool.executions)) ?? []
            let reports = ids.filter { ExecutionID.isValid($0) }
                .map { ExecutionReport(spool.execution($0)) }
                .filter { status == nil || $0.status?.rawValue == status }
                .filter { task == nil || $0.job?.task == task }
                .sorted { ($0.submitted ?? 0, $0.execution.id) < ($1.submitted ?? 0, $1.execution.id) }
            if json {
                printLine(JSON.array(reports.map(\.json)).prettyText)
                return
            }
            let rows = reports.map { report in
                [report.execution.id, report.status?.rawValue ?? "?", report.job?.task ?? "?",
                 report.submitted.map(Clock.iso8601) ?? "-", report.duration.map(Clock.describeDuration) ?? "-",
                 report.job?.name?.escapingControlCharacters() ?? report.execution.message()?.firstLine ?? ""]
            }
            printTable(header: ["ID", "STATUS", "TASK", "SUBMITTED", "DURATION", "NAME/MESSAGE"], rows: rows)
        }
    }
}

/// Prints columns aligned with two spaces between them; the last column is not padded.
func printTable(header: [String], rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    for row in all {
        let cells = row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padding(to: widths[index]) }
        printLine(cells.joined(separator: "  "))
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    var indentingContinuation: String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n           ")
    }

    /// The first line, cut to 80 characters, its control characters escaped: for one cell of a row.
    var firstLine: String {
        let line = split(separator: "\n").first.map(String.init) ?? ""
        return (line.count > 80 ? String(line.prefix(77)) + "..." : line).escapingControlCharacters()
    }
}
