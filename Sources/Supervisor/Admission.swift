#if canImport(Glibc)
import Glibc
#endif
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

    static let claimSuffix = ".admit"

    /// A job claimed into tmp/ID.admit/ with its execution's files written but not yet durable.
    struct Claim {
        let id: String
        let directory: String
    }

    /// Admits the named files of incoming/ and returns the ids of the executions admitted.
    func admit(_ names: [String]) -> [String] {
        let claims = names.compactMap(claimAndBuild)
        return publish(claims)
    }

    /// Finishes a claim a crash left behind; idempotent.
    func complete(claimDirectory: String, id: String) -> String? {
        guard let claim = build(Claim(id: id, directory: claimDirectory), stem: nil) else { return nil }
        return publish([claim]).first
    }

    private func claimAndBuild(_ name: String) -> Claim? {
        let source = spool.incoming + "/" + name
        guard let info = try? FileSystem.status(source, followLinks: false) else { return nil }
        let stem = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
        guard info.isRegularFile else {
            return reject(name, "it is not a regular file: job files are JSON files named NAME.json")
        }
        guard info.size <= Job.maximumSize else {
            return reject(name, "the job file is \(info.size) bytes, more than the limit of \(Job.maximumSize >> 20) MiB")
        }
        let id: String
        if ExecutionID.isValid(stem) {
            guard !spool.execution(stem).exists else {
                return reject(name, "an execution with id '\(stem)' exists already; give the job file another name, or one starting with '+' to have an id chosen")
            }
            id = stem
        } else {
            id = freshID()
        }
        let claim = Claim(id: id, directory: spool.tmp + "/" + id + Self.claimSuffix)
        do {
            try FileSystem.makeDirectory(claim.directory, mode: 0o700)
            try FileSystem.rename(source, claim.directory + "/job.json")
        } catch {
            try? FileSystem.removeTree(claim.directory)
            if error.errno == ENOENT { return nil }  // gone meanwhile
            return reject(name, "cannot claim the job file: \(error)")
        }
        return build(claim, stem: stem)
    }

    /// Writes inputs.json, status and history into the claim; a bad job goes to failed/ instead.
    private func build(_ claim: Claim, stem: String?) -> Claim? {
        let job: Job
        do {
            job = try readJob(claim.directory + "/job.json", stem: stem)
        } catch {
            moveToFailed(claim.directory + "/job.json", name: (stem ?? claim.id) + ".json", reason: error.description)
            try? FileSystem.removeTree(claim.directory)
            return nil
        }
        let now = Clock.now()
        let files: [(Execution.File, String, mode_t)] = [
            (.inputs, job.document(submitted: now).prettyText + "\n", 0o600),
            (.status, "queued\n", 0o644),
            (.history, "\(Clock.iso8601(now)) queued\n", 0o644),
        ]
        do {
            for (file, text, mode) in files {
                try FileSystem.writeFile(claim.directory + "/" + file.rawValue, Array(text.utf8), mode: mode, sync: false)
            }
            return claim
        } catch {
            log.line("cannot admit \(claim.id) now (the next rescan retries): \(error)")
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
            log.line("cannot admit jobs now (the next rescan retries): \(error)")
            return []
        }
        var admitted: [String] = []
        for claim in claims {
            do {
                try FileSystem.unlink(claim.directory + "/job.json")
                try FileSystem.renameNoReplace(claim.directory, spool.execution(claim.id).directory)
                admitted.append(claim.id)
            } catch {
                log.line("cannot admit \(claim.id) now (the next rescan retries): \(error)")
            }
        }
        do {
            try FileSystem.syncDirectory(spool.executions)
        } catch {
            log.line("cannot sync \(spool.executions): \(error)")
        }
        return admitted
    }

    func readJob(_ path: String, stem: String?) throws(JobError) -> Job {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: Job.maximumSize)
        } catch {
            throw JobError("cannot read the job file: \(error)")
        }
        var job = try Job(parsing: bytes)
        guard runner(for: job.task) != nil else {
            throw JobError("unknown task type '\(job.task)': no executable \(TaskType.runnerPrefix)\(job.task) on the runner path (\(runnerPath.joined(separator: ":")))")
        }
        if job.name == nil, let stem, stem.hasPrefix("+"), stem.count > 1 {
            job.name = String(stem.dropFirst())
        }
        return job
    }

    /// The runner executable for a task type: the first on the runner path.
    func runner(for task: String) -> String? {
        runnerPath.lazy.map { $0 + "/" + TaskType.runnerPrefix + task }.first(where: FileSystem.isExecutableFile)
    }

    func freshID() -> String {
        while true {
            let id = ExecutionID.generate()
            if !spool.execution(id).exists && !FileSystem.exists(spool.tmp + "/" + id + Self.claimSuffix) { return id }
        }
    }

    private func reject(_ name: String, _ reason: String) -> Claim? {
        moveToFailed(spool.incoming + "/" + name, name: name, reason: reason)
        return nil
    }

    /// Moves a job file to failed/ beside a .why file: the .why first, then the job, so that a crash
    /// in between leaves the job where it was, to be judged again.
    func moveToFailed(_ path: String, name: String, reason: String) {
        var target = spool.failed + "/" + name
        var counter = 1
        while FileSystem.exists(target) || FileSystem.exists(target + ".why") {
            counter += 1
            target = spool.failed + "/" + name + "." + String(counter)
        }
        do {
            try spool.commit(reason + "\n", to: target + ".why", mode: 0o644)
            try FileSystem.rename(path, target)
            try FileSystem.syncDirectory(spool.failed)
            log.line("failed/\(target.split(separator: "/").last!): \(reason)")
        } catch {
            log.line("cannot move \(name) to failed/: \(error)")
        }
    }
}
