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
            let ids = (try parent.map { try checkedID($0, in: spool).children() }
                ?? (try? FileSystem.listDirectory(spool.executions)) ?? []).filter { ExecutionID.isValid($0) }
            if json {
                let reports = ids.map { ExecutionReport(spool.execution($0)) }
                    .filter { status == nil || $0.status?.rawValue == status }
                    .filter { task == nil || $0.job?.task == task }
                    .sorted { ($0.submitted ?? 0, $0.execution.id) < ($1.submitted ?? 0, $1.execution.id) }
                printLine(JSON.array(reports.map(\.json)).prettyText)
                return
            }
            let all = summaries(of: ids, in: spool)
            // Sorted as positions, so that the sort moves integers rather than rows.
            let order = all.indices
                .filter { (status == nil || all[$0].status?.rawValue == status) && (task == nil || all[$0].task == task) }
                .sorted { (all[$0].submitted ?? 0, all[$0].id) < (all[$1].submitted ?? 0, all[$1].id) }
            let now = Clock.now()
            let rows = order.map { position in
                let entry = all[position]
                return [entry.id, entry.status?.rawValue ?? "?", entry.task ?? "?",
                        entry.submitted.map(Clock.iso8601) ?? "-",
                        (entry.started ?? entry.submitted).map { Clock.describeDuration((entry.ended ?? now) - $0) } ?? "-",
                        entry.label]
            }
            printTable(header: ["ID", "STATUS", "TASK", "SUBMITTED", "DURATION", "NAME/MESSAGE"], rows: rows)
        }
    }

    /// One row's worth of each execution: ended ones from spool/index (EndedIndex) where it has them,
    /// the others from their files; those found ended in their files are added to the index.
    func summaries(of ids: [String], in spool: Spool) -> [Summary] {
        let index = EndedIndex(spool: spool)
        let indexed = index.read()
        var added: [EndedIndex.Entry] = []
        let summaries = ids.map { id in
            if let entry = indexed[id] { return Summary(entry) }
            let report = ExecutionReport(spool.execution(id))
            let summary = Summary(report)
            if let entry = summary.indexEntry { added.append(entry) }
            return summary
        }
        index.append(added)
        return summaries
    }
}

/// What a row of `list` shows of an execution.
struct Summary {
    let id: String
    let status: ExecutionStatus?
    let task: String?
    let submitted: Double?
    let started: Double?
    let ended: Double?
    let parent: String?
    let label: String

    init(_ entry: EndedIndex.Entry) {
        (id, status, task, parent, label) = (entry.id, entry.status, entry.task, entry.parent, entry.label)
        (submitted, started, ended) = (entry.submitted, entry.started, entry.ended)
    }

    init(_ report: ExecutionReport) {
        id = report.execution.id
        status = report.status
        task = report.job?.task
        (submitted, started, ended) = (report.submitted, report.started, report.ended)
        parent = report.job?.parent
        label = report.job?.name?.escapingControlCharacters() ?? report.execution.message()?.firstLine ?? ""
    }

    /// Its line in spool/index, once it has ended and everything shown is known.
    var indexEntry: EndedIndex.Entry? {
        // The history's final line comes just after the final status: without it the duration is not known yet.
        guard let status, status.isFinal, let task, ended != nil else { return nil }
        return EndedIndex.Entry(id: id, status: status, task: task, submitted: submitted, started: started, ended: ended, parent: parent, label: label)
    }
}

/// Prints columns aligned with two spaces between them; the last column is not padded. Written in
/// blocks of 64 KiB, as a list may have a hundred thousand rows.
func printTable(header: [String], rows: [[String]]) {
    let widths = header.indices.map { column in rows.reduce(header[column].displayWidth) { max($0, $1[column].displayWidth) } }
    var output: [UInt8] = []
    output.reserveCapacity(1 << 17)
    for row in [header] + rows {
        for (column, cell) in row.enumerated() {
            output.append(contentsOf: cell.utf8)
            if column < row.count - 1 {
                output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: widths[column] - cell.displayWidth + 2))
            }
        }
        output.append(0x0a)
        if output.count >= 1 << 16 {
            try? FileDescriptor.standardOutput.write(output)
            output.removeAll(keepingCapacity: true)
        }
    }
    try? FileDescriptor.standardOutput.write(output)
}

extension String {
    /// How many columns the text takes: its characters, or for ASCII (the ids, statuses, task types
    /// and times of a list) its bytes, which cost nothing to count.
    var displayWidth: Int {
        utf8.allSatisfy { $0 < 0x80 } ? utf8.count : count
    }

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
