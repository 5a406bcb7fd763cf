import POSIX
import Spool
import Testing
@testable import Supervisor

/// Task timeouts (flowspoold(8) --task-timeout, --kill-grace): SIGTERM at the deadline, SIGKILL
/// after the grace, with the clock faked.
@Suite("core: deadlines")
struct DeadlineTests {
    @Test("nothing happens before a runner's task timeout runs out")
    func nothingBeforeDeadline() {
        var core = CoreHarness()
        core.start("a", pid: 10, timeout: 30)
        core.advance(29.9)
        #expect(core.on(.tick).isEmpty)
        #expect(core.core.nextDeadline == 1030)
    }

    @Test("a runner past its timeout gets SIGTERM, then SIGKILL after the kill grace")
    func termThenKill() {
        var core = CoreHarness(killGrace: 2)
        core.start("a", pid: 10, timeout: 30)
        core.advance(30)
        #expect(core.on(.tick) == [.signal(10, .terminate)])
        #expect(core.core.runs["a"]?.ending == .timedOut)
        #expect(core.core.nextDeadline == 1032)
        core.advance(1.9)
        #expect(core.on(.tick).isEmpty)
        core.advance(0.1)
        #expect(core.on(.tick) == [.signal(10, .kill)])
        core.advance(100)
        #expect(core.on(.tick).isEmpty, "SIGKILL is sent once; the runner's end is what comes next")
    }

    @Test("a cancelled runner gets SIGTERM at once, and its timeout no longer counts")
    func cancelStops() {
        var core = CoreHarness(killGrace: 3)
        core.start("a", pid: 10, timeout: 30)
        #expect(core.on(.cancel("a", cause: "flowspool cancel")) == [.signal(10, .terminate)])
        #expect(core.on(.cancel("a", cause: "again")).isEmpty, "stopped once")
        #expect(core.core.runs["a"]?.ending == .cancelled("flowspool cancel"))
        core.advance(3)
        #expect(core.on(.tick) == [.signal(10, .kill)])
        core.advance(30)
        #expect(core.on(.tick).isEmpty)
        #expect(core.core.runs["a"]?.ending == .cancelled("flowspool cancel"))
    }

    @Test("cancelling an execution without a runner decides nothing")
    func cancelUnknown() {
        var core = CoreHarness()
        #expect(core.on(.cancel("nobody", cause: "flowspool cancel")).isEmpty)
    }

    @Test("only the runners whose deadline came are signalled")
    func eachRunnerItsOwnDeadline() {
        var core = CoreHarness(maxRunning: 3)
        core.start("a", pid: 10, timeout: 10)
        core.start("b", pid: 11, timeout: 20)
        core.advance(15)
        #expect(core.on(.tick) == [.signal(10, .terminate)])
        #expect(core.core.runs["b"]?.ending == nil)
    }

    @Test("`ending ID` moves the deadline on by --end-grace and the kill grace, once")
    func endingLate() {
        var core = CoreHarness(killGrace: 2, endGrace: 5)
        core.start("20260101-000000-aaaaaaaa", pid: 10, timeout: 30)
        core.advance(10)
        let actions = core.on(.endingLate("20260101-000000-aaaaaaaa"))
        #expect(actions.count == 1)
        guard case .logOnce("ending late", _)? = actions.first else {
            Issue.record("expected the once-an-hour log line, got \(actions)")
            return
        }
        #expect(core.core.runs["20260101-000000-aaaaaaaa"]?.deadline == 1037)
        #expect(core.on(.endingLate("20260101-000000-aaaaaaaa")).isEmpty, "said once, moved once")
        core.advance(26.9)
        #expect(core.on(.tick).isEmpty)
        core.advance(0.1)
        #expect(core.on(.tick) == [.signal(10, .terminate)])
        #expect(core.core.runs["20260101-000000-aaaaaaaa"]?.goneMessage.contains("--end-grace") == true)
    }

    @Test("`ending` for an id that is none, or a runner stopped already, is ignored")
    func endingLateIgnored() {
        var core = CoreHarness()
        core.start("not an id", pid: 10)
        #expect(core.on(.endingLate("not an id")).isEmpty)
        core.start("20260101-000000-bbbbbbbb", pid: 11)
        core.on(.cancel("20260101-000000-bbbbbbbb", cause: "flowspool cancel"))
        #expect(core.on(.endingLate("20260101-000000-bbbbbbbb")).isEmpty)
    }

    @Test("an adopted runner's timeout counts the time it ran under the supervisor before")
    func adoptedDeadline() {
        var core = CoreHarness()
        let run = Run(id: "a", task: "REST", started: 0, processGroup: 10, timeout: 60, ranAlready: 45, at: core.now)
        #expect(core.on(.adopted(run)) == [.watchLock("a")])
        #expect(core.core.runs["a"]?.watched == true)
        core.advance(15)
        #expect(core.on(.tick) == [.signal(10, .terminate)])
    }

    @Test("an adopted runner whose pid is unknown is stopped without a signal")
    func noProcessGroup() {
        var core = CoreHarness()
        core.on(.adopted(Run(id: "a", task: "?", started: 0, processGroup: nil, timeout: 5, at: core.now)))
        core.advance(5)
        #expect(core.on(.tick).isEmpty)
        #expect(core.core.runs["a"]?.ending == .timedOut)
    }

    @Test("an end the disk refused is judged again with a growing delay")
    func endRetry() {
        var core = CoreHarness()
        core.start("a", pid: 10)
        core.on(.executionEnded(.exited(10, .exited(1))))
        #expect(core.on(.endTried("a", .failed)).isEmpty)
        #expect(core.core.nextDeadline == 1001)
        core.advance(0.9)
        #expect(core.on(.tick).isEmpty)
        core.advance(0.1)
        #expect(core.on(.tick) == [.look("a")])
        core.on(.endTried("a", .failed))
        core.advance(1.9)
        #expect(core.on(.tick).isEmpty)
        core.advance(0.1)
        #expect(core.on(.tick) == [.look("a")])
        core.on(.endTried("a", .ended))
        #expect(core.core.runs.isEmpty)
    }

    @Test("a retried end that finds the lock held waits for the lock alone: no deadline left in the past to spin on")
    func endRetryMeetsHeldLock() {
        var core = CoreHarness()
        core.start("a", pid: 10)
        core.on(.executionEnded(.exited(10, .exited(1))))
        core.on(.endTried("a", .failed))
        core.advance(1)
        #expect(core.on(.tick) == [.look("a")])
        #expect(core.on(.endTried("a", .lockHeld)) == [.watchLock("a")])
        #expect(core.core.nextDeadline > core.now)
        core.advance(10)
        #expect(core.on(.tick).isEmpty)
        #expect(core.on(.executionEnded(.lockReleased("a"))) == [.look("a")])
    }
}
