import POSIX
import Spool

/// Startup repair (flowspool-spool(5)), and the runners the supervisor watches by their lock. Every step
/// is idempotent: a crash during repair is repaired by the next start.
extension Supervisor {
    func repairAtStartup() {
        repairClaims()
        // Before stale temporaries go: a reason staged in tmp/ by a set-aside a crash cut short.
        for (name, reason) in spool.completeSetAsides() { log.line("failed/\(name): \(reason)") }
        removeStaleTemporaries()
        guard let entries = try? FileSystem.listDirectoryEntries(spool.executions) else { return }
        var queued: [(String, Double)] = []
        for entry in entries where ExecutionID.isValid(entry.name) {
            let id = entry.name
            guard entry.isDirectory else {
                log.once("executions/\(id)", "executions/\(id) is not a directory; left alone (only flowspoold creates executions)")
                continue
            }
            let execution = spool.execution(id)
            let status: ExecutionStatus?
            do {
                status = try execution.readStatus()
            } catch where error.isWrongFileKind {
                status = nil  // ended below, once the thing in its place is moved aside
            } catch {
                log.line("cannot read the status of \(id); left as it is: \(error)")
                continue
            }
            if status?.isFinal != true && FileSystem.exists(execution.path(.children)) { parents.insert(id) }
            switch status {
            case .queued? where execution.runnerPID() != nil:
                // A runner began it, and the unsynced mark `running` was lost with the machine.
                let outcome = end(execution, .fault, message: "a runner had begun it when the machine stopped (its pid is in the lock file), and it was gone when flowspoold started. Not re-run: tasks have side effects")
                if outcome == .lockHeld { adopt(execution) }
            case .queued?:
                queued.append((id, execution.history().first?.time ?? 0))
            case .waiting? where !execution.isLockHeld() && execution.wakeCondition() != nil:
                park(execution, until: execution.wakeCondition()!)
            case .running?, .waiting?:
                if execution.isLockHeld() {
                    // Its runner lives on: adopted, and judged once it is gone, when whether it had
                    // begun can no longer change.
                    adopt(execution)
                } else if execution.runnerPID() == nil {
                    // Marked running, but no runner had begun it: nothing of it ran (RunnerContract).
                    let outcome = runAgain(execution, because: "no runner had begun it when flowspoold stopped")
                    if outcome == .lockHeld { adopt(execution) }
                    if outcome == .queued { queued.append((id, execution.history().first?.time ?? 0)) }
                } else {
                    let outcome = end(execution, .fault, message: "the runner was gone when flowspoold started (it died while no supervisor watched it: a crash or a reboot). Not re-run: tasks have side effects")
                    if outcome == .lockHeld { adopt(execution) }
                }
            case nil:
                let outcome = end(execution, .fault, message: "the execution had no readable status when flowspoold started")
                if outcome == .lockHeld { adopt(execution) }
            default:
                break
            }
        }
        for (id, _) in queued.sorted(by: { ($0.1, $0.0) < ($1.1, $1.0) }) { enqueue(id) }
        tidyPublished()
    }

    /// Finishes admissions that a crash interrupted: tmp/ID.admit directories.
    func repairClaims() {
        guard let names = try? FileSystem.listDirectory(spool.tmp) else { return }
        for name in names where name.hasSuffix(Spool.claimSuffix) {
            let id = String(name.dropLast(Spool.claimSuffix.count))
            let outcome = admission.complete(claimDirectory: spool.tmp + "/" + name, id: id)
            take(outcome)
            outcome.admitted.forEach(notifyWaiters)
        }
    }

    /// Removes files under tmp/ that a crashed writer left behind, once they are old enough that
    /// no live writer can still be using them.
    func removeStaleTemporaries() {
        guard let names = try? FileSystem.listDirectory(spool.tmp) else { return }
        let limit = Clock.now() - options.staleTemporaryAge
        for name in names where !name.hasSuffix(Spool.claimSuffix) {
            let path = spool.tmp + "/" + name
            if let info = try? FileSystem.status(path, followLinks: false), info.modificationTime < limit {
                try? FileSystem.removeTree(path)
            }
        }
    }

    /// Takes over a runner that an earlier supervisor started and that still holds its lock.
    func adopt(_ execution: Execution) {
        let history = execution.history()
        let started = history.last { $0.status == .running && $0.runnerPID != nil }
        let pid = execution.runnerPID() ?? started?.runnerPID
        let job = try? execution.job()
        let timeout = job?.timeout ?? options.taskTimeout
        // The time it waited on its children is not counted, as its first supervisor did not.
        let ran = Execution.timeRunning(history, until: Clock.now())
        let runner = Runner(
            id: execution.id, task: job?.task ?? "?", started: started?.time ?? Clock.now(), processGroup: pid,
            deadline: Clock.monotonic() + timeout - ran, timeout: timeout)
        watchLock(of: runner)
        log.line("adopted \(execution.id), still running" + (pid.map { " as pid \($0)" } ?? ""))
    }

    /// Learns of a runner's end from its lock, which the kernel releases when the last process
    /// holding it is gone: a thread waits for the lock and then tells the poll loop through a pipe.
    /// Should the thread fail, the periodic rescan looks at the lock instead.
    func watchLock(of runner: Runner) {
        var watched = runner
        watched.watched = true
        runners[runner.id] = watched
        let lockPath = spool.execution(runner.id).path(.lock)
        let notify = lockReleases.writeEnd
        let id = runner.id
        let spool = self.spool
        do {
            try Threads.detach {
                if let lock = try? spool.open(lockPath, .readWrite) {
                    _ = try? lock.lockExclusively(wait: true)
                    try? lock.close()
                }
                try? notify.write(id + "\n")
            }
        } catch {
            log.line("cannot watch the lock of \(id) (the rescan every \(Int(options.rescanInterval)) s looks instead): \(error)")
        }
    }

    func handleLockReleases() {
        guard let bytes = try? lockReleases.readEnd.readAvailable() else { return }
        for id in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if let runner = runners[String(id)], runner.watched, !spool.execution(runner.id).isLockHeld() {
                runnerGone(runner)
            }
        }
    }

    /// The rescan's look at the locks of watched runners, in case a watching thread could not run.
    func checkWatchedLocks() {
        for runner in runners.values where runner.watched && !spool.execution(runner.id).isLockHeld() {
            runnerGone(runner)
        }
    }
}
