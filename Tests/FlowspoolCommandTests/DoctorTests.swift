import Basics
import FlowspoolTestSupport
import POSIX
import Spool
import Testing

/// `flowspool doctor`: what it finds wrong, and that it says how to fix it.
@Suite("flowspool doctor")
struct DoctorTests {
    let test: TestSpool

    init() throws {
        test = try TestSpool()
    }

    func doctor(_ arguments: String...) throws -> CommandResult {
        try runProgram(TestEnvironment.program("flowspool"), ["doctor", "--spool", test.root] + arguments, timeout: 60)
    }

    @Test("a healthy spool: the layout, the supervisor, the limits and every runner are ok, exit 0")
    func healthy() throws {
        try test.startSupervisor()
        // The runners as bin/flowspoold gives them: the SSH runner with libssh2 1.11 first, where
        // the system's is older (a warning otherwise, which DoctorLibSSH2Tests checks).
        let ssh = SSHLibrary.unpacked?.runners ?? TestEnvironment.binDirectory
        let result = try doctor("--runner-path", ssh + ":" + TestEnvironment.binDirectory)
        #expect(result.exitCode == 0, "\(result.standardOutput)")
        let lines = result.standardOutput.split(separator: "\n")
        let olderLibSSH2 = SSHLibrary.unpacked == nil && !SSHLibrary.hasRSASHA2 ? "warn  SSH: libssh2 \(SSHLibrary.version) " : "ok    "
        #expect(lines.allSatisfy { $0.hasPrefix("ok    ") || $0.hasPrefix("warn  inotify") || $0.hasPrefix(olderLibSSH2) }, "\(result.standardOutput)")
        #expect(lines.contains("ok    a flowspoold supervises \(test.root)"))
        for type in TaskType.builtIn where type != "SSH" {
            #expect(lines.contains("ok    \(type): \(TestEnvironment.binDirectory)/flowspool-task-\(type) (flowspool-task-\(type) \(FlowspoolVersion.current))"))
        }
        // Whose AWS models the runner reads: bin/test's botocore, which FLOWSPOOL_AWS_MODELS names.
        let models = try #require(Environment.value("FLOWSPOOL_AWS_MODELS"))
        #expect(lines.contains { $0.hasPrefix("ok    AWS: botocore ") && $0.hasSuffix(" models in \(models) (FLOWSPOOL_AWS_MODELS)") }, "\(result.standardOutput)")
        #expect(lines.contains("ok    SSH: \(ssh)/flowspool-task-SSH (flowspool-task-SSH \(FlowspoolVersion.current))"), "\(result.standardOutput)")
        #expect(lines.contains { $0.hasPrefix("ok    SSH: libssh2 ") }, "\(result.standardOutput)")
    }

    @Test("a broken set-up: each problem is named with its fix, and doctor exits 1")
    func broken() throws {
        try test.startSupervisor()
        try test.stopSupervisor()
        try FileSystem.changeMode(test.spool.executions, 0o755)
        try FileSystem.removeIfPresent(test.spool.control)
        try FileSystem.writeFile(test.spool.control, Array("not a FIFO\n".utf8))
        // A REST runner that needs a C library that is not there, as a runner built elsewhere would.
        let runners = try TemporaryDirectory()
        try runners.file("gone.c", "int gone(void) { return 0; }\n")
        try runners.file("main.c", "int gone(void);\nint main(void) { return gone(); }\n")
        for arguments in [["-shared", "-fPIC", "-o", "libflowspoolgone.so", "gone.c"], ["-o", "flowspool-task-REST", "main.c", "-L.", "-lflowspoolgone"]] {
            let compiled = try runProgram("/usr/bin/env", ["-C", runners.path, "clang"] + arguments)
            #expect(compiled.exitCode == 0, "clang: \(compiled.standardError)")
        }
        try FileSystem.removeIfPresent(runners.path + "/libflowspoolgone.so")

        let result = try doctor("--runner-path", runners.path)
        #expect(result.exitCode == 1)
        let report = result.standardOutput
        #expect(report.contains("warn  \(test.spool.executions) has the mode 755, not 700 (flowspoold sets it when it starts)"), "\(report)")
        #expect(report.contains("FAIL  \(test.spool.control) is a regular file, not a FIFO; move it away and start again"), "\(report)")
        #expect(report.contains("warn  no flowspoold supervises \(test.root): jobs wait in incoming/ until one starts"), "\(report)")
        #expect(report.contains("FAIL  REST: \(runners.path)/flowspool-task-REST exited with status 127: "), "\(report)")
        #expect(report.contains("libflowspoolgone.so: cannot open shared object file"), "\(report)")
        #expect(report.contains("FAIL  no flowspool-task-SSH on the runner path (\(runners.path)): SSH jobs fail; install flowspool (bin/install) or give --runner-path"))
    }
}
