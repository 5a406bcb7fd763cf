import FlowspoolTestSupport
import POSIX

/// OpenSSH's ssh, the reference client, against the test sshd: as the test user with the ed25519
/// key, the host key not checked, its standard input empty, as `ssh host script </dev/null` runs.
struct ReferenceSSH {
    /// How ssh ended, and what it wrote on both streams in one, in the order it wrote it, as
    /// `ssh host script 2>&1` gives them.
    struct Result {
        let status: ExitStatus
        let output: [UInt8]
        /// From starting ssh (or timeout(1)) to its end.
        let seconds: Double

        var exitCode: Int32? {
            if case .exited(let code) = status { return code }
            return nil
        }
    }

    let keyDirectory: TemporaryDirectory
    let key: String

    init() throws {
        keyDirectory = try TemporaryDirectory()
        key = try keyDirectory.file("id", TestEnvironment.sshFile("id_ed25519"), mode: 0o600)
    }

    /// ssh's arguments to run `script` on the test sshd at `port`.
    func arguments(_ script: String, port: Int = TestEnvironment.sshPort) -> [String] {
        [
            "-i", key, "-p", String(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", TestEnvironment.sshUser + "@127.0.0.1", script,
        ]
    }

    /// Runs `script` with ssh; with `timeout`, as `timeout SECONDS ssh ...` does, which ends ssh
    /// with SIGTERM then and exits 124.
    func run(_ script: String, timeout seconds: Int? = nil) throws -> Result {
        let (program, arguments) = seconds.map { ("/usr/bin/timeout", [String($0), "/usr/bin/ssh"] + self.arguments(script)) }
            ?? ("/usr/bin/ssh", self.arguments(script))
        let started = Clock.monotonic()
        // The key file lives as long as this value does: until ssh has ended.
        let (status, output) = try withExtendedLifetime(keyDirectory) {
            try Spawn.capture(program, arguments: arguments, withErrors: true, limit: 64 << 20, timeout: 120)
        }
        return Result(status: status, output: output, seconds: Clock.monotonic() - started)
    }
}
