import POSIX
import Responder
import Spool

/// Where the commands of flowspool(1) act: a local spool (LocalSpoolBackend) or a cluster's queue
/// and records (ClusterBackend, flowspool-cluster(7)). Each command is written once over this;
/// an option a back-end lacks is refused by `refuse`, before anything is done.
public protocol Backend {
    /// How a refusal names it: "a local spool", "--cluster".
    static var name: String { get }
    /// The options it lacks, each with why: known before it is reached.
    static var lacks: [CommandOption: String] { get }

    /// Submits the job and returns its execution id.
    func submit(_ submission: Submission) throws -> String
    /// Submits the job, waits for it to end and reports how it ended (flowspool(1), run).
    func run(_ submission: Submission, _ options: RunOptions) throws
    /// The execution's status word.
    func status(of id: String) throws -> String
    /// Waits until the execution ends or `timeout` passes.
    func wait(for id: String, timeout: Double?) throws -> Ending
    /// Prints the execution: its fields, or one JSON document.
    func show(_ id: String, json: Bool) throws
    /// Prints the executions `query` picks, oldest first.
    func list(_ query: ListQuery) throws
    /// Cancels the execution and prints how it ended; fails unless it ended cancelled.
    func cancel(_ id: String) throws
    /// Removes what ended before the cutoff, a line for each.
    func gc(_ request: GCRequest) throws
    /// Answers the INPUT request `id` with what `answer` reads: a local spool reads it once the
    /// request is known to take one, a cluster at once.
    func respond(to id: String, wait: Double, answer: () -> [UInt8]) -> Responding.Outcome
}

/// An option of the command line that not every back-end has (the table under Back-ends in flowspool(1)).
public enum CommandOption: String, CaseIterable, Sendable {
    case spool = "--spool"
    case retryOnHostLoss = "--retry-on-host-loss"
    case unique = "--unique"
    case cancelOnInterrupt = "--cancel-on-interrupt"
    case parent = "--parent"
    case all = "--all"
    case archive = "--archive"
}

extension Backend {
    /// The one place an option the back-end lacks is refused: a usage error (exit 64) that names
    /// the option, the back-end and why.
    public static func refuse(_ given: [CommandOption]) throws {
        for option in given {
            if let why = lacks[option] { throw CommandFailure.usage("\(option.rawValue) is not supported with \(name): \(why)") }
        }
    }

    /// Whether it has the option.
    public static func supports(_ option: CommandOption) -> Bool {
        lacks[option] == nil
    }
}

/// A job to submit, with how the command line asked for it.
public struct Submission {
    public var job: Job
    public var id: String?
    public var retryOnHostLoss: Bool

    public init(job: Job, id: String? = nil, retryOnHostLoss: Bool = false) {
        (self.job, self.id, self.retryOnHostLoss) = (job, id, retryOnHostLoss)
    }

    public var options: [CommandOption] { retryOnHostLoss ? [.retryOnHostLoss] : [] }
}

/// How `run` waits: `timeout` bounds the wait only, not the job (its own is the job's `timeout`).
public struct RunOptions {
    public var quiet: Bool
    public var unique: String?
    public var cancelOnInterrupt: Bool
    public var timeout: Double?

    public init(quiet: Bool = false, unique: String? = nil, cancelOnInterrupt: Bool = false, timeout: Double? = nil) {
        (self.quiet, self.unique, self.cancelOnInterrupt, self.timeout) = (quiet, unique, cancelOnInterrupt, timeout)
    }

    public var options: [CommandOption] {
        (unique == nil ? [] : [.unique]) + (cancelOnInterrupt ? [.cancelOnInterrupt] : [])
    }
}

/// What `list` shows.
public struct ListQuery {
    public var statuses: Set<String>
    public var task: String?
    public var parent: String?
    public var limit: Int?
    public var all: Bool
    public var json: Bool

    public init(statuses: Set<String> = [], task: String? = nil, parent: String? = nil, limit: Int? = nil, all: Bool = false, json: Bool = false) {
        (self.statuses, self.task, self.parent, self.limit, self.all, self.json) = (statuses, task, parent, limit, all, json)
    }

    public var options: [CommandOption] {
        (parent == nil ? [] : [.parent]) + (all ? [.all] : [])
    }

    /// Whether a record of `status` and `task` is one to show.
    public func matches(status: String?, task: String?) -> Bool {
        (statuses.isEmpty || statuses.contains(status ?? "")) && (self.task == nil || task == self.task)
    }
}

/// What `gc` removes: what ended before `cutoff` (seconds since the epoch), with `statuses` only
/// that; `archive` first writes it there.
public struct GCRequest {
    public var cutoff: Double
    public var statuses: Set<String>
    public var archive: String?
    public var dryRun: Bool

    public init(cutoff: Double, statuses: Set<String> = [], archive: String? = nil, dryRun: Bool = false) {
        (self.cutoff, self.statuses, self.archive, self.dryRun) = (cutoff, statuses, archive, dryRun)
    }

    public var options: [CommandOption] { archive == nil ? [] : [.archive] }
}
