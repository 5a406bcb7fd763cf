import Basics
import Cluster
import JSON
import POSIX
import Responder
import Spool

/// The commands over a cluster's queue and records (flowspool-cluster(7)): with --cluster URL, or
/// $FLOWSPOOL_CLUSTER, wherever the execution runs.
public struct ClusterBackend: Backend {
    public let store: ClusterStore

    /// The cluster's URL that the command line names: --cluster, else $FLOWSPOOL_CLUSTER unless
    /// --spool names a local spool.
    public static func url(cluster: String?, spool: String?) -> String? {
        cluster ?? (spool == nil ? Environment.nonEmptyValue(ClusterURL.variable) : nil)
    }

    /// The cluster at `url`, connected once the options of `given` it lacks, and --spool when
    /// `spool` is given, are refused (Backend.refuse).
    public init(url: String, spool: String?, refusing given: [CommandOption] = []) throws {
        try Self.refuse((spool == nil ? [] : [.spool]) + given)
        try self.init(url: url)
    }

    /// The cluster at `url`, connected.
    public init(url text: String) throws {
        do {
            store = try ClusterStore(try ClusterURL(parsing: text))
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    public static var name: String { "--cluster" }

    public static var lacks: [CommandOption: String] {
        [
            .spool: "a cluster's executions are in Redis, not in a spool; give one or the other",
            .unique: "a cluster keeps no unique keys; run it with --spool on one host",
            .cancelOnInterrupt: "Ctrl-C leaves a cluster's execution going; cancel it with flowspool --cluster URL cancel ID",
            .parent: "a cluster's records do not list a flow's children; list them on the host that ran the flow",
            .all: "a cluster has no incoming/ or failed/; its queue holds only executions",
            .archive: "a cluster's records are deleted from Redis, not archived",
        ]
    }

    /// Runs `body`, saying a cluster's error as a CommandFailure.
    func talking<T>(_ body: () throws(ClusterError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    public func submit(_ submission: Submission) throws -> String {
        try talking { () throws(ClusterError) in try store.submit(submission.job, id: submission.id, retryOnHostLoss: submission.retryOnHostLoss) }
    }

    /// Submitted to the queue, waited for through its record; when the wait's bound passes, the
    /// execution is cancelled, as a local run's is.
    public func run(_ submission: Submission, _ options: RunOptions) throws {
        let id = try submit(submission)
        if !options.quiet { printError("execution \(id)") }
        guard let record = try awaitEnd(of: id, timeout: options.timeout) else {
            throw CommandFailure("\(id) has not ended after \(Clock.describeDuration(options.timeout ?? 0)): \(cancelAfterTimeout(id))", exitCode: ProgramExit.timedOut)
        }
        try reportEnd(of: id, record.status ?? "?", outputs: Self.maskedOutputs(record) ?? [:], message: record.message ?? "", quiet: options.quiet)
    }

    /// After run --timeout: cancels the execution and waits a little for its end, as a local run
    /// does; says what came of it, or why no cancel could be sent.
    func cancelAfterTimeout(_ id: String) -> String {
        do {
            guard let ended = try stop(id, waiting: 10) else { return "it is being cancelled" }
            return "it ended \(ended.status ?? "?")"
        } catch {
            if let record = try? record(id), record.isFinal { return "it ended \(record.status ?? "?") meanwhile" }
            return "it could not be cancelled: \(error)"
        }
    }

    func record(_ id: String) throws -> ClusterRecord {
        try requireExecutionID(id)
        guard let found = try talking({ () throws(ClusterError) in try store.record(id) }) else {
            throw CommandFailure("no execution \(id) in the cluster at \(store.url)")
        }
        return found
    }

    public func status(of id: String) throws -> String {
        try record(id).status ?? "?"
    }

    public func wait(for id: String, timeout: Double?) throws -> Ending {
        guard let record = try awaitEnd(of: id, timeout: timeout) else { return .timedOut }
        return .ended(record.status ?? "?")
    }

    /// Looks at the record until it is final or `timeout` passes (ClusterStore.poll); nil when the
    /// time ran out.
    func awaitEnd(of id: String, timeout: Double?) throws -> ClusterRecord? {
        try requireExecutionID(id)
        return try talking { () throws(ClusterError) in
            try ClusterStore.poll(timeout: timeout) { () throws(ClusterError) -> ClusterRecord? in
                guard let record = try store.record(id) else { throw ClusterError("no execution \(id) in the cluster at \(store.url)") }
                return record.isFinal ? record : nil
            }
        }
    }

    /// Cancels an execution of the cluster: at once when no host has taken it, else through the
    /// host that holds it. Prints how it ended; exits 1 unless it ended cancelled.
    public func cancel(_ id: String) throws {
        try requireExecutionID(id)
        guard let ended = try stop(id, waiting: 30) else { throw CommandFailure("\(id) has not ended 30 s after the cancel") }
        printLine(ended.status ?? "?")
        if ended.status != "cancelled" { throw CommandFailure.exit(ProgramExit.failure) }
    }

    /// Asks for the cancel and waits up to `seconds` for the end; returns the final record, or nil
    /// when it has not ended by then.
    func stop(_ id: String, waiting seconds: Double) throws -> ClusterRecord? {
        let outcome = try talking { () throws(ClusterError) in
            let outcome = try store.cancelUntaken(id)
            if outcome.hasPrefix("node ") { try store.send(to: String(outcome.dropFirst(5)), ["kind": "cancel", "id": .string(id)]) }
            return outcome
        }
        switch outcome {
        case "none": throw CommandFailure("no execution \(id) in the cluster at \(store.url)")
        case "ended": throw CommandFailure("\(id) has ended already: \(try record(id).status ?? "?")")
        default: break
        }
        return try awaitEnd(of: id, timeout: seconds)
    }

    public func respond(to id: String, wait: Double, answer: () -> [UInt8]) -> Responding.Outcome {
        ClusterResponding(store: store).answer(id, with: answer(), wait: wait)
    }

    /// The cluster's hosts, by name: when each was last seen, and what each holds.
    public func nodes() throws -> [String: JSON] {
        try talking { () throws(ClusterError) in try store.nodes() }
    }
}
