import POSIX
import Spool
import Testing
@testable import Supervisor

/// A flow waiting on other executions (WaitRegistration) holds no runner slot, so that what it
/// waits for can run, and its task timeout does not run while it waits.
@Suite("core: waits")
struct WaitsTests {
    @Test("a waiting flow frees its slot for the executions it waits for")
    func waitFreesSlot() {
        var core = CoreHarness(maxRunning: 1)
        core.start("flow", pid: 10)
        #expect(core.queueAndTurn(["child"]) == [])
        core.on(.waitBegan("flow"))
        #expect(core.core.busyRunners == 0)
        #expect(HarnessStarts.turn(&core) == ["child"])
    }

    @Test("the timeout stands still while the flow waits, and moves on by the time waited")
    func timeoutPausedWhileWaiting() {
        var core = CoreHarness()
        core.start("flow", pid: 10, timeout: 30)
        core.advance(10)
        core.on(.waitBegan("flow"))
        core.advance(100)
        #expect(core.on(.tick).isEmpty)
        core.on(.waitEnded("flow"))
        #expect(core.core.runners["flow"]?.deadline == 1130)
        core.advance(19.9)
        #expect(core.on(.tick).isEmpty)
        core.advance(0.1)
        #expect(core.on(.tick) == [.signal(10, .terminate)])
    }

    @Test("waits are counted: the slot is held again when the last one ends")
    func nestedWaits() {
        var core = CoreHarness(maxRunning: 1)
        core.start("flow", pid: 10, timeout: 30)
        core.on(.waitBegan("flow"))
        core.advance(5)
        core.on(.waitBegan("flow"))
        core.advance(5)
        core.on(.waitEnded("flow"))
        #expect(core.core.busyRunners == 0)
        core.advance(5)
        core.on(.waitEnded("flow"))
        #expect(core.core.busyRunners == 1)
        #expect(core.core.runners["flow"]?.deadline == 1045, "the 15 s of both waits, counted once")
    }

    @Test("an end of a wait never begun changes nothing")
    func unmatchedEnd() {
        var core = CoreHarness()
        core.start("flow", pid: 10, timeout: 30)
        core.advance(10)
        core.on(.waitEnded("flow"))
        #expect(core.core.runners["flow"]?.waits == 0)
        #expect(core.core.runners["flow"]?.deadline == 1030)
    }

    @Test("a flow cancelled while it waits is stopped all the same, and killed after the grace")
    func cancelledWhileWaiting() {
        var core = CoreHarness(killGrace: 2)
        core.start("flow", pid: 10, timeout: 30)
        core.on(.waitBegan("flow"))
        #expect(core.on(.cancel("flow", cause: "flowspool cancel")) == [.signal(10, .terminate)])
        core.advance(2)
        #expect(core.on(.tick) == [.signal(10, .kill)])
    }
}
