import ArgumentParser
import JSON
import POSIX
import Spool

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List executions, oldest first.")

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
            let listing = Listing(ids, in: spool)
            let rows = listing.rows
            // Sorted as positions, so that the sort moves integers rather than rows.
            let order = rows.indices
                .filter { listing.matches(rows[$0], status: status.flatMap(ExecutionStatus.init(rawValue:)), task: task) }
                .sorted { (rows[$0].submitted ?? 0, rows[$0].id) < (rows[$1].submitted ?? 0, rows[$1].id) }
            listing.write(order)
        }
    }
}

/// The rows of `list`: ended executions from spool/index (EndedIndex), kept as places in its bytes
/// rather than strings, as a list may have a hundred thousand rows; the others read from their
/// files, and those found ended added to the index.
struct Listing {
    let table: EndedIndex.Table
    let rows: [Row]

    struct Row {
        let id: String
        let submitted: Double?
        let source: Source
    }

    enum Source {
        case indexed(EndedIndex.Line)
        case read(Summary)
    }

    init(_ ids: [String], in spool: Spool) {
        let index = EndedIndex(spool: spool)
        let table = index.read()
        var added: [EndedIndex.Entry] = []
        rows = ids.map { id in
            if let line = table.lineOfID[id].map({ table.lines[$0] }) {
                return Row(id: id, submitted: line.submitted, source: .indexed(line))
            }
            let summary = Summary(ExecutionReport(spool.execution(id)))
            if let entry = summary.indexEntry { added.append(entry) }
            return Row(id: id, submitted: summary.submitted, source: .read(summary))
        }
        self.table = table
        index.append(added)
    }

    func matches(_ row: Row, status: ExecutionStatus?, task: String?) -> Bool {
        switch row.source {
        case .indexed(let line):
            (status == nil || line.status == status) && (task == nil || table.bytes[line.task].elementsEqual(task!.utf8))
        case .read(let summary):
            (status == nil || summary.status == status) && (task == nil || summary.task == task)
        }
    }

    /// Writes the rows at the positions in `order` as a table. Every column but the last is ASCII
    /// (ids, statuses, task type names, times), so widths are counted in bytes.
    func write(_ order: [Int]) {
        let now = Clock.now()
        let rows = order.lazy.map { self.rows[$0] }
        let durations = rows.map { row -> String in
            let (submitted, started, ended) = switch row.source {
            case .indexed(let line): (line.submitted, line.started, line.ended)
            case .read(let summary): (summary.submitted, summary.started, summary.ended)
            }
            return (started ?? submitted).map { Clock.describeDuration((ended ?? now) - $0) } ?? "-"
        }
        var widths = ["ID", "STATUS", "TASK", "SUBMITTED", "DURATION"].map(\.utf8.count)
        for (row, duration) in zip(rows, durations) {
            widths[0] = max(widths[0], row.id.utf8.count)
            widths[1] = max(widths[1], statusWord(row).utf8.count)
            widths[2] = max(widths[2], taskWidth(row))
            widths[3] = max(widths[3], row.submitted == nil ? 1 : 24)
            widths[4] = max(widths[4], duration.utf8.count)
        }
        var output = TableOutput(widths: widths)
        for (column, title) in ["ID", "STATUS", "TASK", "SUBMITTED", "DURATION"].enumerated() { output.cell(title.utf8, column: column) }
        output.lastCell("NAME/MESSAGE".utf8)
        for (row, duration) in zip(rows, durations) {
            output.cell(row.id.utf8, column: 0)
            output.cell(statusWord(row).utf8, column: 1)
            switch row.source {
            case .indexed(let line): output.cell(table.bytes[line.task], column: 2)
            case .read(let summary): output.cell((summary.task ?? "?").utf8, column: 2)
            }
            output.cell((row.submitted.map(Clock.iso8601) ?? "-").utf8, column: 3)
            output.cell(duration.utf8, column: 4)
            switch row.source {
            case .indexed(let line): output.lastCell(table.bytes[line.label])
            case .read(let summary): output.lastCell(summary.label.utf8)
            }
        }
        output.flush()
    }

    func statusWord(_ row: Row) -> String {
        switch row.source {
        case .indexed(let line): line.status.rawValue
        case .read(let summary): summary.status?.rawValue ?? "?"
        }
    }

    func taskWidth(_ row: Row) -> Int {
        switch row.source {
        case .indexed(let line): line.task.count
        case .read(let summary): (summary.task ?? "?").utf8.count
        }
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
