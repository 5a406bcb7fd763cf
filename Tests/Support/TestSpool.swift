#if canImport(Glibc)
import Glibc
#endif
import JSON
import POSIX
import Spool

/// A spool of its own for one test, with a supervisor the test starts, kills and restarts.
public final class TestSpool: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let spool: Spool
    public var root: String { spool.root }
    public private(set) var supervisorPID: ProcessID?
    public let supervisorLog: String

    /// Whether the spool is a tmpfs of its own, unmounted when the value goes away.
    let mounted: Bool

    /// A spool in a fresh temporary directory; with `diskSize`, on a tmpfs of that many bytes, to
    /// fill as a full disk would be (mounting takes root, as the suite runs in CI).
    public init(diskSize: Int? = nil) throws {
        directory = try TemporaryDirectory()
        spool = Spool(root: directory.path + "/spool")
        supervisorLog = directory.path + "/flowspoold.log"
        if let diskSize {
            try FileSystem.makeDirectory(spool.root)
            let result = try runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=\(diskSize)", "tmpfs", spool.root])
            guard result.exitCode == 0 else { throw SystemError("mount", path: spool.root, errno: .notPermitted, reason: result.standardError) }
        }
        mounted = diskSize != nil
        try spool.createLayout()
    }

    deinit {
        if let pid = supervisorPID {
            kill(pid, SIGKILL)
            _ = try? Spawn.wait(for: pid)
        }
        if mounted { _ = try? runProgram("/bin/umount", ["--lazy", spool.root]) }
    }

    /// Fills the spool's disk to the last byte with spool/filler; `freeDisk()` gives the room back.
    /// With `leaving`, that many bytes stay free: room for a line or two in a log (a page of the
    /// tmpfs), and none for an execution's end, which writes two files at least.
    public func fillDisk(leaving room: Int = 0) throws {
        if room > 0 { try FileSystem.writeFile(root + "/room", [UInt8](repeating: 0, count: room)) }
        let fd = try FileDescriptor.open(root + "/filler", .writeOnly, options: [.create, .append])
        defer { try? fd.close() }
        let block = [UInt8](repeating: 0, count: 4096)
        while (try? fd.write(block)) != nil {}
        while (try? fd.write([0])) != nil {}
        if room > 0 { try FileSystem.unlink(root + "/room") }
    }

    public func freeDisk() throws {
        try FileSystem.unlink(root + "/filler")
    }

    /// Starts flowspoold on this spool and returns once it watches incoming/.
    public func startSupervisor(
        _ arguments: [String] = [], runnerPath: String = TestEnvironment.runnerPath, workingDirectory: String? = nil,
        environment: [String: String] = [:]
    ) throws {
        let log = try FileDescriptor.open(supervisorLog, .writeOnly, options: [.create, .append])
        defer { try? log.close() }
        let null = try FileDescriptor.open("/dev/null", .readOnly)
        defer { try? null.close() }
        var options = Spawn.Options(directory: workingDirectory, environment: Environment.with(environment))
        options.newProcessGroup = false
        options.descriptors = [0: null, 1: log, 2: log]
        supervisorPID = try Spawn.run(
            TestEnvironment.program("flowspoold"),
            arguments: ["--spool", root, "--runner-path", runnerPath] + arguments, options: options)
        try waitUntil("flowspoold supervises \(root)", timeout: 10) { self.spool.hasSupervisor }
    }

    /// Stops the supervisor with `signal` and waits for it to exit.
    @discardableResult
    public func stopSupervisor(signal: Int32 = SIGTERM) throws -> ExitStatus? {
        guard let pid = supervisorPID else { return nil }
        supervisorPID = nil
        kill(pid, signal)
        return try Spawn.wait(for: pid)
    }

    /// flowspoold's own CPU time so far, in seconds (utime and stime of /proc/PID/stat): what it
    /// spends, whatever else the machine does.
    public func supervisorCPUSeconds() throws -> Double {
        guard let pid = supervisorPID, let stat = try FileSystem.readText("/proc/\(pid)/stat"),
              let nameEnd = stat.lastIndex(of: ")") else { throw SpoolError("no flowspoold runs for \(root)") }
        // The fields after the command's name, which is in parentheses and may hold spaces.
        let fields = stat[stat.index(after: nameEnd)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { throw SpoolError("cannot read /proc/\(pid)/stat") }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    public var supervisorIsRunning: Bool {
        guard let pid = supervisorPID else { return false }
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Drops a job file into incoming/ the way flowspool-spool(5) asks writers to: written in tmp/, renamed.
    public func drop(_ name: String, bytes: [UInt8]) throws {
        let temporary = spool.tmp + "/test." + name
        try FileSystem.writeFile(temporary, bytes)
        try FileSystem.rename(temporary, spool.incoming + "/" + name)
    }

    public func drop(_ name: String, _ job: JSON) throws {
        try drop(name, bytes: Array(job.compactText.utf8))
    }

    /// Waits (inotify, never a sleep loop) until the job submitted as `id` ends or is rejected.
    public func waitForEnd(of id: String, timeout: Double = 30) throws -> JobState {
        try spool.waitForEnd(of: id, timeout: timeout)
    }

    public func execution(_ id: String) -> Execution { spool.execution(id) }

    /// What flowspoold has logged so far; empty before it has.
    public var supervisorLogText: String { ((try? FileSystem.readText(supervisorLog)) ?? nil) ?? "" }

    /// The reason written beside a rejected job file.
    public func failureReason(_ name: String) -> String? {
        (try? FileSystem.readText(spool.failed + "/" + name + ".why")) ?? nil
    }
}

/// Waits for a condition, looking again whenever something changes in one of the `watching`
/// directories (by inotify, as flowspool's own waiters do; a directory not made yet is watched from
/// its parent until it is); fails after `timeout`. With nothing to watch, for a condition that has
/// no event (a process's end, a log line), it looks every 10 ms.
///
/// The timeout stretches with the machine's load (`TestEnvironment.loadFactor`, the highest seen
/// while waiting): the suite runs every test at once, and what takes 3 s on an idle machine may
/// take 10 s beside two CPU hogs.
public func waitUntil(_ what: String, timeout: Double, watching directories: [String] = [], _ condition: () -> Bool) throws {
    let start = Clock.monotonic()
    var patience = timeout * TestEnvironment.loadFactor()
    let inotify = directories.isEmpty ? nil : try Inotify()
    var unwatched = Set(directories)
    func watchWhatExists() {
        for directory in unwatched {
            let events: Inotify.Events = [.created, .movedIn, .movedOut, .deleted, .modified, .closedAfterWriting]
            if (try? inotify?.watch(directory, for: events)) != nil {
                unwatched.remove(directory)
            } else {
                _ = try? inotify?.watch(String(directory[..<(directory.lastIndex(of: "/") ?? directory.endIndex)]), for: [.created, .movedIn])
            }
        }
    }
    watchWhatExists()
    while !condition() {
        patience = max(patience, timeout * TestEnvironment.loadFactor())
        let left = start + patience - Clock.monotonic()
        if left <= 0 { throw TimedOut(what: what, seconds: patience) }
        if let inotify {
            try inotify.awaitEvents(timeout: left)
            watchWhatExists()
        } else {
            usleep(10_000)
        }
    }
}

public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let seconds: Double
    public var description: String { "timed out after \(seconds) s waiting until \(what)" }
}

/// How an execution ended, as a test checks it.
public struct Ended: Sendable {
    public let id: String
    public let status: ExecutionStatus
    public let outputs: JSONObject
    public let message: String

    public subscript(output: String) -> JSON? { outputs[output] }
}

extension TestSpool {
    /// Submits a job and waits for its execution to end.
    public func run(_ task: String, _ inputs: JSONObject, timeout: Double? = nil) throws -> Ended {
        let id = try spool.submit(Job(task: task, inputs: inputs, timeout: timeout))
        return try ended(id)
    }

    /// Waits for `id` to end and reads what it left.
    public func ended(_ id: String, within seconds: Double = 30) throws -> Ended {
        let state = try waitForEnd(of: id, timeout: seconds)
        guard case .ended(let status) = state else {
            throw UnexpectedState(id: id, state: state, supervisorLog: (try? FileSystem.readText(supervisorLog)) ?? nil)
        }
        let execution = spool.execution(id)
        return Ended(id: id, status: status, outputs: execution.outputs() ?? [:], message: execution.message() ?? "")
    }
}

public struct UnexpectedState: Error, CustomStringConvertible {
    public let id: String
    public let state: JobState
    public let supervisorLog: String?
    public var description: String { "\(id) is \(state), not ended; flowspoold's log:\n\(supervisorLog ?? "(none)")" }
}
