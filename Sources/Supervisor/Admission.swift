import Basics
import JSON
import POSIX
import Spool

/// Turns job files in incoming/ into execution directories, or into failed/ entries with a reason.
///
/// An admission is a chain of renames, so that a crash at any point leaves the job in exactly one
/// place: incoming/NAME is moved into a fresh tmp/ID.admit/ as job.json (the claim), the execution's
/// files are written beside it, job.json is removed, and the directory is renamed to executions/ID.
/// Startup repair finishes any tmp/*.admit directory it finds. Jobs are admitted in batches that
/// share one syncfs(2) and one fsync of executions/, so a burst of job files costs few disk flushes.
struct Admission {
    let spool: Spool
    let runnerPath: [String]
    let log: SupervisorLog

    /// A job claimed into tmp/ID.admit/ with its execution's files written but not yet durable.
    struct Claim {
        let id: String
        let directory: String
        /// The execution that submitted the job, once the job has been read.
        var parent: String?
        /// The job as read, when it is small enough to keep until its runner starts.
        var job: Job?
    }

    /// What a pass over incoming/ did: the executions it admitted, and the names it was given that
    /// are still in incoming/ (neither admitted nor set aside: a full disk, say).
    struct Outcome {
        var admitted: [String] = []
        var stuck: [String] = []
        /// The executions that got a child in this pass.
        var parents: Set<String> = []
        /// The jobs admitted, as read, when small (`keptJobSize`): starting them reads nothing again.
        var jobs: [String: Job] = [:]
    }

    /// The largest job, as inputs.json, kept in memory from its admission to its start.
    static let keptJobSize = 4096

    /// Admits the named files of incoming/.
    func admit(_ names: [String]) -> Outcome {
        var outcome = Outcome()
        var claims: [Claim] = []
        for name in names {
            let claim = claimAndBuild(name)
            if let claim { claims.append(claim) }
            if claim == nil && ((try? FileSystem.status(spool.incoming + "/" + name, followLinks: false)) ?? nil) != nil {
                outcome.stuck.append(name)
            }
        }
        publish(claims, into: &outcome)
        return outcome
    }

    /// Finishes a claim that a crash (or a failed step) left in tmp/; idempotent. Its outcome names
    /// the execution when it was admitted now.
    func complete(claimDirectory: String, id: String) -> Outcome {
        var outcome = Outcome()
        let claim = Claim(id: id, directory: claimDirectory)
        if FileSystem.exists(claimDirectory + "/job.json") {
            publish(build(claim, stem: nil).map { [$0] } ?? [], into: &outcome)
        } else if FileSystem.exists(claimDirectory + "/" + Execution.File.status.rawValue) {
            let inputs = try? FileSystem.readFile(claimDirectory + "/" + Execution.File.inputs.rawValue, beneath: spool.root)
            let parent = inputs.flatMap { try? Job(parsing: $0, record: true) }?.parent
            publish([Claim(id: id, directory: claimDirectory, parent: parent)], into: &outcome)
        } else {
            try? FileSystem.removeTree(claimDirectory)  // a claim that never got its job
        }
        return outcome
    }

    /// Publishes the claims and notes in `outcome` the executions admitted, their parents and the
    /// jobs kept.
    private func publish(_ claims: [Claim], into outcome: inout Outcome) {
        outcome.admitted = publish(claims)
        let admitted = Set(outcome.admitted)
        for claim in claims where admitted.contains(claim.id) {
            if let parent = claim.parent { outcome.parents.insert(parent) }
            outcome.jobs[claim.id] = claim.job
        }
    }

