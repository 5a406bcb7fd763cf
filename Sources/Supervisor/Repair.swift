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
            let (finding, condition) = found(execution, status)
            if repair(execution, finding, wakeCondition: condition) == .queue {
                queued.append((id, execution.history().first?.time ?? 0))
            }
        }
        for (id, _) in queued.sorted(by: { ($0.1, $0.0) < ($1.1, $1.0) }) { enqueue(id) }
        tidyPublished()
    }

    /// What startup finds of an execution, read as far as the repair table looks.
    private func found(_ execution: Execution, _ status: ExecutionStatus?) -> (RepairStep.Finding, WakeCondition?) {
        var finding = RepairStep.Finding(status: status)
        guard let status, !status.isFinal else { return (finding, nil) }
        finding.begun = execution.runnerPID() != nil
        if status != .queued { finding.lockHeld = execution.isLockHeld() }
        let condition = status == .waiting ? execution.wakeCondition() : nil
        finding.parkable = condition != nil
        return (finding, condition)
    }

    /// Carries out the repair table's step for one execution (RepairStep.decide), and what follows
    /// an end or a run again tried; returns `.queue` when the execution is to be queued.
    private func repair(_ execution: Execution, _ finding: RepairStep.Finding, wakeCondition: WakeCondition?) -> RepairStep {
        let step = RepairStep.decide(finding)
        let outcome: EndOutcome
        switch step {
        case .leave, .queue: return step
        case .park:
            // The table parks only what was found parkable: with the wake condition read then.
            if let wakeCondition { park(execution, until: wakeCondition) }
            return step
        case .adopt:
            adopt(execution)
            return step
        case .runAgain(let cause): outcome = runAgain(execution, because: cause)
        case .endFault(let message): outcome = end(execution, .fault, message: message)
        }
        let next = RepairStep.after(outcome)
        if next == .adopt { adopt(execution) }
        return next
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
        let run = Run(
            id: execution.id, task: job?.task ?? "?", started: started?.time ?? Clock.now(), processGroup: pid,
            timeout: timeout, ranAlready: ran, at: Clock.monotonic())
        decide(.adopted(run))
        log.line("adopted \(execution.id), still running" + (pid.map { " as pid \($0)" } ?? ""))
    }

    /// Learns of a runner's end from its lock, which the kernel releases when the last process
    /// holding it is gone: a thread waits for the lock and then tells the poll loop through a pipe.
    /// Should the thread fail, the periodic rescan looks at the lock instead.
    func watchLock(of id: String) {
        let lockPath = spool.execution(id).path(.lock)
        let notify = lockReleases.writeEnd
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
            if core.runs[String(id)]?.watched == true, !spool.execution(String(id)).isLockHeld() {
                decide(.executionEnded(.lockReleased(String(id))))
            }
        }
    }

    /// The rescan's look at the locks of watched runners, in case a watching thread could not run.
    func checkWatchedLocks() {
        for run in core.runs.values where run.watched && !spool.execution(run.id).isLockHeld() {
            decide(.executionEnded(.lockReleased(run.id)))
        }
    }
}
