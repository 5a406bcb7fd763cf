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
    /// Files under tmp/ older than this many seconds are leftovers of a crashed writer.
    public var staleTemporaryAge: Double = 3600
    /// Task types whose runner processes serve one execution after another (they must speak
    /// TaskRunner's standby protocol); the others get a process for each execution.
    public var reusableTypes: Set<String> = SupervisorOptions.builtInTypes
    /// How many executions one runner process serves before it is let go (Postfix's max_use).
    public var runnerMaxUse = 100
    /// Seconds a runner process may wait idle for its next execution (Postfix's max_idle).
    public var runnerMaxIdle = 100.0
    /// The daily cleanup (`flowspool gc`), when asked for: the age of the ended executions it
    /// removes, and where it archives them first.
    public var cleanup: (olderThan: String, archive: String?)?
    /// Seconds between cleanups.
    public var cleanupInterval = 86400.0
    /// Who besides the owner may do what: the responders' group (flowspool-spool(5), SECURITY).
    public var roles = SpoolRoles(responders: nil)

    /// The built-in runners, which all speak the standby protocol.
    public static let builtInTypes: Set<String> = ["AWS", "FLOW", "INPUT", "REDIS", "REST", "SMTP", "SSH"]

    public init(spool: Spool, maxRunning: Int, taskTimeout: Double, runnerPath: [String]) {
        self.spool = spool
        self.maxRunning = maxRunning
        self.taskTimeout = taskTimeout
        self.runnerPath = runnerPath
    }

    public static let defaultTaskTimeout = 3600.0

    /// The number of online cores times four.
    public static var defaultMaxRunning: Int {
        CurrentProcess.processorCount * 4
    }

    /// $FLOWSPOOL_RUNNER_PATH, else the directory flowspoold itself is in (a build directory) and
    /// ../libexec/flowspool beside it when there is one (where bin/install puts the runners:
    /// PREFIX/bin/flowspoold finds PREFIX/libexec/flowspool).
    public static func defaultRunnerPath() -> [String] {
        if let path = Environment.value("FLOWSPOOL_RUNNER_PATH"), !path.isEmpty {
            return parseRunnerPath(path)
        }
        let own = ownDirectory()
        let prefix = own.hasSuffix("/bin") ? String(own.dropLast(4)) : own + "/.."
        let installed = prefix + "/libexec/flowspool"
        return FileSystem.exists(installed) ? [own, installed] : [own]
    }

    /// The directories of a colon-separated path, made absolute: runners start in their execution
    /// directory, where a relative path would mean something else.
    public static func parseRunnerPath(_ path: String) -> [String] {
        let cwd = FileSystem.currentDirectory()
        return path.split(separator: ":").map { $0.hasPrefix("/") ? String($0) : cwd + "/" + $0 }
    }

    static func ownDirectory() -> String {
        let executable = (try? FileSystem.realPath("/proc/self/exe")) ?? "."
        return String(executable[..<(executable.lastIndex(of: "/") ?? executable.endIndex)])
    }
}
