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
    let scratch = try TemporaryDirectory()
    let inputPath = scratch.path + "/stdin", outputPath = scratch.path + "/stdout", errorPath = scratch.path + "/stderr"
    try FileSystem.writeFile(inputPath, Array(input.utf8))
    let stdin = try FileDescriptor.open(inputPath, .readOnly)
    let stdout = try FileDescriptor.open(outputPath, .writeOnly, options: [.create, .truncate])
    let stderr = try FileDescriptor.open(errorPath, .writeOnly, options: [.create, .truncate])
    var options = Spawn.Options(environment: Environment.with(environment))
    options.newProcessGroup = false
    options.descriptors = [0: stdin, 1: stdout, 2: stderr]
    let pid = try Spawn.run(path, arguments: arguments, options: options)
    [stdin, stdout, stderr].forEach { try? $0.close() }
    if let timeout { try waitForExit(of: pid, within: timeout, what: ([path] + arguments).joined(separator: " ")) }
    let status = try Spawn.wait(for: pid)
    return CommandResult(
        status: status,
        standardOutput: try FileSystem.readText(outputPath) ?? "",
        standardError: try FileSystem.readText(errorPath) ?? "")
}

/// Returns once `pid` has exited (leaving it to be reaped), or kills it and throws after `seconds`.
public func waitForExit(of pid: ProcessID, within seconds: Double, what: String) throws {
    do {
        try waitUntil("\(what) exits", timeout: seconds) {
            var info = siginfo_t()
            return waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0 && info._sifields._sigchld.si_pid == pid
        }
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
}
