import POSIX
import Spool

/// A run: an execution being run (by a runner process this supervisor started or handed it to, or
/// adopted from an earlier supervisor by its lock) and what the supervisor has decided about it;
/// each holds a slot of --max-running unless it waits. A value with no I/O: the times are
/// monotonic seconds given by whoever changes it, and stopping it gives the signal to send.
struct Run {
    let id: String
    /// The task type, and when the execution began (wall clock): for the log line of its end.
    let task: String
    let started: Double
    /// The runner's process group (its pid); nil for an adopted runner whose pid is unknown.
    let processGroup: ProcessID?
    /// When the overall task timeout runs out (monotonic seconds); moved on by the time spent waiting.
    var deadline: Double
    let timeout: Double
    /// Set once the supervisor has decided to stop the runner.
    var ending: Ending?
    /// When SIGKILL follows the SIGTERM (monotonic seconds).
    var killAt: Double?
    /// True when the supervisor learns of the runner's end from its lock rather than from SIGCHLD:
    /// a runner adopted from an earlier supervisor, or a process that outlived its runner.
    var watched = false
    /// How the runner process ended, once reaped.
    var exitStatus: ExitStatus?
    /// When to try again to end the execution of a runner that is gone, after the disk refused.
    var endRetry: Backoff?
    /// The runner said (control `ending ID`) that it has done its task and written its result to its
    /// log, but that the disk refuses its end: it tries again, and its deadline has moved on by
    /// --end-grace.
    var resultInLog = false
    /// How many waits on other executions the runner is in (a flow waiting on its children): while
    /// it waits it holds no runner slot, so that the executions it waits for can run, and its task
    /// timeout does not run.
    var waits = 0
    var waitingSince: Double?
    /// The process serving the execution when it is one that serves one execution after another
    /// (RunnerProcess); nil for a runner started for this execution alone, or adopted.
    var process: RunnerProcess?

    enum Ending: Equatable {
        /// Cancelled, for the cause its message names.
        case cancelled(String)
        case timedOut
    }

    var nextDeadline: Double {
        if let endRetry { return endRetry.nextTry }
        return killAt ?? (ending == nil && waits == 0 ? deadline : .infinity)
    }

    mutating func beginWait(at now: Double) {
        if waits == 0 { waitingSince = now }
        waits += 1
    }

    mutating func endWait(at now: Double) {
        guard waits > 0 else { return }
        waits -= 1
        if waits == 0, let since = waitingSince {
            deadline += now - since
            waitingSince = nil
        }
    }

    /// Decides to stop the runner: SIGTERM now, SIGKILL after `grace`. Returns the signal to send to
    /// its process group, if any; nothing when it is being stopped already.
    mutating func stop(_ reason: Ending, at now: Double, grace: Double) -> Signal? {
        guard ending == nil else { return nil }
        ending = reason
        killAt = now + grace
        return processGroup == nil ? nil : .terminate
    }

    /// The deadlines at `now`: SIGKILL once the grace after SIGTERM is over, SIGTERM once the task
    /// timeout has run out (never while it waits on other executions).
    mutating func enforce(at now: Double, grace: Double) -> Signal? {
        if let killAt, now >= killAt {
            self.killAt = nil
            return processGroup == nil ? nil : .kill
        } else if ending == nil, waits == 0, now >= deadline {
            return stop(.timedOut, at: now, grace: grace)
        }
        return nil
    }
}

extension Run {
    /// A run begun at `now` (monotonic) whose task timeout runs from then; `started` is the
    /// wall-clock time for the log line of its end.
    init(id: String, task: String, started: Double, processGroup: ProcessID?, timeout: Double, ranAlready: Double = 0, at now: Double) {
        self.init(id: id, task: task, started: started, processGroup: processGroup, deadline: now + timeout - ranAlready, timeout: timeout)
    }
}
