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
            let fd = try FileDescriptor.open(control, .writeOnly, options: .nonBlocking)
            try? fd.close()
            return .running
        } catch where error.errno == .permissionDenied || error.errno == .notPermitted {
            return .unknown
        } catch {
            return .absent
        }
    }
}
