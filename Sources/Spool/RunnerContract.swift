import Basics
import POSIX

/// What a supervisor and its runners agree on (flowspool-spool(5), "The runner contract"), so that
/// a runner in any language can keep it:
///
/// 1. The supervisor takes the execution's lock, empties the lock file and marks the execution
///    `running`. It starts the runner in the execution directory, in a process group of its own,
///    with the lock on descriptor 3, standard input from /dev/null, standard output and error
///    appended to `log`, and `FLOWSPOOL_SPOOL`, `FLOWSPOOL_EXECUTION` and `FLOWSPOOL_LOCK_FD=3` set.
/// 2. Reuse (`FLOWSPOOL_REUSE=1`): the runner is started in the spool directory, with standard
///    input a Unix socket. A hand-over is one message on it: the execution id's bytes, with two
///    descriptors attached (SCM_RIGHTS), the held lock first and the log second. The runner moves
///    them to 3 and to 1 and 2, changes into the execution directory, sets `FLOWSPOOL_EXECUTION`,
///    and goes on as in 1. Once the execution is ended or parked it leaves it behind (lock closed,
///    1 and 2 away from the log, working directory and environment as before), answers `done ID`
///    and waits for the next hand-over. A socket closed instead means: exit, doing nothing.
/// 3. The runner's first act is `declareBegun`: its pid over the lock file's content, fsynced.
/// 4. It reads `inputs.json`, does the task, and ends the execution: outputs, message, then the
///    final status, each written under tmp/ and renamed into place. It may then write `ended ID`
///    to the control FIFO, so that waiters are woken before it exits.
/// 5. When the disk refuses the end for a cause time may mend, the task is not made again: the
///    runner writes its result to its log, says `ending ID` on the control FIFO, and tries the end
///    again for what is left of the task timeout and `endGrace`; then it exits
///    `unwrittenEndStatus` and the supervisor ends the execution `fault`.
public enum RunnerContract {
    /// The spool's absolute path.
    public static let spoolVariable = "FLOWSPOOL_SPOOL"
    /// The execution's id.
    public static let executionVariable = "FLOWSPOOL_EXECUTION"
    /// The descriptor that holds the execution's lock: always 3.
    public static let lockDescriptorVariable = "FLOWSPOOL_LOCK_FD"
    public static let lockDescriptor: Int32 = 3
    /// The descriptor of the spool's root, which the supervisor holds and hands to each runner: 4,
    /// named by this variable. A runner reaches its spool through it (`Spool.handedDown`), not by
    /// the path, which may lead elsewhere by then (flowspool-spool(5), "The way to the spool").
    public static let spoolDescriptorVariable = "FLOWSPOOL_SPOOL_FD"
    public static let spoolDescriptor: Int32 = 4
    /// "1" for a runner started to be reused: it serves the executions handed over on standard input.
    public static let reuseVariable = "FLOWSPOOL_REUSE"
    /// flowspoold's --task-timeout, in seconds: the task timeout of a job that sets none. A runner
    /// needs it to know how long it may keep trying an end the disk refuses.
    public static let taskTimeoutVariable = "FLOWSPOOL_TASK_TIMEOUT"
    /// flowspoold's --end-grace, in seconds: how long past its task timeout a runner that has done
    /// its task may keep trying to write its end.
    public static let endGraceVariable = "FLOWSPOOL_END_GRACE"
    /// The task timeout of a job that sets none, unless flowspoold is told otherwise.
    public static let defaultTaskTimeout = 3600.0
    /// A minute: long enough for a clean-up (logrotate, a tmp reaper, an operator's `rm`) to make room
    /// for an end that came in the last seconds of its timeout, short enough that the execution does
    /// not stay `running` long after its timeout.
    public static let defaultEndGrace = 60.0
    /// The exit status of a runner that did its task but could not write its end before its time was
    /// up, and wrote its result to its log instead: sysexits(3)'s EX_CANTCREAT, "cannot create an
    /// output file". The supervisor's `fault` message then says the result is in the log.
    public static let unwrittenEndStatus: Int32 = 73

    /// The task timeout of `job`: its own, else flowspoold's as handed down, else the default.
    public static func taskTimeout(of job: Job) -> Double {
        job.timeout ?? seconds(in: taskTimeoutVariable).flatMap { $0 > 0 ? $0 : nil } ?? defaultTaskTimeout
    }

    /// How long past its task timeout a runner may keep trying an end the disk refuses.
    public static var endGrace: Double {
        seconds(in: endGraceVariable) ?? defaultEndGrace
    }

    private static func seconds(in variable: String) -> Double? {
        Environment.value(variable).flatMap(Double.init).flatMap(Seconds.init)?.value
    }

    /// A runner's first act: its pid, a newline, written over the lock file's content on descriptor
    /// 3 and fsynced, before any work. After a crash, an execution marked running whose lock file
    /// is empty was never begun and is run; one whose lock file names a pid may have begun and ends
    /// `fault` (flowspool-spool(5)). The pid also lets a later supervisor stop an adopted runner.
    public static func declareBegun(lock: FileDescriptor = FileDescriptor(rawValue: lockDescriptor), pid: ProcessID = CurrentProcess.id) throws(SystemError) {
        guard lock.isOpen else { throw SystemError("fcntl", errno: .badFileDescriptor, reason: "descriptor \(lock.rawValue) is not open") }
        try lock.replaceContent(with: Array("\(pid)\n".utf8))
        try lock.sync()
    }
}

extension Execution {
    /// Empties the lock file durably, so that the next run starts with no runner's mark in it. Only
    /// for an execution no process holds (parked, queued).
    public func clearRunnerMark() throws(SystemError) {
        guard let lock = try tryLock() else {
            throw SystemError("flock", path: path(.lock), errno: .wouldBlock, reason: "a process still holds the execution's lock")
        }
        defer { try? lock.close() }
        guard (try lock.status()).size > 0 else { return }
        try lock.replaceContent(with: [])
        try lock.sync()
    }

    /// The pid a runner wrote into the lock file when it began (RunnerContract.declareBegun); nil
    /// when no runner has begun since the supervisor last marked the execution running.
    public func runnerPID() -> ProcessID? {
        ((try? FileSystem.readText(path(.lock), beneath: spool.root)) ?? nil).flatMap { ProcessID($0.trimming()) }
    }
}
