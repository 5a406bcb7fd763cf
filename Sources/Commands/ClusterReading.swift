import Basics
import Cluster
import JSON
import POSIX
import Spool

/// `show`, `list` and `gc` over a cluster's records.
extension ClusterBackend {
    public func show(_ id: String, json: Bool) throws {
        let record = try record(id)
        let object = Self.document(record)
        if json {
            printLine(JSON.object(object).prettyText)
            return
        }
        let fields = ["id", "task", "status", "node", "submitted", "started", "ended", "message"].compactMap { field -> (String, String)? in
            guard let value = object[field], value != .null else { return nil }
            return (field, (value.stringValue ?? value.compactText).escapingControlCharacters(keeping: "\n").indentingContinuation)
        }
        printFields(fields, inputs: object["inputs"]?.objectValue ?? [:], outputs: Self.maskedOutputs(record))
    }

    /// The record's outputs with those its job protects (protect_outputs) masked, as a local
    /// spool's are shown.
    static func maskedOutputs(_ record: ClusterRecord) -> JSONObject? {
        record.outputs.map { Protection.maskedOutputs($0, inputs: record.job?.inputs ?? [:]) }
    }

    /// What `show --json` and `list --json` print of a record, protected inputs and outputs masked.
    static func document(_ record: ClusterRecord) -> JSONObject {
        let job = record.job
        var object: JSONObject = ["id": .string(record.id), "task": job.map { .string($0.task) } ?? .null, "status": record.status.map(JSON.string) ?? .null]
        object["node"] = record.node.map(JSON.string) ?? .null
        for field in ["submitted", "started", "ended"] {
            object[field] = record.time(field).map { .string(Clock.iso8601($0)) } ?? .null
        }
        object["message"] = record.message.map(JSON.string) ?? .null
        object["inputs"] = .object(Protection.maskedInputs(job?.inputs ?? [:]))
        object["outputs"] = maskedOutputs(record).map(JSON.object) ?? .null
        return object
    }

    public func list(_ query: ListQuery) throws {
        let records = try talking { () throws(ClusterError) in
            // Without a filter, only the newest `limit` records are read.
            let filtered = !query.statuses.isEmpty || query.task != nil
            return try store.records(store.executionIDs(last: filtered ? nil : query.limit))
        }
        let picked = records.filter { query.matches(status: $0.status, task: $0.fields["task"]) }
        let shown = Array(picked.suffix(query.limit ?? picked.count))
        if query.json {
            printLine(JSON.array(shown.map { .object(Self.document($0)) }).prettyText)
            return
        }
        printTable(header: ["ID", "STATUS", "TASK", "NODE", "SUBMITTED", "DURATION", "MESSAGE"], rows: shown.map(Self.row))
    }

    static func row(_ record: ClusterRecord) -> [String] {
        let submitted = record.time("submitted")
        let duration = record.time("ended").map { end in Clock.describeDuration(end - (record.time("started") ?? submitted ?? end)) } ?? "-"
        return [record.id, record.status ?? "?", record.fields["task"] ?? "?", record.node ?? "-",
                submitted.map(Clock.iso8601) ?? "-", duration, (record.message ?? "").firstLine.escapingControlCharacters()]
    }

    /// Deletes the records that ended before the cutoff (with statuses, only those) and, unless
    /// statuses are given, forgets the hosts silent since then that hold nothing of the queue. A
    /// line for each.
    public func gc(_ request: GCRequest) throws {
        func describe(_ record: ClusterRecord) -> String {
            "\(record.id) (\(record.status ?? "?"), ended \(record.time("ended").map(Clock.iso8601) ?? "?"))"
        }
        func describe(_ node: (name: String, seen: Double)) -> String {
            "host \(node.name) (last seen \(Clock.iso8601(node.seen)))"
        }
        try talking { () throws(ClusterError) in
            let records = try store.recordsEnded(before: request.cutoff).filter { request.statuses.isEmpty || request.statuses.contains($0.status ?? "") }
            let silent = request.statuses.isEmpty ? try store.silentNodes(before: request.cutoff) : []
            if request.dryRun {
                for record in records { printLine("would remove " + describe(record)) }
                for node in silent { printLine("would forget " + describe(node)) }
                return
            }
            let forgotten = Set(try store.forget(records.map(\.id)))
            for record in records where forgotten.contains(record.id) { printLine("removed " + describe(record)) }
            for node in silent {
                try store.forgetNode(node.name)
                printLine("forgot " + describe(node))
            }
        }
    }
}
