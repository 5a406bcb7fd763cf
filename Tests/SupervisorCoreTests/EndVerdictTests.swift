import POSIX
import Spool
import Testing
@testable import Supervisor

/// What becomes of an execution once its runner is gone (EndVerdict, StopVerdict): a table from
/// what its directory shows and what the supervisor decided about the runner.
@Suite("core: the verdict on a runner's end")
struct EndVerdictTests {
    func run(ending: Run.Ending? = nil, exit: POSIX.ExitStatus? = .exited(1), resultInLog: Bool = false) -> Run {
        var run = Run(id: "a", task: "REST", started: 0, processGroup: 10, timeout: 90, at: 0)
        run.ending = ending
        run.exitStatus = exit
        run.resultInLog = resultInLog
        return run
    }

    @Test("its directory gone: vanished, whatever else")
    func vanished() {
        #expect(run().verdict(exists: false, status: nil, parkable: false) == .vanished)
        #expect(run(ending: .timedOut).verdict(exists: false, status: .success, parkable: true) == .vanished)
    }

    @Test("a final status: the runner ended it, even when the supervisor was stopping it")
    func ended() {
        for status in ExecutionStatus.allCases where status.isFinal {
            #expect(run().verdict(exists: true, status: status, parkable: false) == .ended(status))
            #expect(run(ending: .cancelled("x")).verdict(exists: true, status: status, parkable: false) == .ended(status))
        }
    }

    @Test("waiting with a wake condition: parked, unless the supervisor was stopping it")
    func park() {
        #expect(run().verdict(exists: true, status: .waiting, parkable: true) == .park)
        #expect(run(ending: .timedOut).verdict(exists: true, status: .waiting, parkable: true) == .stop)
        #expect(run().verdict(exists: true, status: .waiting, parkable: false) == .stop)
    }

    @Test("running, queued or unreadable: left unfinished, so its group is killed first")
    func stop() {
        for status: ExecutionStatus? in [.running, .queued, nil] {
            #expect(run().verdict(exists: true, status: status, parkable: true) == .stop)
        }
    }

    @Test("never begun and not stopped by the supervisor: run again, saying how the runner ended")
    func runAgain() {
        #expect(run(exit: .exited(127)).verdictAfterStop(begun: false) == .runAgain(cause: "its runner exited with status 127 before it began"))
        #expect(run(exit: nil).verdictAfterStop(begun: false) == .runAgain(cause: "its runner ended before it began"))
    }

    @Test("begun and left unfinished: fault, never run again")
    func fault() {
        let verdict = run(exit: .signaled(.kill)).verdictAfterStop(begun: true)
        #expect(verdict == .end(.fault, message: "the runner was killed by SIGKILL without ending the execution; see its log. Not re-run: tasks have side effects"))
    }

    @Test("timed out: error, begun or not, naming the timeout")
    func timedOut() {
        for begun in [true, false] {
            #expect(run(ending: .timedOut).verdictAfterStop(begun: begun) == .end(.error, message: "task timeout: the runner was stopped after 1m30s (the job's timeout, else flowspoold --task-timeout)"))
        }
    }

    @Test("cancelled: cancelled, naming the cause, begun or not")
    func cancelled() {
        for begun in [true, false] {
            #expect(run(ending: .cancelled("flowspool run --timeout 30s")).verdictAfterStop(begun: begun) == .end(.cancelled, message: "cancelled while running (flowspool run --timeout 30s)"))
        }
    }

    @Test("a runner that could not write its end: the message says its result is in its log")
    func unwritten() {
        let byStatus = run(exit: .exited(RunnerContract.unwrittenEndStatus)).verdictAfterStop(begun: true)
        guard case .end(.fault, let message) = byStatus else {
            Issue.record("expected a fault, got \(byStatus)")
            return
        }
        #expect(message.hasPrefix("the runner had done its task, but the disk refused its end"))
        let cancelled = run(ending: .cancelled("flowspool cancel"), resultInLog: true).goneMessage
        #expect(cancelled == "cancelled while running (flowspool cancel); it had done its task but the disk refused its end: its result is in its log")
    }

    @Test("what follows an end tried: removed, queued again, watched by its lock, or retried")
    func endTried() {
        var core = CoreHarness()
        for outcome in [EndOutcome.ended, .endedAlready] {
            core.start("a", pid: 10)
            #expect(core.on(.endTried("a", outcome)).isEmpty)
            #expect(core.core.runs["a"] == nil)
        }
        core.start("a", pid: 10)
        #expect(core.on(.endTried("a", .lockHeld)) == [.watchLock("a")])
        #expect(core.core.runs["a"]?.watched == true)
        #expect(core.on(.endTried("a", .failed)).isEmpty)
        #expect(core.core.runs["a"]?.endRetry != nil)
        #expect(core.on(.endTried("gone", .failed)).isEmpty, "nothing is decided for a runner already forgotten")
        #expect(core.core.runs["gone"] == nil)
    }
}
