import Basics
import FlowspoolTestSupport
import POSIX
import Spool
import Testing

/// One table of exit statuses (ProgramExit), kept by every program, as their man pages say.
@Suite("exit statuses and versions")
struct ExitStatusTests {
    let test: TestSpool

    init() throws {
        test = try TestSpool()
    }

    func run(_ program: String, _ arguments: [String]) throws -> CommandResult {
        try runProgram(TestEnvironment.program(program), arguments, environment: ["FLOWSPOOL_SPOOL": test.root], timeout: 30)
    }

    @Test("every usage error of every program exits 64 and says what is wrong")
    func usageErrors() throws {
        let cases: [(String, [String], String)] = [
            ("flowspool", ["frobnicate"], "Unexpected argument 'frobnicate'"),
            ("flowspool", ["status"], "Missing expected argument '<id>'"),
            ("flowspool", ["list", "--bogus"], "Unknown option '--bogus'"),
            ("flowspool", ["list", "--status", "done"], "'done' is not a status"),
            ("flowspool", ["run", "REST", "nokey"], "input 'nokey' is not key=value"),
            ("flowspool", ["run", "--timeout=-1", "REST", "url=x"], "--timeout must be a positive number of seconds"),
            ("flowspool", ["settings", "set", "x", "--file", "/nonexistent"], "cannot read /nonexistent"),
            ("respond", ["only-an-id"], "give the answer once: as VALUE, as '-' for standard input, or with --file FILE"),
            ("flowspoold", ["--max-running", "0"], "--max-running must be at least 1"),
        ]
        for (program, arguments, message) in cases {
            let result = try run(program, arguments)
            #expect(result.exitCode == ProgramExit.usage, "\(program) \(arguments): \(result.standardError)")
            #expect(result.standardError.contains(message), "\(program) \(arguments): \(result.standardError)")
        }
    }

    @Test("a duration that is no length of time (nan, inf, 1e400, negative) is a usage error before anything is submitted", arguments: [
        ("flowspool", ["run", "--timeout", "nan", "INPUT", "request=x"]), ("flowspool", ["submit", "--timeout", "inf", "INPUT", "request=x"]),
        ("flowspool", ["run", "--timeout", "1e400", "INPUT", "request=x"]), ("flowspool", ["wait", "someid", "--timeout", "nan"]),
        ("flowspool", ["wait", "someid", "--timeout=-5"]), ("flowspoold", ["--task-timeout", "nan"]), ("flowspoold", ["--rescan-interval", "inf"]),
        ("flowspoold", ["--runner-max-idle", "nan"]), ("flowspoold", ["--node-timeout", "nan"]),
    ])
    func durationsAreLengthsOfTime(program: String, arguments: [String]) throws {
        let result = try run(program, arguments)
        #expect(result.exitCode == ProgramExit.usage, "\(arguments): \(result.standardError)")
        #expect(result.standardError.contains("must be"), "\(arguments): \(result.standardError)")
        #expect(try FileSystem.listDirectory(test.spool.incoming).isEmpty, "\(arguments) submitted a job")
        #expect(try FileSystem.listDirectory(test.spool.executions).isEmpty)
    }

    @Test("an unknown execution is a failure (1); a timeout 124")
    func failures() throws {
        try test.startSupervisor()
        let unknown = try run("flowspool", ["status", "nosuchid"])
        #expect(unknown.exitCode == ProgramExit.failure)
        #expect(unknown.standardError == "flowspool: no execution nosuchid in \(test.root)\n")
        let id = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "wait"]))
        let waited = try run("flowspool", ["wait", id, "--timeout", "0.5"])
        #expect(waited.exitCode == ProgramExit.timedOut)
    }

    @Test("every program and runner says its version")
    func versions() throws {
        let programs = ["flowspool", "flowspoold", "respond", "flowspool-drop"] + TaskType.builtIn.map { TaskType.runnerPrefix + $0 }
        for program in programs {
            let result = try run(program, ["--version"])
            #expect(result.exitCode == 0, "\(program): \(result.standardError)")
            // The AWS runner says whose API models it reads, the SSH runner the libssh2 it loads, on a
            // line of its own (flowspool doctor shows it; LibSSH2SetupTests).
            let expected = "\(program) \(FlowspoolVersion.current)\n"
            let detail = ["flowspool-task-AWS": "botocore ", "flowspool-task-SSH": "libssh2 \(SSHLibrary.version) from "][program]
            #expect(detail.map { result.standardOutput.hasPrefix(expected + $0) } ?? (result.standardOutput == expected), "\(program): \(result.standardOutput)")
        }
    }
}
