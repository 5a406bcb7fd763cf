#if canImport(Glibc)
import Glibc
#endif
import POSIX

/// What a finished command printed and how it exited.
public struct CommandResult: Sendable {
    public let status: ExitStatus
    public let standardOutput: String
    public let standardError: String

    public var exitCode: Int32? {
        if case .exited(let code) = status { return code }
        return nil
    }
}

/// Runs a program to its end, with standard input from `input`, and collects its output. With a
/// `timeout`, a program still running after that many seconds is killed and the call throws: for
/// programs that must not hang whatever the spool holds.
public func runProgram(
    _ path: String, _ arguments: [String], environment: [String: String] = [:], input: String = "",
    timeout: Double? = nil
) throws -> CommandResult {
    try StartedProgram(path, arguments, environment: environment, input: input).finish(within: timeout)
}

/// A program running in the background, its output going to files: for a test that acts while it
/// runs (sends it Ctrl-C, answers what it asks) and then collects how it ended.
public final class StartedProgram {
    public let pid: ProcessID
    let what: String
    let scratch: TemporaryDirectory

    public init(_ path: String, _ arguments: [String], environment: [String: String] = [:], input: String = "") throws {
        scratch = try TemporaryDirectory()
        what = ([path] + arguments).joined(separator: " ")
        try FileSystem.writeFile(scratch.path + "/stdin", Array(input.utf8))
        let stdin = try FileDescriptor.open(scratch.path + "/stdin", .readOnly)
        let stdout = try FileDescriptor.open(scratch.path + "/stdout", .writeOnly, options: [.create, .truncate])
        let stderr = try FileDescriptor.open(scratch.path + "/stderr", .writeOnly, options: [.create, .truncate])
        defer { [stdin, stdout, stderr].forEach { try? $0.close() } }
        var options = Spawn.Options(environment: Environment.with(environment))
        options.newProcessGroup = false
        options.descriptors = [0: stdin, 1: stdout, 2: stderr]
        pid = try Spawn.run(path, arguments: arguments, options: options)
    }

    /// What it has written to standard error so far.
    public var standardError: String { (try? FileSystem.readText(scratch.path + "/stderr")) ?? "" }

    /// Waits until its standard error holds `text`.
    public func awaitStandardError(containing text: String, timeout: Double = 30) throws {
        try waitUntil("\(what) writes '\(text)'", timeout: timeout) { standardError.contains(text) }
    }

    /// Waits for its end (killing it and throwing after `seconds`) and collects its output.
    public func finish(within seconds: Double?) throws -> CommandResult {
        if let seconds { try waitForExit(of: pid, within: seconds, what: what) }
        let status = try Spawn.wait(for: pid)
        return CommandResult(
            status: status,
            standardOutput: try FileSystem.readText(scratch.path + "/stdout") ?? "",
            standardError: try FileSystem.readText(scratch.path + "/stderr") ?? "")
    }
}

/// Whether a child has exited, leaving it to be reaped.
public func hasExited(_ pid: ProcessID) -> Bool {
    var info = siginfo_t()
    return waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0 && info._sifields._sigchld.si_pid == pid
}

/// Returns once `pid` has exited (leaving it to be reaped), or kills it and throws after `seconds`.
public func waitForExit(of pid: ProcessID, within seconds: Double, what: String) throws {
    do {
        try waitUntil("\(what) exits", timeout: seconds) { hasExited(pid) }
    } catch {
        kill(pid, SIGKILL)
        _ = try? Spawn.wait(for: pid)
        throw error
    }
}

/// Runs a program as another user: `user` (a login name) with its own groups from the group
/// database, through setpriv(1), as a hostile member of a spool's responders' group would.
public func runProgram(as user: String, _ path: String, _ arguments: [String], input: String = "", timeout: Double? = 30) throws -> CommandResult {
    guard let entry = getpwnam(user) else { throw SystemError("getpwnam", path: user, errno: .noSuchFileOrDirectory) }
    let group = entry.pointee.pw_gid
    return try runProgram("/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(group)", "--init-groups", "--", path] + arguments, input: input, timeout: timeout)
}

/// Runs a shell command line as another user (see `runProgram(as:)`).
public func runShell(as user: String, _ command: String) throws -> CommandResult {
    try runProgram(as: user, "/bin/sh", ["-c", command])
}

/// Runs the `flowspool` command on a spool.
public func flowspool(_ arguments: String..., spool: TestSpool, input: String = "", environment: [String: String] = [:]) throws -> CommandResult {
    try runProgram(TestEnvironment.program("flowspool"), arguments, environment: ["FLOWSPOOL_SPOOL": spool.root].merging(environment) { $1 }, input: input)
}

/// A directory that is removed with everything in it when the value goes away: under
/// $FLOWSPOOL_TEST_TMP, where bin/test stops whatever the tests left running there, else /tmp.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init() throws {
        let base = Environment.value("FLOWSPOOL_TEST_TMP") ?? "/tmp"
        var template = Array("\(base)/flowspool-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError("mkdtemp") }
        path = String(cString: made)
    }

    deinit { try? FileSystem.removeTree(path) }

    /// Writes `text` to the file `name` in it and returns the file's path.
    @discardableResult
    public func file(_ name: String, _ text: String, mode: FilePermissions = 0o644) throws -> String {
        try FileSystem.writeFile(path + "/" + name, Array(text.utf8), mode: mode)
        return path + "/" + name
    }
}
