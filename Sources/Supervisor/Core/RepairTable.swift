import Spool

/// Startup repair's decisions (flowspool-spool(5), "Repair"): from what flowspoold finds of an
/// execution when it starts, what to do with it. One table, with no I/O; Repair.swift reads the
/// execution directory and carries the steps out.
enum RepairStep: Equatable {
    /// Ended: nothing to do.
    case leave
    /// Queued and never begun: queued again, in the order of admission.
    case queue
    /// Parked by a runner that is gone: watched for its wake-up again.
    case park
    /// Its runner lives on, holding the lock: adopted, and judged once it is gone, when whether it
    /// had begun can no longer change.
    case adopt
    /// No runner had begun it: nothing of it ran, so it runs again (`Supervisor.runAgain`).
    case runAgain(cause: String)
    /// It ends `fault`, with this message.
    case endFault(String)

    /// What startup found of one execution.
    struct Finding: Equatable {
        /// Its status; nil when it has no readable status.
        var status: ExecutionStatus?
        /// Whether a process holds its lock (looked at for running and waiting executions).
        var lockHeld = false
        /// Whether its lock file names the pid of a runner that began it.
        var begun = false
        /// Whether it waits with a wake condition its runner left.
        var parkable = false
    }

    static func decide(_ found: Finding) -> RepairStep {
        switch found.status {
        case .queued? where found.begun:
            // A runner began it, and the unsynced mark `running` was lost with the machine.
            return .endFault("a runner had begun it when the machine stopped (its pid is in the lock file), and it was gone when flowspoold started. Not re-run: tasks have side effects")
        case .queued?:
            return .queue
        case .waiting? where !found.lockHeld && found.parkable:
            return .park
        case .running?, .waiting?:
            if found.lockHeld { return .adopt }
            // Marked running, but no runner had begun it: nothing of it ran (RunnerContract).
            if !found.begun { return .runAgain(cause: "no runner had begun it when flowspoold stopped") }
            return .endFault("the runner was gone when flowspoold started (it died while no supervisor watched it: a crash or a reboot). Not re-run: tasks have side effects")
        case nil:
            return .endFault("the execution had no readable status when flowspoold started")
        default:
            return .leave
        }
    }

    /// What follows an end or a run again tried by repair: a process that still holds the lock is
    /// adopted; an execution queued again joins the queue.
    static func after(_ outcome: EndOutcome) -> RepairStep {
        switch outcome {
        case .lockHeld: .adopt
        case .queued: .queue
        default: .leave
        }
    }
}
