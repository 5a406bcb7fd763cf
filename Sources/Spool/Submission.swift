import JSON
import POSIX

extension Spool {
    /// Drops a job into incoming/ the way every writer must: whole under tmp/, then renamed without
    /// replacing anything, then a poke at the trigger FIFO. Returns the execution id it will have.
    ///
    /// With `durable: false` the job file is not fsynced: for a flow's children, whose only witness
    /// is the flow process. Admission makes them durable before they run; a machine crash before
    /// that takes them down together with the flow, which then ends `fault`.
    public func submit(_ job: Job, id requestedID: String? = nil, durable: Bool = true) throws(SpoolError) -> String {
        if let requestedID, !ExecutionID.isValid(requestedID) {
            throw SpoolError("'\(requestedID)' is not a valid execution id (1 to 64 letters, digits, '_', '-', '.')")
        }
        let bytes = Array((job.document().compactText + "\n").utf8)
        for _ in 0..<16 {
            let id = requestedID ?? ExecutionID.generate()
            if execution(id).exists || FileSystem.exists(failureReason(ofJobNamed: id + ".json")) {
                if requestedID != nil {
                    throw SpoolError("the id '\(id)' is taken by an execution or a job in failed/; choose another")
                }
                continue
            }
            let placed: Bool
            do {
                placed = try place(bytes, at: incoming + "/" + id + ".json", durable: durable)
            } catch {
                throw SpoolError("cannot submit the job to \(root)", cause: error)
            }
            if !placed {
                if requestedID != nil { throw SpoolError("a job named '\(id)' is waiting in incoming/ already") }
                continue
            }
            pokeTrigger()
            return id
        }
        throw SpoolError("could not find a free execution id in \(root)")
    }

    /// Writes `bytes` under tmp/ and renames the file to `target` unless that exists; false if it does.
    private func place(_ bytes: [UInt8], at target: String, durable: Bool) throws(SystemError) -> Bool {
        let temporary = try writeTemporary(FileContent(target, bytes), sync: durable)
        defer { try? FileSystem.removeIfPresent(temporary) }
        do {
            try FileSystem.renameNoReplace(temporary, target)
        } catch where error.errno == .fileExists {
            return false
        }
        if durable { try FileSystem.syncDirectory(incoming) }
        return true
    }
}

extension Spool {
    /// Whether a job or an execution with this id exists anywhere in the spool. The places are looked
    /// at in the order a job moves through them (incoming/ID.json or incoming/ID as dropped, its
    /// claim in tmp/, executions/, failed/),
    /// so a job that moves while we look is still found.
    public func knows(_ id: String) -> Bool {
        FileSystem.exists(incoming + "/" + id + ".json") || FileSystem.exists(incoming + "/" + id)
            || FileSystem.exists(claimDirectory(for: id))
            || execution(id).exists
            || FileSystem.exists(failureReason(ofJobNamed: id + ".json"))
    }

    /// The job known as `id`, wherever it is: incoming/, its claim in tmp/, executions/ or
    /// failed/, looked at in the order a job moves through them; nil when none can be read.
    public func job(knownAs id: String) -> Job? {
        func read(_ path: String, record: Bool) -> Job? {
            (try? readFile(path, limit: Job.maximumSize)).flatMap { try? Job(parsing: $0, record: record) }
        }
        let claim = claimDirectory(for: id)
        return read(incoming + "/" + id + ".json", record: false)
            ?? read(claim + "/job.json", record: false)
            ?? read(claim + "/" + Execution.File.inputs.rawValue, record: true)
            ?? (try? execution(id).job())
            ?? read(failed + "/" + id + ".json", record: false)
    }

    /// Takes back a job that no supervisor has admitted yet, setting it aside as failed/ID.json
    /// beside `why`; false when it is no longer in incoming/ (it was admitted meanwhile). The job
    /// is moved before the reason is written, so that it is never both waiting and rejected.
    public func withdraw(_ id: String, because why: String) throws(SystemError) -> Bool {
        let name = id + ".json"
        guard !FileSystem.exists(failed + "/" + name) else { return false }
        do {
            try FileSystem.rename(incoming + "/" + name, failed + "/" + name)
        } catch where error.errno == .noSuchFileOrDirectory {
            return false
        }
        try commit(why + "\n", to: failureReason(ofJobNamed: name), mode: 0o644)
        try FileSystem.syncDirectory(failed)
        return true
    }

    /// Takes back a job a crashed supervisor was admitting (its claim in tmp/), setting it aside
    /// as failed/ID.json beside `why`; false when there is no such claim. Only while no supervisor
    /// runs: one would complete the claim at its start.
    public func withdrawClaim(_ id: String, because why: String) throws(SystemError) -> Bool {
        let claim = claimDirectory(for: id)
        guard FileSystem.exists(claim), !FileSystem.exists(failed + "/" + id + ".json") else { return false }
        for file in ["job.json", Execution.File.inputs.rawValue] where FileSystem.exists(claim + "/" + file) {
            try FileSystem.rename(claim + "/" + file, failed + "/" + id + ".json")
            break
        }
        try commit(why + "\n", to: failureReason(ofJobNamed: id + ".json"), mode: 0o644)
        try FileSystem.syncDirectory(failed)
        try FileSystem.removeTree(claim)
        return true
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
}
