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

    /// The state of the job submitted as `id`.
    public func jobState(_ id: String) -> JobState {
        if let status = execution(id).status() {
            return status.isFinal ? .ended(status) : .pending
        }
        if let why = try? FileSystem.readText(failureReason(ofJobNamed: id + ".json")) {
            return .rejected(why.trimming("\n"))
        }
        return .pending
    }

    /// Waits, without polling, until the job submitted as `id` ends or is rejected, or `timeout`
    /// seconds pass (nil: no limit). inotify watches executions/, failed/ and the execution's own
    /// directory; every wake-up re-reads the files, which are the truth.
    public func waitForEnd(of id: String, timeout: Double?) throws(SystemError) -> JobState {
        let inotify = try Inotify()
        try inotify.watch(executions, for: Int32(IN_MOVED_TO | IN_CREATE))
        try inotify.watch(failed, for: Int32(IN_MOVED_TO))
        let deadline = timeout.map { Clock.monotonic() + $0 }
        var watchingExecution = false
        while true {
            if !watchingExecution && execution(id).exists {
                try inotify.watch(execution(id).directory, for: Int32(IN_MOVED_TO | IN_CLOSE_WRITE))
                watchingExecution = true
            }
            let state = jobState(id)
            if state != .pending { return state }
            let remaining = deadline.map { $0 - Clock.monotonic() }
            if let remaining, remaining <= 0 { return .pending }
            _ = try Poll.readable([inotify.descriptor], timeout: remaining)
            inotify.drain()
        }
    }

    /// Whether a flowspoold supervises this spool right now: it keeps the control FIFO open for
    /// reading, so opening it for writing succeeds (asking the lock instead could race a starting
    /// supervisor out of it).
    public var hasSupervisor: Bool {
        guard let fd = try? FileDescriptor.open(control, O_WRONLY | O_NONBLOCK) else { return false }
        fd.close()
        return true
    }
}

