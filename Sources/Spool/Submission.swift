import Basics
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
            if execution(id).exists || FileSystem.exists(failed + "/" + id + ".json") || FileSystem.exists(failureReason(ofJobNamed: id + ".json")) {
                if requestedID != nil {
                    throw SpoolError("the id '\(id)' is taken by an execution or a job in failed/; choose another")
                }
                continue
            }
            let placed: Bool
            do {
                placed = try write([FileContent(incoming + "/" + id + ".json", bytes)], WritePolicy(.noReplace, durability: durable ? .fileAndDirectory : .none))
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
            || FileSystem.exists(failed + "/" + id + ".json") || FileSystem.exists(failureReason(ofJobNamed: id + ".json"))
    }

    /// The job known as `id`, wherever it is: incoming/, its claim in tmp/, executions/ or
    /// failed/, looked at in the order a job moves through them; nil when none can be read.
    public func job(knownAs id: String) -> Job? {
        func read(_ path: String, record: Bool) -> Job? {
            (try? FileSystem.readFile(path, limit: Job.maximumSize, beneath: root)).flatMap { try? Job(parsing: $0, record: record) }
        }
        let claim = claimDirectory(for: id)
        return read(incoming + "/" + id + ".json", record: false)
            ?? read(claim + "/job.json", record: false)
            ?? read(claim + "/" + Execution.File.inputs.rawValue, record: true)
            ?? (try? execution(id).job())
            ?? read(failed + "/" + id + ".json", record: false)
    }

    /// Takes back a job that no supervisor has admitted yet, setting it aside as failed/ID.json
    /// beside `why`; false when it is no longer in incoming/ (it was admitted meanwhile).
    public func withdraw(_ id: String, because why: String) throws(SystemError) -> Bool {
        let name = id + ".json"
        guard !FileSystem.exists(failed + "/" + name) else { return false }
        return try setAside(incoming + "/" + name, as: name, because: why)
    }

    /// Takes back a job a crashed supervisor was admitting (its claim in tmp/), setting it aside
    /// as failed/ID.json beside `why`; false when there is no such claim. Only while no supervisor
    /// runs: one would complete the claim at its start.
    public func withdrawClaim(_ id: String, because why: String) throws(SystemError) -> Bool {
        let claim = claimDirectory(for: id)
        guard FileSystem.exists(claim), !FileSystem.exists(failed + "/" + id + ".json") else { return false }
        let job = ["job.json", Execution.File.inputs.rawValue].map { claim + "/" + $0 }.first(where: FileSystem.exists)
        if let job {
            try setAside(job, as: id + ".json", because: why)
        } else {
            try write(why + "\n", to: failureReason(ofJobNamed: id + ".json"), mode: 0o644)
        }
        try FileSystem.removeTree(claim)
        return true
    }

    /// Sets the job file at `path` aside as failed/NAME beside failed/NAME.why, which holds `why`,
    /// in one order for every caller (flowspool-spool(5), failed/): the reason staged as
    /// tmp/NAME.why, the job moved, the reason moved beside it. Whoever looks between the moves
    /// finds the reason staged (`reasonStaged`); a crash between them leaves it there, and
    /// flowspoold's next start moves it into place (`completeSetAsides`). False when nothing was
    /// at `path` (it was taken meanwhile).
    @discardableResult
    public func setAside(_ path: String, as name: String, because why: String) throws(SystemError) -> Bool {
        let staged = stagedReason(ofJobNamed: name)
        try write(why + "\n", to: staged, mode: 0o644)
        do {
            try FileSystem.rename(path, failed + "/" + name)
        } catch where error.errno == .noSuchFileOrDirectory {
            try? FileSystem.removeIfPresent(staged)
            return false
        }
        try FileSystem.rename(staged, failureReason(ofJobNamed: name))
        try FileSystem.syncDirectory(failed)
        return true
    }

    /// Where `setAside` stages the reason of a job it sets aside as failed/NAME.
    func stagedReason(ofJobNamed name: String) -> String {
        tmp + "/" + name + ".why"
    }

    /// The reason of a job in failed/ as NAME: its .why, else the one staged for it while it is
    /// being set aside, else (a crash lost both) `reasonLostInACrash`; nil when no job is there.
    public func reasonSetAside(ofJobNamed name: String) -> String? {
        func read(_ path: String) -> String? { ((try? FileSystem.readText(path, beneath: root)) ?? nil).map { $0.trimming("\n") } }
        if let why = read(failureReason(ofJobNamed: name)) { return why }
        guard FileSystem.exists(failed + "/" + name) else { return nil }
        // Read again after the staged one: it may have moved into place between the two looks.
        return read(stagedReason(ofJobNamed: name)) ?? read(failureReason(ofJobNamed: name)) ?? Self.reasonLostInACrash
    }

    /// The reason given for a job set aside whose reason a crash lost.
    public static let reasonLostInACrash = "set aside in failed/ by a flowspool process that stopped before it wrote why (a crash); the job is as it was dropped"

    /// Gives every job in failed/ without its reason the one a crash left staged, else
    /// `reasonLostInACrash`. Returns their names and reasons.
    public func completeSetAsides() -> [(name: String, reason: String)] {
        let names = (try? FileSystem.listDirectory(failed)) ?? []
        let reasons = Set(names.filter { $0.hasSuffix(".why") })
        var completed: [(name: String, reason: String)] = []
        for name in names where !name.hasPrefix(".") && !name.hasSuffix(".why") && !reasons.contains(name + ".why") {
            let staged = stagedReason(ofJobNamed: name)
            if (try? FileSystem.rename(staged, failureReason(ofJobNamed: name))) != nil
                || (try? write(Self.reasonLostInACrash + "\n", to: failureReason(ofJobNamed: name), mode: 0o644)) != nil {
                completed.append((name, reasonSetAside(ofJobNamed: name) ?? Self.reasonLostInACrash))
            }
        }
        return completed
    }

    /// The id of a job submitted with this unique key that has not ended: waiting in incoming/ or
    /// being admitted, or an execution whose status is not final.
    public func unfinishedJob(withUniqueKey key: String) -> String? {
        func unique(_ path: String, record: Bool) -> String? {
            (try? FileSystem.readFile(path, limit: Job.maximumSize, beneath: root)).flatMap { try? Job(parsing: $0, record: record) }?.unique
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
