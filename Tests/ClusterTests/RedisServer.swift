#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import POSIX

/// A redis-server of a cluster test's own, append-only as flowspool-cluster(7) asks, on a free
/// loopback port: the test stops it, restarts it and freezes it, which the shared one of bin/test
/// must not suffer. Killed when the value goes, and by bin/test's clean-up of FLOWSPOOL_TEST_TMP.
final class RedisServer {
    let directory: TemporaryDirectory
    let password: String
    private(set) var port = 0
    private var process: StartedProgram?

    init(password: String = "s3cret-\(UInt32.random(in: 0...UInt32.max))") throws {
        directory = try TemporaryDirectory()
        self.password = password
        for _ in 0..<20 {
            port = Int.random(in: 20000...60000)
            if try start() { return }
        }
        throw SystemError("redis-server", path: "no free port", errno: .addressInUse)
    }

    deinit {
        if let process {
            kill(process.pid, SIGKILL)
            _ = try? process.finish(within: 5)
        }
    }

    /// The URL hosts and commands are given.
    var url: String { "redis://:\(password)@127.0.0.1:\(port)/0" }

    /// Starts redis-server on `port` with the data in `directory`; false when it could not listen.
    @discardableResult
    func start() throws -> Bool {
        let started = try StartedProgram("/usr/bin/redis-server", [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path, "--appendonly", "yes",
            "--appendfsync", "always", "--save", "", "--requirepass", password,
        ])
        process = started
        do {
            try waitUntil("redis-server answers on \(port)", timeout: 10) { (try? ping()) == true }
            return true
        } catch {
            kill(started.pid, SIGKILL)
            _ = try? started.finish(within: 5)
            process = nil
            return false
        }
    }

    func ping() throws -> Bool {
        try cli("PING") == "PONG\n"
    }

    /// What redis-cli prints for one command.
    @discardableResult
    func cli(_ arguments: String...) throws -> String {
        try runProgram("/usr/bin/redis-cli", ["-p", String(port), "--no-auth-warning", "-a", password] + arguments, timeout: 10).standardOutput
    }

    /// Stops it the way an operator would (SHUTDOWN: the append-only file keeps everything).
    func stop() throws {
        guard let process else { return }
        _ = try runProgram("/usr/bin/redis-cli", ["-p", String(port), "--no-auth-warning", "-a", password, "SHUTDOWN"], timeout: 10)
        _ = try process.finish(within: 10)
        self.process = nil
    }

    /// Freezes and thaws it: reachable, but answering nothing, as a stalled or partitioned server.
    func freeze() { if let process { kill(process.pid, SIGSTOP) } }
    func thaw() { if let process { kill(process.pid, SIGCONT) } }
}