    private func claimAndBuild(_ name: String) -> Claim? {
        let source = spool.incoming + "/" + name
        guard let info = try? FileSystem.status(source, followLinks: false) else { return nil }
        guard !name.hasPrefix(".") else {
            return reject(name, "a name starting with '.' is hidden, not a job file (writers keep their temporaries in tmp/)")
        }
        let stem = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
        guard info.isRegularFile else {
            return reject(name, "it is not a regular file: job files are JSON files named NAME.json")
        }
        guard info.size <= Job.maximumSize else {
            return reject(name, "the job file is \(info.size) bytes, more than the limit of \(Job.maximumSize >> 20) MiB")
        }
        let id = ExecutionID.isValid(stem) ? stem : freshID()
        let claim = Claim(id: id, directory: spool.claimDirectory(for: id))
        guard !spool.execution(id).exists else {
            return reject(name, "an execution with id '\(id)' exists already; give the job file another name, or one starting with '+' to have an id chosen")
        }
        do {
            try FileSystem.makeDirectory(claim.directory, mode: 0o700)
        } catch {
            return reject(name, error.errno == .fileExists
                ? "another job with id '\(id)' is being admitted (tmp/\(id)\(Spool.claimSuffix)); give the job file another name"
                : "cannot claim the job file: \(error)")
        }
        do {
            try FileSystem.rename(source, claim.directory + "/job.json")
        } catch {
            try? FileSystem.removeTree(claim.directory)
            if error.errno == .noSuchFileOrDirectory { return nil }  // taken meanwhile
            return reject(name, "cannot claim the job file: \(error)")
        }
        return build(claim, stem: stem)
    }

    /// Writes inputs.json, status and history into the claim; a bad job goes to failed/ instead.
    private func build(_ claim: Claim, stem: String?) -> Claim? {
        let job: Job
        do {
            job = try readJob(claim.directory + "/job.json", stem: stem, id: claim.id)
        } catch {
            // Kept in tmp/ for the next rescan when even failed/ cannot take it.
            if moveToFailed(claim.directory + "/job.json", name: (stem ?? claim.id) + ".json", reason: error.description) {
                try? FileSystem.removeTree(claim.directory)
            }
            return nil
        }
        let now = Clock.now()
        let inputs = job.document(submitted: now).prettyText + "\n"
        let files: [(Execution.File, String, FilePermissions)] = [
            (.inputs, inputs, 0o600),
            (.status, "queued\n", 0o644),
            (.history, "\(Clock.iso8601(now)) queued\n", 0o644),
        ]
        do {
            for (file, text, mode) in files {
                try FileSystem.writeFile(claim.directory + "/" + file.rawValue, Array(text.utf8), mode: mode, sync: false)
            }
            var built = claim
            built.parent = job.parent
            if inputs.utf8.count <= Self.keptJobSize { built.job = job }
            return built
        } catch {
            log.once("admit \(error.errno)", "cannot admit jobs now; they wait in tmp/ and the next rescan tries again: \(error)")
            return nil
        }
    }

    /// Makes the claims durable with one syncfs, then renames each into executions/ and syncs that
    /// directory once.
    private func publish(_ claims: [Claim]) -> [String] {
        guard !claims.isEmpty else { return [] }
        do {
            try FileSystem.syncFileSystem(spool.tmp)
        } catch {
            log.once("admit \(error.errno)", "cannot admit jobs now; they wait in tmp/ and the next rescan tries again: \(error)")
            return []
        }
        var admitted: [String] = []
        for claim in claims {
            do {
                try FileSystem.removeIfPresent(claim.directory + "/job.json")
                try FileSystem.renameNoReplace(claim.directory, spool.execution(claim.id).directory)
                admitted.append(claim.id)
                if let parent = claim.parent { recordChild(claim.id, of: parent) }
            } catch where error.errno == .fileExists || error.errno == .directoryNotEmpty {
                let inputs = claim.directory + "/" + Execution.File.inputs.rawValue
                if moveToFailed(inputs, name: claim.id + ".json", reason: "an execution with id '\(claim.id)' exists already") {
                    try? FileSystem.removeTree(claim.directory)
                }
            } catch {
                log.once("admit \(error.errno)", "cannot admit jobs now; they wait in tmp/ and the next rescan tries again: \(error)")
            }
        }
        do {
            try FileSystem.syncDirectory(spool.executions)
        } catch {
            log.once("sync \(error.errno)", "cannot sync \(spool.executions): \(error)")
        }
        return admitted
    }

