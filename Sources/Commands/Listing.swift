import Basics
import JSON
import POSIX
import Spool

/// A job that is no execution: one waiting in incoming/ to be admitted, or one set aside in
/// failed/ beside the reason. `list --all` shows them, so that nothing in the spool goes unseen.
public struct JobSummary {
    public let id: String
    public let status: String
    public let task: String?
    public let submitted: Double?
    public let why: String?

    /// The status words of the jobs that are not executions, which `list --all` lists.
    public static let statuses = ["incoming", "rejected"]

    public static func all(in spool: Spool) -> [JobSummary] {
        read(spool.incoming, status: "incoming", in: spool) + read(spool.failed, status: "rejected", in: spool)
    }

    static func read(_ directory: String, status: String, in spool: Spool) -> [JobSummary] {
        // failed/ keeps a second job of one name as NAME.json.2, beside NAME.json.2.why.
        let names = ((try? FileSystem.listDirectory(directory)) ?? []).filter { name in
            !name.hasPrefix(".") && (status == "rejected" ? !name.hasSuffix(".why") : name.hasSuffix(".json"))
        }
        return names.map { name in
            let path = directory + "/" + name
            let job = (try? FileSystem.readFile(path, limit: Job.maximumSize, beneath: spool.root)).flatMap { try? Job(parsing: $0, record: false) }
            let why = status == "rejected" ? (try? FileSystem.readText(spool.failureReason(ofJobNamed: name), beneath: spool.root)).flatMap { $0?.firstLine } : nil
            return JobSummary(
                id: String(name.hasSuffix(".json") ? name.dropLast(5) : name[...]).escapingControlCharacters(), status: status, task: job?.task,
                submitted: (try? FileSystem.status(path, followLinks: false))??.modificationTime, why: why)
        }
    }

    var json: JSON {
        ["id": .string(id), "status": .string(status), "task": task.map(JSON.string) ?? .null,
         "submitted": submitted.map { .string(Clock.iso8601($0)) } ?? .null, "message": why.map(JSON.string) ?? .null]
    }

    var summary: Summary {
        Summary(id: id, status: nil, word: status, task: task, submitted: submitted, started: nil, ended: nil, parent: nil, label: why?.escapingControlCharacters() ?? "")
    }
}

/// The rows of `list`: ended executions from spool/index (EndedIndex), kept as places in its bytes
/// rather than strings, as a list may have a hundred thousand rows; the others read from their
/// files, and those found ended added to the index.
public struct Listing {
    public let table: EndedIndex.Table
    /// The rows read from files.
    public let summaries: [Summary]
    public let rows: [Row]

    /// A row: small, as rows are sorted and looked at many times; what it shows is in `source`.
    public struct Row {
        public let id: String
        public let submitted: Double?
        let place: Place
    }

    enum Place {
        /// A line of `table.lines`.
        case indexed(Int)
        /// One of `summaries`.
        case read(Int)
    }

    public enum Source {
        case indexed(EndedIndex.Line)
        case read(Summary)
    }

    public func source(_ row: Row) -> Source {
        switch row.place {
        case .indexed(let line): .indexed(table.lines[line])
        case .read(let summary): .read(summaries[summary])
        }
    }

    public init(_ ids: [String], in spool: Spool, jobs: [JobSummary] = []) {
        let index = EndedIndex(spool: spool)
        let table = index.read()
        var added: [EndedIndex.Entry] = []
        var rows: [Row] = []
        var summaries: [Summary] = []
        rows.reserveCapacity(ids.count + jobs.count)
        for id in ids {
            if let line = table.lineOfID[id] {
                rows.append(Row(id: id, submitted: table.lines[line].submitted, place: .indexed(line)))
                continue
            }
            let summary = Summary(ExecutionReport(spool.execution(id)))
            if let entry = summary.indexEntry { added.append(entry) }
            rows.append(Row(id: id, submitted: summary.submitted, place: .read(summaries.count)))
            summaries.append(summary)
        }
        for job in jobs {
            rows.append(Row(id: job.id, submitted: job.submitted, place: .read(summaries.count)))
            summaries.append(job.summary)
        }
        self.rows = rows
        self.summaries = summaries
        self.table = table
        index.append(added)
    }

    /// The positions of the rows `query` picks, oldest first (ids are compared only between
    /// executions submitted in the same millisecond), the last `query.limit` of them. Sorted as
    /// positions, so that the sort moves integers rather than rows, by keys read out once.
    public func order(_ query: ListQuery) -> [Int] {
        let submitted = rows.map { $0.submitted ?? 0 }
        let order = rows.indices
            .filter { matches(rows[$0], statuses: query.statuses, task: query.task) }
            .sorted { submitted[$0] != submitted[$1] ? submitted[$0] < submitted[$1] : rows[$0].id < rows[$1].id }
        return Array(order.suffix(query.limit ?? order.count))
    }

