import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// --spool and --cluster on the command line (flowspool(1), Back-ends): where each may stand, and
/// what an option a back-end lacks gets.
@Suite("flowspool back-ends")
struct BackendChoiceTests {
    let test: TestSpool
    /// Nothing listens there: a refusal must come before any connection.
    let nowhere = "redis://127.0.0.1:1"

    init() throws {
        test = try TestSpool()
    }

    func flowspool(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try runProgram(TestEnvironment.program("flowspool"), arguments, environment: ["FLOWSPOOL_SPOOL": test.root].merging(environment) { $1 }, timeout: 30)
    }

    @Test("an option a back-end lacks is a usage error naming the option and the back-end, before anything is reached or submitted", arguments: [
        (["--cluster", "redis://127.0.0.1:1", "run", "--unique", "k", "REST", "url=x"], "--unique is not supported with --cluster: "),
        (["run", "--cancel-on-interrupt", "REST", "url=x", "--cluster", "redis://127.0.0.1:1"], "--cancel-on-interrupt is not supported with --cluster: "),
        (["--cluster=redis://127.0.0.1:1", "list", "--parent", "someid"], "--parent is not supported with --cluster: "),
        (["list", "--all", "--cluster", "redis://127.0.0.1:1"], "--all is not supported with --cluster: "),
        (["--cluster", "redis://127.0.0.1:1", "gc", "--older-than", "1d", "--archive", "/tmp"], "--archive is not supported with --cluster: "),
        (["--cluster", "redis://127.0.0.1:1", "--spool", "/tmp", "status", "someid"], "--spool is not supported with --cluster: "),
        (["submit", "--retry-on-host-loss", "REST", "url=x"], "--retry-on-host-loss is not supported with a local spool: "),
        (["run", "--retry-on-host-loss", "REST", "url=x"], "--retry-on-host-loss is not supported with a local spool: "),
        (["log", "someid", "--cluster", "redis://127.0.0.1:1"], "--cluster is not supported with log: "),
        (["--cluster", "redis://127.0.0.1:1", "inputs"], "--cluster is not supported with inputs: "),
        (["--cluster", "redis://127.0.0.1:1", "top", "--once"], "--cluster is not supported with top: "),
        (["--cluster", "redis://127.0.0.1:1", "settings", "list"], "--cluster is not supported with settings: "),
        (["--cluster", "redis://127.0.0.1:1", "doctor"], "--cluster is not supported with doctor: "),
    ])
    func refused(arguments: [String], message: String) throws {
        let result = try flowspool(arguments)
        #expect(result.exitCode == ProgramExit.usage, "\(arguments): \(result.standardError)")
        #expect(result.standardError.hasPrefix("flowspool: " + message), "\(arguments): \(result.standardError)")
        #expect(result.standardOutput.isEmpty)
        #expect(try FileSystem.listDirectory(test.spool.incoming).isEmpty, "\(arguments) submitted a job")
    }

    @Test("respond refuses --spool with --cluster as flowspool does, before it reads the answer")
    func respondRefusesBoth() throws {
        let result = try runProgram(TestEnvironment.program("respond"), ["--spool", test.root, "--cluster", nowhere, "someid", "-"], input: "secret", timeout: 30)
        #expect(result.exitCode == ProgramExit.usage, "\(result.standardError)")
        #expect(result.standardError.contains("--spool is not supported with --cluster: "), "\(result.standardError)")
    }

    @Test("--spool and --cluster stand before or after the command, spelt with a space or '='; --spool goes before $FLOWSPOOL_CLUSTER")
    func placement() throws {
        for arguments in [["--spool", test.root, "submit", "REST", "url=x"], ["submit", "REST", "url=x", "--spool=\(test.root)"],
                          ["submit", "--spool", test.root, "REST", "url=x"]] {
            let result = try flowspool(arguments, environment: ["FLOWSPOOL_SPOOL": "/nonexistent", "FLOWSPOOL_CLUSTER": nowhere])
            #expect(result.exitCode == 0, "\(arguments): \(result.standardError)")
            #expect(test.spool.knows(result.standardOutput.trimming("\n")), "\(arguments)")
        }
        for arguments in [["--cluster", nowhere, "status", "someid"], ["status", "someid", "--cluster=\(nowhere)"], ["status", "someid"]] {
            let result = try flowspool(arguments, environment: ["FLOWSPOOL_CLUSTER": nowhere])
            #expect(result.exitCode == ProgramExit.failure, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("127.0.0.1:1"), "\(arguments): \(result.standardError)")
        }
    }

    @Test("--job-timeout is the job's own timeout, on submit (also spelt --timeout there) and run; run --timeout is not")
    func jobTimeout() throws {
        for (arguments, timeout) in [(["submit", "--job-timeout", "7", "REST", "url=x"], 7.0), (["submit", "--timeout", "5", "REST", "url=x"], 5.0),
                                     (["submit", "REST", "url=x"], nil)] {
            let result = try flowspool(arguments)
            let id = result.standardOutput.trimming("\n")
            #expect(try #require(test.spool.job(knownAs: id), "\(arguments): \(result.standardError)").timeout == timeout, "\(arguments)")
        }
        try test.startSupervisor()
        let run = try flowspool(["run", "--timeout", "30", "--job-timeout", "20", "REST", "url=\(TestEnvironment.httpURL)/echo"])
        #expect(run.exitCode == 0, "\(run.standardError)")
        let id = executionID(run)
        #expect(try test.execution(id).job().timeout == 20)
        let bounded = try flowspool(["run", "--timeout", "30", "REST", "url=\(TestEnvironment.httpURL)/echo"])
        let other = executionID(bounded)
        #expect(try test.execution(other).job().timeout == nil, "run --timeout bounds the wait, not the job")
    }

    /// The id `run` says on standard error ("flowspool: execution ID").
    func executionID(_ run: CommandResult) -> String {
        run.standardError.split(separator: "\n").first { $0.hasPrefix("flowspool: execution ") }.map { String($0.dropFirst(21)) } ?? "none"
    }

    @Test("--job-timeout that is no length of time is a usage error", arguments: [["run", "--job-timeout", "nan", "REST", "url=x"], ["submit", "--job-timeout=-1", "REST", "url=x"]])
    func badJobTimeout(arguments: [String]) throws {
        let result = try flowspool(arguments)
        #expect(result.exitCode == ProgramExit.usage)
        #expect(result.standardError.contains("--job-timeout must be"), "\(result.standardError)")
    }
}
