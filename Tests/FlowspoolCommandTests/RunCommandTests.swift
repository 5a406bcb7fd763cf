#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// `flowspool run` as a person at a terminal and cron use it: what it says while it waits, and how
/// Ctrl-C and --timeout end the wait.
@Suite("flowspool run")
struct RunCommandTests {
    let test: TestSpool
    let scripts: TemporaryDirectory
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
        scripts = try TemporaryDirectory()
        try test.startSupervisor()
    }

    func start(_ arguments: String...) throws -> StartedProgram {
        try StartedProgram(TestEnvironment.program("flowspool"), ["run", "--spool", test.root] + arguments)
    }

    /// The id `run` printed on standard error.
    func executionID(in standardError: String) throws -> String {
        let line = try #require(standardError.split(separator: "\n").first { $0.hasPrefix("flowspool: execution ") })
        return String(line.dropFirst("flowspool: execution ".count))
    }

    @Test("run prints the execution id on stderr at once, the outputs on stdout, and a flow's end message on stderr")
    func idOutputsAndMessage() throws {
        let flow = try scripts.file("ends.py", "def handler(c):\n    c.setOutput('n', 42)\n    c.end('success', message='all 42 hosts patched')\n")
        let result = try runProgram(TestEnvironment.program("flowspool"), ["run", "--spool", test.root, "FLOW", "script=\(flow)"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let id = try executionID(in: result.standardError)
        #expect(test.execution(id).status() == .success)
        #expect(try JSON(parsing: result.standardOutput)["n"] == 42)
        #expect(result.standardError.hasSuffix("flowspool: all 42 hosts patched\n"), "\(result.standardError)")
    }

    @Test("while an INPUT request of its flow waits, run says so once, with the respond command that answers it")
    func saysWhatWaitsForAnAnswer() throws {
        let flow = try scripts.file("approve.py", """
            def handler(c):
                answer = c.task('INPUT', request='deploy to production?').run().getOutputs()['response']
                c.end('success', message='answered ' + answer)
            """)
        let run = try start("FLOW", "script=\(flow)")
        try run.awaitStandardError(containing: "asks: deploy to production?")
        let line = try #require(run.standardError.split(separator: "\n").first { $0.contains("asks:") })
        let request = try #require(line.split(separator: " ").dropFirst().first.map(String.init))
        #expect(line.hasSuffix("answer with: respond --spool \(test.root) \(request) VALUE"), "\(line)")
        #expect(try test.execution(request).job().parent == (try executionID(in: run.standardError)))
        let answered = try runProgram(TestEnvironment.program("respond"), ["--spool", test.root, request, "yes"])
        #expect(answered.exitCode == 0, "\(answered.standardError)")
        let result = try run.finish(within: 30)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardError.split(separator: "\n").filter { $0.contains("asks:") }.count == 1, "said once: \(result.standardError)")
        #expect(result.standardError.contains("answered yes"))
    }

    @Test("Ctrl-C detaches: the execution goes on and run says how to follow or cancel it, exiting 130")
    func interruptDetaches() throws {
        let run = try start("INPUT", "request=hold on")
        try run.awaitStandardError(containing: "asks: hold on")
        let id = try executionID(in: run.standardError)
        kill(run.pid, SIGINT)
        let result = try run.finish(within: 10)
        #expect(result.exitCode == 130)
        #expect(result.standardError.contains("\(id) goes on; follow it with: flowspool wait \(id), or stop it with: flowspool cancel \(id)"))
        #expect(test.execution(id).status() == .waiting)
    }

    @Test("with --cancel-on-interrupt, Ctrl-C cancels the execution")
    func interruptCancels() throws {
        let run = try start("--cancel-on-interrupt", "INPUT", "request=hold on")
        try run.awaitStandardError(containing: "asks: hold on")
        let id = try executionID(in: run.standardError)
        kill(run.pid, SIGINT)
        let result = try run.finish(within: 20)
        #expect(result.exitCode == 130)
        #expect(result.standardError.contains("it ended cancelled"), "\(result.standardError)")
        #expect(test.execution(id).status() == .cancelled)
    }

    @Test("--timeout bounds the whole wait: an execution still going is cancelled, exit 124")
    func timeoutCancels() throws {
        let result = try runProgram(TestEnvironment.program("flowspool"), ["run", "--spool", test.root, "--timeout", "2", "INPUT", "request=never answered"], timeout: 20)
        #expect(result.exitCode == 124)
        let id = try executionID(in: result.standardError)
        #expect(result.standardError.contains("\(id) has not ended after 2.0s: it ended cancelled"), "\(result.standardError)")
        #expect(try test.waitForEnd(of: id) == .ended(.cancelled))
    }

    @Test("with no supervisor, run says so after a grace period, and --timeout withdraws the job to failed/ rather than wait forever")
    func timeoutWithoutSupervisor() throws {
        try test.stopSupervisor()
        let result = try runProgram(TestEnvironment.program("flowspool"), ["run", "--spool", test.root, "--timeout", "4", "REST", "url=\(http)/echo"], timeout: 20)
        #expect(result.exitCode == 124)
        let id = try executionID(in: result.standardError)
        #expect(result.standardError.contains("no flowspoold supervises \(test.root)"))
        #expect(result.standardError.contains("the job was withdrawn to failed/\(id).json"), "\(result.standardError)")
        #expect(test.spool.jobState(id) == .rejected("withdrawn before it was admitted (flowspool run --timeout 4.0s)"))
        // A supervisor that starts later does not run it.
        try test.startSupervisor()
        #expect(!test.execution(id).exists)
    }

    @Test("a supervisor that comes within the grace period is waited for without a word")
    func graceForASupervisor() throws {
        try test.stopSupervisor()
        let run = try start("REST", "url=\(http)/echo")
        try run.awaitStandardError(containing: "flowspool: execution ")
        try test.startSupervisor()
        let result = try run.finish(within: 30)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(!result.standardError.contains("no flowspoold"), "\(result.standardError)")
    }
}
