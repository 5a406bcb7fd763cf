import POSIX
import Spool

/// How ending (or queuing again) an execution went.
enum EndOutcome: Equatable {
    case ended, endedAlready, queued, lockHeld, failed
}

/// What becomes of an execution once its runner is gone or has left it, whichever channel said so
/// (SIGCHLD, the reuse socket's `done`, the lock, the rescan), decided from what its directory shows.
enum EndVerdict: Equatable {
    /// Its directory is gone (Vanished).
    case vanished
    /// The runner ended it: its end is logged, its waiters woken and its children cancelled.
    case ended(ExecutionStatus)
    /// The runner parked it, to wait for a file or a deadline.
    case park
    /// The runner left it unfinished: what is left of its process group is killed first, so that
    /// nothing can begin or end it later, and then `Run.verdictAfterStop` says what follows.
    case stop
}

/// What follows the kill of a runner that left its execution unfinished.
enum StopVerdict: Equatable {
    /// No runner had begun it (RunnerContract.declareBegun): nothing of it ran, it runs again.
    case runAgain(cause: String)
    /// It ends, with the supervisor's message.
    case end(ExecutionStatus, message: String)
}

extension Run {
    /// The verdict on the runner's execution: `exists` its directory, `status` as its status file
    /// says, `parkable` when it is waiting with a wake condition.
    func verdict(exists: Bool, status: ExecutionStatus?, parkable: Bool) -> EndVerdict {
        guard exists else { return .vanished }
        if let status, status.isFinal { return .ended(status) }
        if status == .waiting, ending == nil, parkable { return .park }
        return .stop
    }

    /// After the kill: `begun` when its lock file names the pid of a runner that began it. One the
    /// supervisor stopped ends as it decided (cancelled, timed out), whether or not it began.
    func verdictAfterStop(begun: Bool) -> StopVerdict {
        if ending == nil && !begun {
            let died = exitStatus.map { "its runner \($0)" } ?? "its runner ended"
            return .runAgain(cause: "\(died) before it began")
        }
        let status: ExecutionStatus = switch ending {
        case .cancelled?: .cancelled
        case .timedOut?: .error
        case nil: .fault
        }
        return .end(status, message: goneMessage)
    }

    /// What the supervisor says when it ends the execution of a runner that did not: why it
    /// stopped the runner, or how the runner ended, and where its result is when it had one.
    var goneMessage: String {
        let unwritten = resultInLog || exitStatus == .exited(RunnerContract.unwrittenEndStatus)
        let resultNote = "it had done its task but the disk refused its end: its result is in its log"
        switch ending {
        case .cancelled(let cause)?:
            return "cancelled while running (\(cause))" + (unwritten ? "; " + resultNote : "")
        case .timedOut?:
            let grace = resultInLog ? " and flowspoold --end-grace" : ""
            return "task timeout: the runner was stopped after \(Clock.describeDuration(timeout)) (the job's timeout, else flowspoold --task-timeout)\(grace)" + (unwritten ? "; " + resultNote : "")
        case nil where unwritten:
            return "the runner had done its task, but the disk refused its end until its task timeout and flowspoold --end-grace had passed: its result is in its log (the runner \(exitStatus.map(String.init(describing:)) ?? "ended")). Not re-run: tasks have side effects"
        case nil:
            return "\(exitStatus.map { "the runner \($0)" } ?? "the runner ended") without ending the execution; see its log. Not re-run: tasks have side effects"
        }
    }
}
