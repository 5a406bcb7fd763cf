import POSIX
import Spool

/// Parked executions (WakeCondition): no process runs for them. The supervisor watches each one's
/// directory with inotify and keeps its deadline, and queues it again when it is time, so that its
/// runner is started once more.
struct ParkedExecution {
    let condition: WakeCondition
    let watch: Int32?
}

extension Supervisor {
    /// Takes over an execution whose runner parked it.
    func park(_ execution: Execution, until condition: WakeCondition) {
        let watch: Int32?
        do {
            watch = try inotify.watch(execution.directory, for: [.created, .movedIn, .closedAfterWriting])
        } catch {
            watch = nil  // the rescan looks at it instead
            log.once("watch \(error.errno)", "cannot watch parked executions, which the rescan every \(Int(options.rescanInterval)) s looks at instead" + (error.errno == .noSpace ? ": raise the kernel's limit fs.inotify.max_user_watches (now \(Inotify.limit("max_user_watches") ?? "unknown"))" : ": \(error)"))
        }
        parked[execution.id] = ParkedExecution(condition: condition, watch: watch)
        if let watch { parkedByWatch[watch] = execution.id }
        if let request = InputRequest.read(from: execution) {
            do {
                try spool.publishRequest(request)
            } catch {
                log.once("publish", "cannot publish the open requests in \(spool.requests); responders cannot list them: \(error)")
            }
            notifyWaitersOfLineage(execution)
            settleHeldAnswers(for: execution.id)
        }
        if condition.isMet(in: execution) { wake(execution.id) }
    }

    /// Wakes whoever waits for the execution or for a flow above it (its lineage, as published with
    /// its request), so that a `flowspool run` of the flow can say that a question waits for an answer.
    func notifyWaitersOfLineage(_ execution: Execution) {
        for id in [execution.id] + execution.ancestors() {
            notifyWaiters(of: id)
        }
    }

    /// Stops watching a parked execution and returns what it was waiting for.
    func unpark(_ id: String) -> ParkedExecution? {
        guard let entry = parked.removeValue(forKey: id) else { return nil }
        spool.withdrawRequest(id)
        if let watch = entry.watch {
            parkedByWatch.removeValue(forKey: watch)
            inotify.unwatch(watch)
        }
        return entry
    }

    /// Queues a parked execution again; its runner decides what the wake-up means.
    func wake(_ id: String) {
        guard spool.execution(id).exists else {
            if parked[id] != nil { forgetVanished(id) }
            return
        }
        guard let entry = unpark(id) else { return }
        do {
            // The pid of the runner that parked it goes first, durably: a queued execution whose
            // lock file names a pid was begun (Repair).
            try spool.execution(id).clearRunnerMark()
            try spool.execution(id).setStatus(.queued, detail: "woken")
            enqueue(id)
        } catch {
            log.line("cannot wake \(id) (the rescan retries): \(error)")
            parked[id] = ParkedExecution(condition: entry.condition, watch: nil)
        }
    }

    /// After inotify events in parked directories: wakes those whose condition holds.
    func wakeParked(_ ids: Set<String>) {
        for id in ids {
            if let entry = parked[id], entry.condition.isMet(in: spool.execution(id)) { wake(id) }
        }
    }

    /// Wakes every parked execution whose file has come or whose deadline has passed.
    func wakeParked(at time: Double) {
        for (id, entry) in parked where entry.condition.isMet(in: spool.execution(id), at: time) {
            wake(id)
        }
    }

    /// Wakes the parked executions whose deadline has passed.
    func wakeParkedPastDeadline() {
        let now = Clock.now()
        for (id, entry) in parked where (entry.condition.deadline ?? .infinity) <= now {
            wake(id)
        }
    }

    /// The next parked deadline, as a monotonic time for poll.
    var nextParkedDeadline: Double {
        let soonest = parked.values.compactMap(\.condition.deadline).min()
        return soonest.map { Clock.monotonic() + max(0, $0 - Clock.now()) } ?? .infinity
    }
}
