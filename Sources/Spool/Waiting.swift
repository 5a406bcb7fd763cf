#if canImport(Glibc)
import Glibc
#endif
import POSIX

/// How a submitted job stands for someone waiting on it.
public enum JobState: Equatable, Sendable {
    /// Still in incoming/ or not yet final.
    case pending
    /// The execution ended with this status.
    case ended(ExecutionStatus)
    /// The job file was moved to failed/ with this reason.
    case rejected(String)
}

extension Spool {
    /// Whether a job or an execution with this id exists anywhere in the spool. The places are looked
    /// at in the order a job moves through them (incoming/, its claim in tmp/, executions/, failed/),
    /// so a job that moves while we look is still found.
    public func knows(_ id: String) -> Bool {
        FileSystem.exists(incoming + "/" + id + ".json")
            || FileSystem.exists(claimDirectory(for: id))
            || execution(id).exists
            || FileSystem.exists(failureReason(ofJobNamed: id + ".json"))
    }

    /// The id of a job submitted with this unique key that has not ended: waiting in incoming/ or
    /// being admitted, or an execution whose status is not final.
    public func unfinishedJob(withUniqueKey key: String) -> String? {
        func unique(_ path: String, record: Bool) -> String? {
            (try? readFile(path, limit: Job.maximumSize)).flatMap { try? Job(parsing: $0, record: record) }?.unique
        }
        for name in (try? FileSystem.listDirectory(incoming)) ?? [] where unique(incoming + "/" + name, record: false) == key {
            return String(name.dropLast(name.hasSuffix(".json") ? 5 : 0))
        }
        for name in (try? FileSystem.listDirectory(tmp)) ?? [] where name.hasSuffix(Self.claimSuffix) {
            if unique(tmp + "/" + name + "/job.json", record: false) == key { return String(name.dropLast(Self.claimSuffix.count)) }
        }
        for id in (try? FileSystem.listDirectory(executions)) ?? [] where ExecutionID.isValid(id) {
            let execution = execution(id)
            if execution.status()?.isFinal != true, unique(execution.path(.inputs), record: true) == key { return id }
        }
        return nil
    }

    /// The state of the job submitted as `id`.
    public func jobState(_ id: String) -> JobState {
        if let status = execution(id).status() {
            return status.isFinal ? .ended(status) : .pending
        }
        if let why = try? readText(failureReason(ofJobNamed: id + ".json")) {
            return .rejected(why.trimming("\n"))
        }
        return .pending
    }

    /// Waits, without polling, until the job submitted as `id` ends or is rejected, or `timeout`
    /// seconds pass (nil: no limit).
    public func waitForEnd(of id: String, timeout: Double?) throws(SystemError) -> JobState {
        try JobWatcher(spool: self).wait(for: [id], until: .all, timeout: timeout)[id] ?? .pending
    }

    /// Whether a flowspoold supervises this spool right now: it keeps the control FIFO open for
    /// reading, so opening it for writing succeeds (asking the lock instead could race a starting
    /// supervisor out of it).
    public var hasSupervisor: Bool { supervisorPresence == .running }

    public enum SupervisorPresence: Sendable {
        case running, absent
        /// Who may not open the control FIFO cannot tell (a responder).
        case unknown
    }

    public var supervisorPresence: SupervisorPresence {
        do {
            try FileDescriptor.open(control, O_WRONLY | O_NONBLOCK).close()
            return .running
        } catch where error.errno == EACCES || error.errno == EPERM {
            return .unknown
        } catch {
            return .absent
        }
    }
}


/// Waits for jobs to end with inotify: on executions/ and failed/, where jobs arrive, and on the
/// directory of each execution waited for. Every wake-up re-reads the files, which are the truth.
/// One watcher serves many waits, as a flow waits on child after child.
public final class JobWatcher {
    public let spool: Spool
    let inotify: Inotify
    /// Watch descriptors of the execution directories watched now, by id.
    var watches: [String: Int32] = [:]

    public enum Condition: Sendable {
        /// Until one of the jobs has ended.
        case any
        /// Until all of them have.
        case all

        /// Whether the condition holds for these states.
        public func holds(in states: [String: JobState]) -> Bool {
            let ended = states.values.filter { $0 != .pending }.count
            return self == .any ? ended > 0 : ended == states.count
        }
    }

    public init(spool: Spool) throws(SystemError) {
        self.spool = spool
        inotify = try Inotify()
        try inotify.watch(spool.executions, for: Int32(IN_MOVED_TO | IN_CREATE))
        try inotify.watch(spool.failed, for: Int32(IN_MOVED_TO))
    }

    /// The states of `ids` once the condition holds, or when `timeout` seconds have passed (nil: no
    /// limit); the jobs still going are `.pending` then.
    public func wait(for ids: [String], until condition: Condition, timeout: Double?) throws(SystemError) -> [String: JobState] {
        let deadline = timeout.map { Clock.monotonic() + $0 }
        while true {
            var states: [String: JobState] = [:]
            for id in ids {
                try watchIfNeeded(id)
                states[id] = spool.jobState(id)
            }
            for (id, state) in states where state != .pending { unwatch(id) }
            if condition.holds(in: states) { return states }
            let remaining = deadline.map { $0 - Clock.monotonic() }
            if let remaining, remaining <= 0 { return states }
            _ = try Poll.readable([inotify.descriptor], timeout: remaining)
            inotify.drain()
        }
    }

    /// Waits until the job submitted as `id` has its execution directory, or was rejected.
    public func waitForExecution(_ id: String) throws(SystemError) {
        while !spool.execution(id).exists, spool.jobState(id) == .pending {
            _ = try Poll.readable([inotify.descriptor], timeout: nil)
            inotify.drain()
        }
    }

    func watchIfNeeded(_ id: String) throws(SystemError) {
        guard watches[id] == nil, spool.execution(id).exists else { return }
        do {
            watches[id] = try inotify.watch(spool.execution(id).directory, for: Int32(IN_MOVED_TO | IN_CLOSE_WRITE))
        } catch where error.errno == ENOENT {
            // Gone between the look and the watch: the next look says why.
        }
    }

    func unwatch(_ id: String) {
        if let watch = watches.removeValue(forKey: id) { inotify.unwatch(watch) }
    }
}
