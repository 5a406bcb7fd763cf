import ArgumentParser
import Cluster
import JSON
import POSIX
import Spool

/// The commands' side of a cluster (flowspool-cluster(7)): with --cluster URL, or
/// $FLOWSPOOL_CLUSTER, submit, run, status, wait, show, list, cancel and gc work on the cluster's
/// queue and records instead of a local spool.
enum ClusterClient {
    /// The cluster the command line names, connected; nil when it names none.
    static func store() throws -> ClusterStore? {
        guard let text = Environment.nonEmptyValue(ClusterURL.variable) else { return nil }
        do {
            return try ClusterStore(try ClusterURL(parsing: text))
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    static func submit(_ job: Job, id: String?, retryOnHostLoss: Bool, to store: ClusterStore) throws -> String {
        do {
            return try store.submit(job, id: id, retryOnHostLoss: retryOnHostLoss)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    static func record(_ id: String, in store: ClusterStore) throws -> ClusterRecord {
        guard ExecutionID.isValid(id) else { throw CommandFailure("'\(id)' is not an execution id") }
        let found: ClusterRecord?
        do {
            found = try store.record(id)
        } catch {
            throw CommandFailure("\(error)")
        }
        guard let found else { throw CommandFailure("no execution \(id) in the cluster at \(store.url)") }
        return found
    }

    /// Looks at the record until it is final or `timeout` passes (ClusterStore.poll); nil when the
    /// time ran out.
    static func awaitEnd(of id: String, in store: ClusterStore, timeout: Double?) throws -> ClusterRecord? {
        guard ExecutionID.isValid(id) else { throw CommandFailure("'\(id)' is not an execution id") }
        do {
            return try ClusterStore.poll(timeout: timeout) { () throws(ClusterError) -> ClusterRecord? in
                guard let record = try store.record(id) else { throw ClusterError("no execution \(id) in the cluster at \(store.url)") }
                return record.isFinal ? record : nil
            }
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// Cancels an execution of the cluster: at once when no host has taken it, else through the
    /// host that holds it. Prints how it ended; exits 1 unless it ended cancelled.
    static func cancel(_ id: String, in store: ClusterStore) throws {
        let outcome: String
        do {
            outcome = try store.cancelUntaken(id)
            if outcome.hasPrefix("node ") { try store.send(to: String(outcome.dropFirst(5)), ["kind": "cancel", "id": .string(id)]) }
        } catch {
            throw CommandFailure("\(error)")
        }
        switch outcome {
        case "none": throw CommandFailure("no execution \(id) in the cluster at \(store.url)")
        case "ended": throw CommandFailure("\(id) has ended already: \(try record(id, in: store).status ?? "?")")
        default: break
        }
        guard let ended = try awaitEnd(of: id, in: store, timeout: 30) else { throw CommandFailure("\(id) has not ended 30 s after the cancel") }
        printLine(ended.status ?? "?")
        if ended.status != "cancelled" { throw ExitCode(ProgramExit.failure) }
    }

    static func show(_ record: ClusterRecord, json: Bool) {
        let job = record.job
        var object: JSONObject = ["id": .string(record.id), "task": job.map { .string($0.task) } ?? .null, "status": record.status.map(JSON.string) ?? .null]
        object["node"] = record.node.map(JSON.string) ?? .null
        for field in ["submitted", "started", "ended"] {
            object[field] = record.time(field).map { .string(Clock.iso8601($0)) } ?? .null
        }
        object["message"] = record.message.map(JSON.string) ?? .null
        object["inputs"] = .object(Protection.maskedInputs(job?.inputs ?? [:]))
        object["outputs"] = record.outputs.map(JSON.object) ?? .null
        if json {
            printLine(JSON.object(object).prettyText)
            return
        }
        let fields = ["id", "task", "status", "node", "submitted", "started", "ended", "message"].compactMap { field -> (String, String)? in
            guard let value = object[field], value != .null else { return nil }
            return (field, (value.stringValue ?? value.compactText).escapingControlCharacters(keeping: "\n").indentingContinuation)
        }
        printFields(fields, inputs: object["inputs"]?.objectValue ?? [:], outputs: record.outputs)
    }

    static func list(_ store: ClusterStore, statuses: Set<String>, task: String?, limit: Int?) throws {
        let records: [ClusterRecord]
        do {
            // Without a filter, only the newest `limit` records are read.
            let filtered = !statuses.isEmpty || task != nil
            records = try store.records(store.executionIDs(last: filtered ? nil : limit))
        } catch {
            throw CommandFailure("\(error)")
        }
        let rows = records.filter { statuses.isEmpty || statuses.contains($0.status ?? "") }
            .filter { task == nil || $0.fields["task"] == task }
            .map(row)
        printTable(header: ["ID", "STATUS", "TASK", "NODE", "SUBMITTED", "DURATION", "MESSAGE"], rows: Array(rows.suffix(limit ?? rows.count)))
    }

    /// `gc` on a cluster: deletes the records that ended before `cutoff` (with `statuses`, only
    /// those) and, unless statuses are given, forgets the hosts silent since then that hold nothing
    /// of the queue. A line for each.
    static func gc(_ store: ClusterStore, endedBefore cutoff: Double, statuses: Set<String>, dryRun: Bool) throws {
        do {
            let records = try store.recordsEnded(before: cutoff).filter { statuses.isEmpty || statuses.contains($0.status ?? "") }
            let silent = statuses.isEmpty ? try store.silentNodes(before: cutoff) : []
            func describe(_ record: ClusterRecord) -> String {
                "\(record.id) (\(record.status ?? "?"), ended \(record.time("ended").map(Clock.iso8601) ?? "?"))"
            }
            func describe(_ node: (name: String, seen: Double)) -> String {
                "host \(node.name) (last seen \(Clock.iso8601(node.seen)))"
            }
            if dryRun {
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
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    static func row(_ record: ClusterRecord) -> [String] {
        let submitted = record.time("submitted")
        let duration = record.time("ended").map { end in Clock.describeDuration(end - (record.time("started") ?? submitted ?? end)) } ?? "-"
        return [record.id, record.status ?? "?", record.fields["task"] ?? "?", record.node ?? "-",
                submitted.map(Clock.iso8601) ?? "-", duration, (record.message ?? "").firstLine.escapingControlCharacters()]
    }
}

/// `flowspool --cluster URL nodes`: the hosts of a cluster and when each was last heard of.
struct Nodes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes", abstract: "With --cluster: the cluster's hosts, when each was last seen, and what each holds.")

    @Flag(help: "Print a JSON dictionary.") var json = false

    func run() throws {
        try reportingFailures {
            guard let store = try ClusterClient.store() else {
                throw CommandFailure("nodes lists a cluster's hosts: give --cluster redis://HOST:PORT before it, or set $FLOWSPOOL_CLUSTER", exitCode: ProgramExit.usage)
            }
            let nodes: [String: JSON]
            do {
                nodes = try store.nodes()
            } catch {
                throw CommandFailure("\(error)")
            }
            if json {
                printLine(JSON.object(JSONObject(nodes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })).prettyText)
                return
            }
            let now = Clock.now()
            printTable(header: ["NODE", "LAST SEEN", "HOLDS", "SLOTS", "EXECUTIONS"], rows: nodes.sorted { $0.key < $1.key }.map { name, state in
                [name.escapingControlCharacters(), state["seen"]?.doubleValue.map { Clock.describeDuration(max(0, now - $0)) + " ago" } ?? "-",
                 state["held"].map(\.compactText) ?? "-", state["slots"].map(\.compactText) ?? "-",
                 (state["executions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ").escapingControlCharacters()]
            })
        }
    }
}
