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
}