    /// Notes a child in its parent's `children` file, one id a line, so `flowspool show` and
    /// `list --parent` find a flow's children without reading every execution.
    private func recordChild(_ id: String, of parent: String) {
        guard spool.execution(parent).exists else { return }
        try? spool.append(spool.execution(parent).path(.children), id + "\n", mode: 0o644)
    }

    /// The job of execution `id`, refused when it cannot be run as it says.
    func readJob(_ path: String, stem: String?, id: String) throws(SpoolError) -> Job {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: Job.maximumSize, beneath: spool.root)
        } catch {
            throw SpoolError("cannot read the job file: \(error)")
        }
        var job = try Job(parsing: bytes)
        guard runner(for: job.task) != nil else {
            throw SpoolError("unknown task type '\(job.task)': no executable \(TaskType.runnerPrefix)\(job.task) on the runner path (\(runnerPath.joined(separator: ":")))")
        }
        try Self.checkParent(of: job, id: id)
        if job.name == nil, let stem, stem.hasPrefix("+"), stem.count > 1 {
            job.name = String(stem.dropFirst())
        }
        return job
    }

    /// A job written by hand may name its own id as its parent. Admitted, it would be its own
    /// child, listed in its own `children`: cancelling it would cancel it again, without end, and
    /// gc would wait for it to end first. Two jobs naming each other are not told apart here, as
    /// that would take reading the parent's files at every admission; gc copes with them.
    static func checkParent(of job: Job, id: String) throws(SpoolError) {
        guard job.parent == id else { return }
        throw SpoolError("'parent' names the job itself ('\(id)'): a parent is the execution that submitted the job, so it must be another one; leave 'parent' out for a job of its own")
    }

    /// The runner executable for a task type: the first on the runner path.
    func runner(for task: String) -> String? {
        RunnerPath.runner(for: task, in: runnerPath)
    }

    func freshID() -> String {
        while true {
            let id = ExecutionID.generate()
            if !spool.execution(id).exists && !FileSystem.exists(spool.claimDirectory(for: id)) { return id }
        }
    }

    private func reject(_ name: String, _ reason: String) -> Claim? {
        moveToFailed(spool.incoming + "/" + name, name: name, reason: reason)
        return nil
    }

    /// Moves a job file to failed/NAME beside failed/NAME.why (NAME.2 and so on when NAME is taken),
    /// in the one crash order of `Spool.setAside`. A name that cannot stand there as it is (hidden,
    /// too long for NAME.why.N, with control characters) is set aside under a short generated one,
    /// and the .why records the original. False when it could not, and the job is where it was.
    @discardableResult
    func moveToFailed(_ path: String, name: String, reason: String) -> Bool {
        let keepsName = Self.canStandInFailed(name)
        let base = keepsName ? name : "incoming-" + ExecutionID.generate() + ".json"
        let why = keepsName ? reason : "\(reason) (the file was named '\(name.escapingControlCharacters())')"
        var failedName = base
        var counter = 1
        while FileSystem.exists(spool.failed + "/" + failedName) || FileSystem.exists(spool.failureReason(ofJobNamed: failedName)) {
            counter += 1
            failedName = base + "." + String(counter)
        }
        do {
            if try spool.setAside(path, as: failedName, because: why) { log.line("failed/\(failedName): \(why)") }
            return true
        } catch {
            log.once("failed/ \(error.errno)", "cannot set jobs aside in failed/; they wait where they are and are tried again with a growing delay: \(error)")
            return false
        }
    }

    /// Whether a job file's name can be kept in failed/ as it is.
    static func canStandInFailed(_ name: String) -> Bool {
        !name.hasPrefix(".") && name.utf8.count <= 200 && name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f }
    }
}
