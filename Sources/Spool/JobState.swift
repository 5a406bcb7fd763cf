import POSIX

/// How a submitted job stands for someone waiting on it.
public enum JobState: Equatable, Sendable {
    /// Still in incoming/ or not yet final.
    case pending
    /// The execution ended with this status.
    case ended(ExecutionStatus)
    /// The job file was moved to failed/ with this reason.
    case rejected(String)
    /// The job is nowhere in the spool any more: its execution was removed before it ended (by
    /// hand; gc removes only ended ones), or the id was never submitted.
    case vanished

    /// What a waiter says of a vanished execution.
    public static func vanishedMessage(_ id: String) -> String {
        "\(id) is gone from the spool (its directory was removed by hand before it ended)"
    }
}

extension Spool {
    /// The state of the job submitted as `id`.
    public func jobState(_ id: String) -> JobState {
        if let status = execution(id).status() {
            return status.isFinal ? .ended(status) : .pending
        }
        if let why = reasonSetAside(ofJobNamed: id + ".json") { return .rejected(why) }
        // Looked at in the order a job moves, so that one moving meanwhile is still found.
        return knows(id) ? .pending : .vanished
    }

    /// Waits, without polling, until the job submitted as `id` ends or is rejected, or `timeout`
    /// seconds pass (nil: no limit).
    public func waitForEnd(of id: String, timeout: Double?) throws(SystemError) -> JobState {
        try JobWatcher(spool: self).wait(for: [id], until: .all, timeout: timeout)[id] ?? .pending
    }
}
