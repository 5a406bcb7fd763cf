import POSIX
import Spool

/// Executions removed by hand before they ended (flowspool-spool(5), "Removing an execution"). The
/// supervisor learns of it from inotify on executions/ (or from the rescan, should events be lost)
/// and treats it as an event: the runner is stopped, a parked one is forgotten and its request
/// withdrawn, those waiting for it are woken (they find it gone: JobState.vanished), and the
/// children of a removed flow are cancelled, as when a flow ends.
extension Supervisor {
    /// After inotify reports names gone from executions/ (removed, or renamed away).
    func executionsLeft(_ names: Set<String>) {
        for id in names where ExecutionID.isValid(id) && isTracked(id) && !spool.execution(id).exists {
            forgetVanished(id)
        }
    }

    /// Whether the supervisor has business with the execution: a runner, a parked wait, children,
    /// or someone waiting for it.
    func isTracked(_ id: String) -> Bool {
        core.runs[id] != nil || parked[id] != nil || parents.contains(id) || waitersByID[id] != nil
    }

    /// The rescan's look for executions gone without an event (an inotify queue that overflowed).
    func lookForVanished() {
        let tracked = Set(core.runs.keys).union(parked.keys).union(parents).union(waitersByID.keys)
        executionsLeft(tracked)
    }

    /// Forgets an execution whose directory is gone, said once in the log when it had a runner or
    /// was parked (an ended one that gc removed had neither).
    func forgetVanished(_ id: String) {
        guard isTracked(id) else { return }
        var done: [String] = []
        if core.runs[id] != nil { done.append("its runner is stopped") }
        decide(.vanished(id))
        if unpark(id) != nil { done.append("its request is withdrawn") }
        if !done.isEmpty {
            log.line("executions/\(id) vanished before it ended (removed by hand?); \(done.joined(separator: ", ")), and those waiting for it are told")
        }
        notifyWaiters(of: id)
        if parents.remove(id) != nil { cancelOrphans(of: id) }
    }

    /// Cancels the children of a flow whose directory is gone, its `children` file with it: they
    /// are found among the executions the supervisor has queued, running or parked.
    func cancelOrphans(of flow: String) {
        let active = Set(core.runs.keys).union(parked.keys).union(core.queued)
        for child in active.sorted() {
            guard let job = try? spool.execution(child).job(), job.parent == flow, !job.detached else { continue }
            log.line("\(child): its flow \(flow) was removed; cancelled")
            cancel(child, because: "its flow \(flow) was removed by hand")
        }
    }
}
