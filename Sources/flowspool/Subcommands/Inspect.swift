import ArgumentParser
import JSON
import POSIX
import Spool

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Print an execution's status word.")

    @OptionGroup var spoolOption: SpoolOption
    @Argument(help: "The execution id.") var id: String

    func run() throws {
        try reportingFailures {
            if let cluster = try ClusterClient.store() {
                printLine(try ClusterClient.record(id, in: cluster).status ?? "?")
                return
            }
            let execution = try checkedID(id, in: try spoolOption.open())
            guard let status = execution.status() else { throw CommandFailure("execution \(id) has no readable status") }
            printLine(status.rawValue)
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show an execution: task, status, times, message, inputs and outputs (protected values masked).")

    @OptionGroup var spoolOption: SpoolOption
    @Argument(help: "The execution id.") var id: String
    @Flag(help: "Print one JSON document.") var json = false

    func run() throws {
        try reportingFailures {
            if let cluster = try ClusterClient.store() {
                ClusterClient.show(try ClusterClient.record(id, in: cluster), json: json)
                return
            }
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
            printFields(lines, inputs: report.maskedInputs, outputs: report.maskedOutputs)
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

/// Prints columns aligned with two spaces between them; the last column is not padded.
/// The fields of `show`, a label a line, then the inputs and outputs as indented JSON.
func printFields(_ fields: [(String, String)], inputs: JSONObject, outputs: JSONObject?) {
    for (label, value) in fields { printLine((label + ":").padding(to: 11) + value) }
    printLine("inputs:    " + JSON.object(inputs).prettyText.indentingContinuation)
    if let outputs { printLine("outputs:   " + JSON.object(outputs).prettyText.indentingContinuation) }
}

func printTable(header: [String], rows: [[String]]) {
    let widths = header.indices.dropLast().map { column in rows.reduce(header[column].displayWidth) { max($0, $1[column].displayWidth) } }
    var output = TableOutput(widths: widths)
    for row in [header] + rows {
        for (column, cell) in row.dropLast().enumerated() { output.cell(cell.utf8, width: cell.displayWidth, column: column) }
        output.lastCell(row.last!.utf8)
    }
    output.flush()
}

/// A table on standard output: each cell padded to its column's width and two spaces, the last of
/// a row not padded; written in blocks of 64 KiB, as a list may have a hundred thousand rows.
struct TableOutput {
    /// The widths of the columns but the last.
    let widths: [Int]
    private var buffer: [UInt8] = []

    init(widths: [Int]) {
        self.widths = widths
        buffer.reserveCapacity(1 << 17)
    }

    /// A cell that takes `width` columns on a terminal (by default, as many as it has bytes).
    mutating func cell(_ bytes: some Collection<UInt8>, width: Int? = nil, column: Int) {
        buffer.append(contentsOf: bytes)
        buffer.append(contentsOf: repeatElement(UInt8(ascii: " "), count: widths[column] - (width ?? bytes.count) + 2))
    }

    /// The row's last cell, and the end of the row.
    mutating func lastCell(_ bytes: some Collection<UInt8>) {
        buffer.append(contentsOf: bytes)
        buffer.append(0x0a)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        try? FileDescriptor.standardOutput.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
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
