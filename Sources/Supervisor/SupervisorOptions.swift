import POSIX
import Spool

/// What a supervisor is told on its command line (flowspoold(8)).
public struct SupervisorOptions: Sendable {
    public var spool: Spool
    /// How many runners may run at once.
    public var maxRunning: Int
    /// Seconds a runner may run before it is stopped and its execution ends `error`, unless the job
    /// sets its own `timeout`.
    public var taskTimeout: Double
    /// Directories searched, in order, for `flowspool-task-TYPE` executables.
    public var runnerPath: [String]
    /// Seconds between rescans of incoming/ that back up inotify and the trigger FIFO.
    public var rescanInterval: Double = 30
    /// Seconds between SIGTERM and SIGKILL when a runner is cancelled or timed out.
    public var killGrace: Double = 2
    /// Seconds past its task timeout that a runner which has done its task may keep trying to write
    /// an end the disk refuses (RunnerContract.endGraceVariable).
    public var endGrace: Double = RunnerContract.defaultEndGrace
    /// Files under tmp/ older than this many seconds are leftovers of a crashed writer.
    public var staleTemporaryAge: Double = 3600
    /// Task types whose runner processes serve one execution after another (they must speak
    /// TaskRunner's reuse protocol); the others get a process for each execution.
    public var reusableTypes: Set<String> = SupervisorOptions.builtInTypes
    /// How many executions one runner process serves before it is let go (Postfix's max_use).
    public var runnerMaxUse = 100
    /// Seconds a runner process may wait idle for its next execution (Postfix's max_idle).
    public var runnerMaxIdle = 100.0
    /// The daily gc (`flowspool gc`), when asked for: the age of the ended executions it
    /// removes, and where it archives them first.
    public var dailyGC: (olderThan: String, archive: String?)?
    /// Seconds between daily gc runs.
    public var gcInterval = 86400.0
    /// Who besides the owner may do what: the responders' group (flowspool-spool(5), SECURITY).
    public var roles = SpoolRoles(responders: nil)

    /// The built-in runners, which all speak the reuse protocol.
    public static let builtInTypes = Set(TaskType.builtIn)

    public init(spool: Spool, maxRunning: Int, taskTimeout: Double, runnerPath: [String]) {
        self.spool = spool
        self.maxRunning = maxRunning
        self.taskTimeout = taskTimeout
        self.runnerPath = runnerPath
    }

    public static let defaultTaskTimeout = RunnerContract.defaultTaskTimeout

    /// The number of online cores times four.
    public static var defaultMaxRunning: Int {
        CurrentProcess.processorCount * 4
    }
}
