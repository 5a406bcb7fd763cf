#if canImport(Glibc)
import Glibc
#endif
import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// The contract's RSA example works by default: where the SSH runner's libssh2 is older than 1.11,
/// bin/flowspoold (the README's first command) and bin/install set up Debian 13's libssh2 1.11 for it
/// themselves (bin/lib/libssh2.sh), and say so loudly when the archive cannot be reached, SSH tasks
/// then running with the system's libssh2.
@Suite("libssh2 1.11 set up by bin/flowspoold and bin/install")
struct LibSSH2SetupTests {
    let scratch: TemporaryDirectory

    init() throws {
        scratch = try TemporaryDirectory()
    }

    /// A directory for FLOWSPOOL_LIBSSH2_DIR holding a copy of what bin/test's run of
    /// bin/libssh2-1.11 unpacked, the library and the archive's version as fresh as they were, so
    /// that the scripts fetch nothing; nil (said loudly) when that run could not fetch it.
    func unpackedCopy() throws -> String? {
        guard let unpacked = SSHLibrary.unpacked else {
            if Environment.value("CI") != nil { Issue.record("libssh2 1.11 is not available: \(SSHLibrary.unavailable)") }
            print("SKIPPED LOUDLY: libssh2 1.11 set up from an unpacked copy was not tested: \(SSHLibrary.unavailable)")
            return nil
        }
        let copy = scratch.path + "/libssh2"
        try FileSystem.makeDirectory(copy)
        let copied = try runProgram("/bin/cp", ["-a", unpacked.directory + "/root", unpacked.directory + "/archive", copy])
        #expect(copied.exitCode == 0, "\(copied.standardError)")
        return copy
    }

    /// An environment in which Debian 13's archive cannot be reached (a proxy where nothing listens),
    /// and no libssh2 was unpacked before.
    func unreachableArchive() throws -> [String: String] {
        let proxy = "http://127.0.0.1:\(TestEnvironment.closedPort())"
        let empty = scratch.path + "/empty-libssh2"
        try FileSystem.makeDirectory(empty)
        return ["http_proxy": proxy, "https_proxy": proxy, "FLOWSPOOL_LIBSSH2_DIR": empty]
    }

    /// The test build under another name, as bin/flowspoold takes a build in FLOWSPOOL_BIN: a
    /// wrapper made for the test build's own name by bin/test must not be what is found.
    func build() throws -> String {
        let link = scratch.path + "/build"
        let made = try runProgram("/bin/ln", ["-s", TestEnvironment.binDirectory, link])
        #expect(made.exitCode == 0, "\(made.standardError)")
        return link
    }

    /// bin/flowspoold on `test`'s spool, returned once it supervises it.
    func startFlowspoold(_ test: TestSpool, _ environment: [String: String]) throws -> StartedProgram {
        let started = try StartedProgram(
            TestEnvironment.packageRoot + "/bin/flowspoold", ["--spool", test.root],
            environment: environment.merging(["FLOWSPOOL_BIN": try build()]) { $1 })
        try waitUntil("bin/flowspoold supervises \(test.root)", timeout: 120) {
            test.spool.hasSupervisor || hasExited(started.pid)
        }
        #expect(test.spool.hasSupervisor, "bin/flowspoold ended: \(started.standardError)")
        return started
    }

    func stop(_ program: StartedProgram) throws -> CommandResult {
        kill(program.pid, SIGTERM)
        return try program.finish(within: 30)
    }

    /// An SSH job with the ed25519 host key and key, which every libssh2 can do.
    func ed25519Job(on test: TestSpool, port: Int) throws -> Ended {
        try test.run("SSH", [
            "hostname": "127.0.0.1", "port": .int(port), "username": .string(TestEnvironment.sshUser),
            "hostkey": .string(SSHTaskTests.hostKey()), "key": .string(TestEnvironment.sshFile("id_ed25519")), "script": "id -un",
        ])
    }

    @Test("the SSH runner's --version names the libssh2 it loads, as the library itself says; run by bin/libssh2-1.11's wrapper, Debian 13's")
    func versionNamesLibrary() throws {
        let own = try runProgram(TestEnvironment.program("flowspool-task-SSH"), ["--version"])
        #expect(own.standardOutput.hasPrefix("flowspool-task-SSH \(FlowspoolVersion.current)\nlibssh2 \(SSHLibrary.version) from /"), "\(own.standardOutput)")
        #expect(own.standardOutput.contains("/libssh2.so.1"), "\(own.standardOutput)")
        guard let unpacked = SSHLibrary.unpacked else { return }
        let wrapped = try runProgram(unpacked.runners + "/flowspool-task-SSH", ["--version"])
        #expect(wrapped.standardOutput.hasPrefix("flowspool-task-SSH \(FlowspoolVersion.current)\nlibssh2 1.11."), "\(wrapped.standardOutput)")
        #expect(wrapped.standardOutput.contains(" from \(try FileSystem.realPath(unpacked.directory))/root/"), "\(wrapped.standardOutput)")
    }

