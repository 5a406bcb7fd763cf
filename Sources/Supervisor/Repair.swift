#if canImport(Glibc)
import Glibc
#endif
import POSIX
import Spool

/// Startup repair (DESIGN rule 7) and the adoption of runners that outlived an earlier supervisor.
/// Every step is idempotent: a crash during repair is repaired by the next start.
extension Supervisor {
    func repairAtStartup() {
        repairClaims()
        removeStaleTemporaries()
        guard let ids = try? FileSystem.listDirectory(spool.executions) else { return }
        var queued: [(String, Double)] = []
        for id in ids where ExecutionID.isValid(id) {
            let execution = spool.execution(id)
            switch execution.status() {
            case .queued?:
                queued.append((id, execution.history().first?.time ?? 0))
            case .running?, .waiting?:
                if execution.isLockHeld() {
                    adopt(execution)
                } else {
                    end(execution, .fault, message: "the runner was gone when flowspoold started (it died while no supervisor watched it: a crash or a reboot). Not re-run: tasks have side effects")
                }
            case nil:
                end(execution, .fault, message: "the execution had no readable status file when flowspoold started")
            default:
                break
            }
        }
        for (id, _) in queued.sorted(by: { ($0.1, $0.0) < ($1.1, $1.0) }) { enqueue(id) }
    }

    /// Finishes admissions that a crash interrupted: tmp/ID.admit directories.
    func repairClaims() {
        guard let names = try? FileSystem.listDirectory(spool.tmp) else { return }
        for name in names where name.hasSuffix(Admission.claimSuffix) {
            let id = String(name.dropLast(Admission.claimSuffix.count))
            let claim = spool.tmp + "/" + name
            if FileSystem.exists(claim + "/job.json") {
                admission.complete(claimDirectory: claim, id: id).map(enqueue)
            } else if FileSystem.exists(claim + "/" + Execution.File.status.rawValue),
                      (try? FileSystem.renameNoReplace(claim, spool.execution(id).directory)) != nil {
                enqueue(id)
            } else {
                try? FileSystem.removeTree(claim)
            }
        }
    }

    /// Removes files under tmp/ that a crashed writer left behind, once they are old enough that
    /// no live writer can still be using them.
    func removeStaleTemporaries() {
        guard let names = try? FileSystem.listDirectory(spool.tmp) else { return }
        let limit = Clock.now() - options.staleTemporaryAge
        for name in names where !name.hasSuffix(Admission.claimSuffix) {
            let path = spool.tmp + "/" + name
            if let info = try? FileSystem.status(path, followLinks: false), info.modificationTime < limit {
                try? FileSystem.removeTree(path)
            }
        }
    }

    /// Watches a runner that an earlier supervisor started: a thread waits for its lock, which the
    /// kernel releases when the runner is gone, and then tells the poll loop through a pipe.
    func adopt(_ execution: Execution) {
        let history = execution.history()
        let started = history.last { $0.status == .running }
        let pid = started.flatMap { entry in
            entry.detail.split(separator: " ").first { $0.hasPrefix("pid=") }.flatMap { pid_t($0.dropFirst(4)) }
        }
        let timeout = (try? execution.job().timeout) ?? nil ?? options.taskTimeout
        let elapsed = started.map { Clock.now() - $0.time } ?? 0
        adopted[execution.id] = Runner(
            id: execution.id, processGroup: pid, deadline: Clock.monotonic() + timeout - elapsed, timeout: timeout)
        let lockPath = execution.path(.lock)
        let notify = adoptionPipe.writeEnd
        let id = execution.id
        do {
            try Threads.detach {
                if let lock = try? FileDescriptor.open(lockPath, O_RDWR) {
                    _ = try? lock.lockExclusively(wait: true)
                    lock.close()
                }
                try? notify.write(id + "\n")
            }
            log.line("adopted \(id), still running" + (pid.map { " as pid \($0)" } ?? ""))
        } catch {
            log.line("cannot watch adopted runner of \(id): \(error)")
        }
    }

    func handleAdoptedEnds() {
        guard let bytes = try? adoptionPipe.readEnd.readAll() else { return }
        for id in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if let runner = adopted.removeValue(forKey: String(id)) {
                finish(runner, exitStatus: nil)
            }
        }
    }
}
