import Basics
import JSON
import POSIX
import Spool

/// `show` and `list` over a local spool.
extension LocalSpoolBackend {
    public func show(_ id: String, json: Bool) throws {
        let report = ExecutionReport(try spool.checkedExecution(id))
        if json {
            printLine(report.json.prettyText)
            return
        }
        var lines: [(String, String)] = [("id", id), ("task", report.job?.task ?? "?"), ("status", report.status?.rawValue ?? "?")]
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
                let status = spool.execution(child).status()?.rawValue ?? "?"
                let task = (try? spool.execution(child).job().task) ?? "?"
                printLine("  \(child)  \(task)  \(status)")
            }
        }
    }

    public func list(_ query: ListQuery) throws {
        try requireOwnersAccess(to: spool)
        let ids = (try query.parent.map { try spool.checkedExecution($0).children() }
            ?? (try? FileSystem.listDirectory(spool.executions)) ?? []).filter { ExecutionID.isValid($0) }
        let jobs = query.all && query.parent == nil ? JobSummary.all(in: spool) : []
        if query.json {
            printLine(JSON.array(Self.jsonReports(ids, jobs: jobs, in: spool, query)).prettyText)
            return
        }
        let listing = Listing(ids, in: spool, jobs: jobs)
        listing.write(listing.order(query))
    }

    /// What `list --json` prints: `show --json`'s document of each execution, and of each job
    /// with --all, in `list`'s order; every execution's own files read.
    static func jsonReports(_ ids: [String], jobs: [JobSummary], in spool: Spool, _ query: ListQuery) -> [JSON] {
        var reports = ids.map { ExecutionReport(spool.execution($0)) }
            .filter { query.matches(status: $0.status?.rawValue, task: $0.job?.task) }
            .map { (submitted: $0.submitted ?? 0, id: $0.execution.id, json: $0.json) }
        reports += jobs.filter { query.matches(status: $0.status, task: $0.task) }
            .map { (submitted: $0.submitted ?? 0, id: $0.id, json: $0.json) }
        reports.sort { ($0.submitted, $0.id) < ($1.submitted, $1.id) }
        return reports.suffix(query.limit ?? reports.count).map(\.json)
    }
}
