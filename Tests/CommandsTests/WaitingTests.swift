@testable import Commands
import Basics
import POSIX
import Spool
import Testing

@Suite("waiting's decisions")
struct WaitingTests {
    @Test("a job state becomes an ending: pending after the wait is a timeout")
    func endings() {
        #expect(Ending(.pending) == .timedOut)
        #expect(Ending(.ended(.cancelled)) == .ended("cancelled"))
        #expect(Ending(.rejected("bad job")) == .notAdmitted("bad job"))
        #expect(Ending(.vanished) == .vanished)
    }

    @Test("wait prints the status word and exits 0 only for success; 1 for any other end, with nothing more said")
    func ended() {
        #expect(Ending.ended("success").verdict(of: "x", after: nil) == ("success", nil))
        let failed = Ending.ended("error").verdict(of: "x", after: nil)
        #expect(failed.line == "error" && failed.failure == CommandFailure("", exitCode: ProgramExit.failure))
    }

    @Test("a timeout exits 124 saying how long it waited; a job not admitted or gone exits 1 saying so, with no status line")
    func notEnded() {
        #expect(Ending.timedOut.verdict(of: "x", after: 1.5) == (nil, CommandFailure("x has not ended after 1.5s", exitCode: ProgramExit.timedOut)))
        #expect(Ending.notAdmitted("too big").verdict(of: "x", after: nil) == (nil, CommandFailure("job x was not admitted: too big")))
        #expect(Ending.vanished.verdict(of: "x", after: nil) == (nil, CommandFailure(JobState.vanishedMessage("x"))))
    }

    @Test("run announces an INPUT request of the execution or of a descendant, not of another tree")
    func requestTree() throws {
        let made = try MadeSpool()
        try made.execution("flow", "FLOW", at: 1_700_000_000, .running)
        try made.execution("child", "FLOW", at: 1_700_000_001, .running, parent: "flow")
        try made.execution("ask", "INPUT", at: 1_700_000_002, .waiting, parent: "child")
        try made.execution("other", "INPUT", at: 1_700_000_003, .waiting)
        let waiting = RunWaiting(spool: made.spool, id: "flow")
        func request(_ id: String, lineage: [String]? = nil) -> InputRequest {
            InputRequest(id: id, request: "?", reference: "", asked: 0, deadline: nil, lineage: lineage)
        }
        // Published without a lineage (an older flowspoold): walked through inputs.json.
        #expect(waiting.isInTree(request("ask")) && waiting.isInTree(request("flow")))
        #expect(!waiting.isInTree(request("other")))
        // Published with one: that is what counts.
        #expect(waiting.isInTree(request("other", lineage: ["flow"])))
        #expect(!waiting.isInTree(request("ask", lineage: ["elsewhere"])))
    }

    @Test("the respond command run suggests names the spool unless it is the default one")
    func respondCommand() throws {
        let made = try MadeSpool()
        #expect(RunWaiting(spool: made.spool, id: "x").respondCommand("r") == "respond --spool \(made.spool.root) r")
        #expect(RunWaiting(spool: Spool.locate(nil), id: "x").respondCommand("r") == "respond r")
    }
}

@Suite("back-ends' options")
struct BackendOptionTests {
    @Test("an option a back-end lacks is a usage error naming the option, the back-end and why")
    func refusals() {
        #expect(throws: CommandFailure.usage("--unique is not supported with --cluster: a cluster keeps no unique keys; run it with --spool on one host")) {
            try ClusterBackend.refuse([.unique])
        }
        #expect(throws: CommandFailure.self) { try LocalSpoolBackend.refuse([.retryOnHostLoss]) }
        #expect(throws: Never.self) { try LocalSpoolBackend.refuse([.unique, .cancelOnInterrupt, .parent, .all, .archive]) }
    }

    @Test("each option is lacked by at most one back-end, so that every option works somewhere")
    func table() {
        for option in CommandOption.allCases {
            #expect(LocalSpoolBackend.supports(option) || ClusterBackend.supports(option), "\(option.rawValue)")
        }
        #expect(CommandOption.allCases.filter { !ClusterBackend.supports($0) } == [.spool, .unique, .cancelOnInterrupt, .parent, .all, .archive])
    }

    @Test("a request names the options given, and only those")
    func given() {
        #expect(RunOptions(quiet: true, timeout: 3).options.isEmpty)
        #expect(RunOptions(unique: "k", cancelOnInterrupt: true).options == [.unique, .cancelOnInterrupt])
        #expect(ListQuery(statuses: ["success"], limit: 3, json: true).options.isEmpty)
        #expect(ListQuery(parent: "p", all: true).options == [.parent, .all])
        #expect(GCRequest(cutoff: 0, archive: "/a").options == [.archive])
        #expect(Submission(job: Job(task: "REST", inputs: [:]), retryOnHostLoss: true).options == [.retryOnHostLoss])
    }

    @Test("list's filters match a status and a task, any when not given")
    func matches() {
        #expect(ListQuery().matches(status: nil, task: nil))
        #expect(ListQuery(statuses: ["error", "fault"]).matches(status: "fault", task: "REST"))
        #expect(!ListQuery(statuses: ["error"], task: "REST").matches(status: "error", task: "SSH"))
    }
}