    func matches(_ row: Row, statuses: Set<String>, task: String?) -> Bool {
        switch source(row) {
        case .indexed(let line):
            (statuses.isEmpty || statuses.contains(line.status.rawValue)) && (task == nil || table.bytes[line.task].elementsEqual(task!.utf8))
        case .read(let summary):
            (statuses.isEmpty || statuses.contains(summary.word)) && (task == nil || summary.task == task)
        }
    }

    /// Writes the rows at the positions in `order` as a table. Every column but the last is ASCII
    /// (ids, statuses, task type names, times), so widths are counted in bytes.
    public func write(_ order: [Int], to sink: @escaping ([UInt8]) -> Void = TableOutput.standardOutput) {
        let now = Clock.now()
        // Rows are looked at in place, by position: copying a hundred thousand of them costs more
        // than all the rest.
        let durations = order.map { position -> String in
            let (submitted, started, ended) = switch source(rows[position]) {
            case .indexed(let line): (line.submitted, line.started, line.ended)
            case .read(let summary): (summary.submitted, summary.started, summary.ended)
            }
            return (started ?? submitted).map { Clock.describeDuration((ended ?? now) - $0) } ?? "-"
        }
        var widths = ["ID", "STATUS", "TASK", "SUBMITTED", "DURATION"].map(\.utf8.count)
        for (position, duration) in zip(order, durations) {
            widths[0] = max(widths[0], rows[position].id.utf8.count)
            widths[1] = max(widths[1], statusWord(rows[position]).utf8.count)
            widths[2] = max(widths[2], taskWidth(rows[position]))
            widths[3] = max(widths[3], rows[position].submitted == nil ? 1 : 24)
            widths[4] = max(widths[4], duration.utf8.count)
        }
        var output = TableOutput(widths: widths, sink: sink)
        for (column, title) in ["ID", "STATUS", "TASK", "SUBMITTED", "DURATION"].enumerated() { output.cell(title.utf8, column: column) }
        output.lastCell("NAME/MESSAGE".utf8)
        for (position, duration) in zip(order, durations) {
            let row = rows[position]
            output.cell(row.id.utf8, column: 0)
            output.cell(statusWord(row).utf8, column: 1)
            switch source(row) {
            case .indexed(let line): output.cell(table.bytes[line.task], column: 2)
            case .read(let summary): output.cell((summary.task ?? "?").utf8, column: 2)
            }
            output.cell((row.submitted.map(Clock.iso8601) ?? "-").utf8, column: 3)
            output.cell(duration.utf8, column: 4)
            switch source(row) {
            case .indexed(let line): output.lastCell(table.bytes[line.label])
            case .read(let summary): output.lastCell(summary.label.utf8)
            }
        }
        output.flush()
    }

    /// A row as a Summary, for the few rows that are shown one by one (top's recent ends).
    public func summary(of row: Row) -> Summary {
        switch source(row) {
        case .read(let summary):
            return summary
        case .indexed(let line):
            return Summary(
                id: row.id, status: line.status, word: line.status.rawValue, task: table.text(line.task), submitted: line.submitted,
                started: line.started, ended: line.ended, parent: line.parent.map(table.text), label: table.text(line.label))
        }
    }

    func statusWord(_ row: Row) -> String {
        switch source(row) {
        case .indexed(let line): line.status.rawValue
        case .read(let summary): summary.word
        }
    }

    func taskWidth(_ row: Row) -> Int {
        switch source(row) {
        case .indexed(let line): line.task.count
        case .read(let summary): (summary.task ?? "?").utf8.count
        }
    }
}

/// What a row of `list` shows of an execution.
public struct Summary {
    public let id: String
    public let status: ExecutionStatus?
    /// The status as the STATUS column shows it: an execution's, or a job's (incoming, rejected).
    public let word: String
    public let task: String?
    public let submitted: Double?
    public let started: Double?
    public let ended: Double?
    public let parent: String?
    public let label: String

    init(_ report: ExecutionReport) {
        id = report.execution.id
        status = report.status
        word = report.status?.rawValue ?? "?"
        task = report.job?.task
        (submitted, started, ended) = (report.submitted, report.started, report.ended)
        parent = report.job?.parent
        label = report.job?.name?.escapingControlCharacters() ?? report.execution.message()?.firstLine ?? ""
    }

    init(id: String, status: ExecutionStatus?, word: String, task: String?, submitted: Double?, started: Double?, ended: Double?, parent: String?, label: String) {
        (self.id, self.status, self.word, self.task) = (id, status, word, task)
        (self.submitted, self.started, self.ended, self.parent, self.label) = (submitted, started, ended, parent, label)
    }

    /// Its line in spool/index, once it has ended and everything shown is known.
    var indexEntry: EndedIndex.Entry? {
        // The history's final line comes just after the final status: without it the duration is not known yet.
        guard let status, status.isFinal, let task, ended != nil else { return nil }
        return EndedIndex.Entry(id: id, status: status, task: task, submitted: submitted, started: started, ended: ended, parent: parent, label: label)
    }
}
