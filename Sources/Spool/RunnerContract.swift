#if canImport(Glibc)
import Glibc
#endif
import POSIX

/// The names a supervisor and its runners agree on (flowspool-spool(5), "The runner contract").
public enum RunnerContract {
    /// The spool's absolute path.
    public static let spoolVariable = "FLOWSPOOL_SPOOL"
    /// The execution's id.
    public static let executionVariable = "FLOWSPOOL_EXECUTION"
    /// The descriptor that holds the execution's lock: always 3.
    public static let lockDescriptorVariable = "FLOWSPOOL_LOCK_FD"
    public static let lockDescriptor: Int32 = 3
    /// "1" for a runner started on standby: it waits on standard input for its execution.
    public static let standbyVariable = "FLOWSPOOL_STANDBY"

    /// A runner's first act: its pid, a newline, written over the lock file's content on descriptor
    /// 3 and fsynced, before any work. After a crash, an execution marked running whose lock file
    /// is empty was never begun and is run; one whose lock file names a pid may have begun and ends
    /// `fault` (flowspool-spool(5)). The pid also lets a later supervisor stop an adopted runner.
    public static func declareBegun(lock: FileDescriptor = FileDescriptor(rawValue: lockDescriptor), pid: pid_t = getpid()) throws(SystemError) {
        try lock.replaceContent(with: Array("\(pid)\n".utf8))
        try lock.sync()
    }
}

extension Execution {
    /// The pid a runner wrote into the lock file when it began (RunnerContract.declareBegun); nil
    /// when no runner has begun since the supervisor last marked the execution running.
    public func runnerPID() -> pid_t? {
        ((try? spool.readText(path(.lock))) ?? nil).flatMap { pid_t($0.trimming()) }
    }
}
