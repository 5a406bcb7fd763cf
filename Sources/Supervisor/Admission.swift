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
/// Startup repair finishes any tmp/*.admit directory it finds.
struct Admission {
    let spool: Spool
    let runnerPath: [String]
    let log: SupervisorLog

    static let claimSuffix = ".admit"

    enum Outcome {
        case admitted(id: String)
        case failed(reason: String)
        case skipped
    }

    /// Admits one file of incoming/.
    func admit(_ name: String) -> Outcome {
        let source = spool.incoming + "/" + name
        guard let info = try? FileSystem.status(source, followLinks: false) else { return .skipped }
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
        let claim = spool.tmp + "/" + id + Self.claimSuffix
        do {
            try FileSystem.makeDirectory(claim, mode: 0o700)
            try FileSystem.rename(source, claim + "/job.json")
        } catch {
            try? FileSystem.removeTree(claim)
            if error.errno == ENOENT { return .skipped }  // someone else took it
            return reject(name, "cannot claim the job file: \(error)")
        }
        return complete(claim: claim, id: id, stem: stem)
    }

    /// Builds the execution from a claimed job in tmp/ID.admit/ and renames it into executions/.
    /// Idempotent: startup repair calls it again for a claim a crash left behind.
    func complete(claim: String, id: String, stem: String?) -> Outcome {
        let jobPath = claim + "/job.json"
        let job: Job
        do {
            job = try readJob(jobPath, stem: stem)
        } catch {
            return rejectClaim(claim, originalName: (stem ?? id) + ".json", error.description)
        }
        do {
            let execution = spool.execution(id)
            let now = Clock.now()
            let inputs = Array((job.document(submitted: now).prettyText + "\n").utf8)
            try FileSystem.writeFile(claim + "/" + Execution.File.inputs.rawValue, inputs, mode: 0o600)
            try FileSystem.writeFile(claim + "/" + Execution.File.status.rawValue, Array("queued\n".utf8), mode: 0o644)
            try FileSystem.writeFile(claim + "/" + Execution.File.history.rawValue,
                                     Array("\(Clock.iso8601(now)) queued\n".utf8), mode: 0o644)
            try FileSystem.syncDirectory(claim)
            try FileSystem.unlink(jobPath)
            try FileSystem.renameNoReplace(claim, execution.directory)
            try FileSystem.syncDirectory(spool.executions)
            return .admitted(id: id)
        } catch {
            log.line("cannot admit \(id) (will retry): \(error)")
            return .skipped
        }
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

    /// Moves a job file from incoming/ to failed/ beside a .why file.
    func reject(_ name: String, _ reason: String) -> Outcome {
        moveToFailed(spool.incoming + "/" + name, name: name, reason: reason)
    }

    func rejectClaim(_ claim: String, originalName: String, _ reason: String) -> Outcome {
        let outcome = moveToFailed(claim + "/job.json", name: originalName, reason: reason)
        try? FileSystem.removeTree(claim)
        return outcome
    }

    /// The .why file first, then the job: a crash in between leaves the job where it was, to be
    /// judged again.
    func moveToFailed(_ path: String, name: String, reason: String) -> Outcome {
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
        } catch {
            log.line("cannot move \(name) to failed/: \(error)")
            return .skipped
        }
        log.line("failed/\(target.split(separator: "/").last!): \(reason)")
        return .failed(reason: reason)
    }
}