    @Test("bin/flowspoold sets up libssh2 1.11 by itself where the build's is older: the contract's RSA example succeeds against a stock OpenSSH server")
    func flowspooldSetsUpLibSSH2() throws {
        guard let unpacked = try unpackedCopy() else { return }
        let test = try TestSpool()
        let supervisor = try startFlowspoold(test, ["FLOWSPOOL_LIBSSH2_DIR": unpacked])
        let (ended, log) = try SSHTaskTests.runSpecExample(port: TestEnvironment.stockSSHPort, on: test)
        let said = try stop(supervisor).standardError
        #expect(ended.status == .success, "\(ended.message): \(log)\nbin/flowspoold: \(said)")
        #expect(log.contains("is up since 20"))
        if !SSHLibrary.hasRSASHA2 {
            #expect(said.contains("flowspoold: SSH tasks run with Debian 13's libssh2-1t64 1.11."), "\(said)")
        }
    }

    @Test("where Debian 13's archive cannot be reached, bin/flowspoold says so loudly and runs SSH tasks with the system's libssh2")
    func flowspooldWithoutTheArchive() throws {
        let test = try TestSpool()
        let supervisor = try startFlowspoold(test, try unreachableArchive())
        let ed25519 = try ed25519Job(on: test, port: TestEnvironment.stockSSHPort)
        let (rsa, _) = try SSHTaskTests.runSpecExample(port: TestEnvironment.stockSSHPort, on: test)
        let said = try stop(supervisor).standardError
        #expect(ed25519.status == .success, "\(ed25519.message)")
        guard !SSHLibrary.hasRSASHA2 else { return }
        #expect(said.contains("flowspoold: WARNING: Debian 13's libssh2 1.11 could not be fetched ("), "\(said)")
        #expect(said.contains("SSH tasks run with the system's libssh2 \(SSHLibrary.version), which cannot check RSA host keys or log in with RSA keys on OpenSSH 8.8 and later"), "\(said)")
        #expect(rsa.status == .error)
        let child = try #require(test.execution(rsa.id).children().first)
        #expect(test.execution(child).message()?.contains("the server refuses ssh-rsa (SHA-1) signatures") == true)
    }

    @Test("bin/install installs libssh2 1.11 with the SSH runner where the build's is older: from the installed tree, the contract's RSA example succeeds and doctor names the package; bin/uninstall removes it")
    func installCarriesLibSSH2() throws {
        guard let unpacked = try unpackedCopy() else { return }
        let prefix = scratch.path + "/prefix"
        let install = try runProgram(
            TestEnvironment.packageRoot + "/bin/install", ["--prefix", prefix],
            environment: ["FLOWSPOOL_BIN": TestEnvironment.binDirectory, "FLOWSPOOL_LIBSSH2_DIR": unpacked], timeout: 120)
        #expect(install.exitCode == 0, "\(install.standardError)")
        let runner = try runProgram(prefix + "/libexec/flowspool/flowspool-task-SSH", ["--version"]).standardOutput
        if !SSHLibrary.hasRSASHA2 {
            #expect(runner.hasPrefix("flowspool-task-SSH \(FlowspoolVersion.current)\nlibssh2 1.11."), "\(runner)")
            #expect(runner.contains(" from \(prefix)/lib/flowspool/libssh2-1.11/libssh2.so.1"), "\(runner)")
        }

        let test = try TestSpool()
        let supervisor = try StartedProgram("/usr/bin/env", ["-i", "PATH=/usr/bin:/bin", prefix + "/bin/flowspoold", "--spool", test.root])
        try waitUntil("the installed flowspoold supervises \(test.root)", timeout: 10) { test.spool.hasSupervisor }
        let (ended, log) = try SSHTaskTests.runSpecExample(port: TestEnvironment.stockSSHPort, on: test)
        _ = try stop(supervisor)
        #expect(ended.status == .success, "\(ended.message): \(log)")
        let doctor = try runProgram("/usr/bin/env", ["-i", "PATH=/usr/bin:/bin", prefix + "/bin/flowspool", "doctor", "--spool", test.root], timeout: 60)
        if !SSHLibrary.hasRSASHA2 {
            #expect(doctor.standardOutput.contains("ok    SSH: libssh2-1t64 1.11."), "\(doctor.standardOutput)")
        }

        let uninstall = try runProgram(TestEnvironment.packageRoot + "/bin/uninstall", ["--prefix", prefix], timeout: 60)
        #expect(uninstall.exitCode == 0, "\(uninstall.standardError)")
        #expect(!FileSystem.exists(prefix), "bin/uninstall left \(prefix)")
    }

    @Test("where Debian 13's archive cannot be reached, bin/install says so loudly and installs the SSH runner with the system's libssh2")
    func installWithoutTheArchive() throws {
        let prefix = scratch.path + "/prefix"
        let install = try runProgram(
            TestEnvironment.packageRoot + "/bin/install", ["--prefix", prefix],
            environment: try unreachableArchive().merging(["FLOWSPOOL_BIN": TestEnvironment.binDirectory]) { $1 }, timeout: 120)
        #expect(install.exitCode == 0, "\(install.standardError)")
        let runner = try runProgram(prefix + "/libexec/flowspool/flowspool-task-SSH", ["--version"]).standardOutput
        #expect(runner.hasPrefix("flowspool-task-SSH \(FlowspoolVersion.current)\nlibssh2 \(SSHLibrary.version) from /"), "\(runner)")
        guard !SSHLibrary.hasRSASHA2 else { return }
        #expect(install.standardError.contains("install: WARNING: Debian 13's libssh2 1.11 could not be fetched ("), "\(install.standardError)")
        #expect(!FileSystem.exists(prefix + "/lib/flowspool/libssh2-1.11"))
    }
}
