import POSIX
import Spool
import Testing
@testable import Supervisor

/// A flow waiting on other executions (a WaitRegistration naming it, by its token) holds no runner
/// slot, so that what it waits for can run, and its task timeout does not run while it waits.
@Suite("core: waits")
struct WaitsTests {
    @Test("a waiting flow frees its slot for the executions it waits for")
    func waitFreesSlot() {
        var core = CoreHarness(maxRunning: 1)
        core.start("flow", pid: 10)
        #expect(core.queueAndTurn(["child"]) == [])
        core.on(.waiterRegistered("t", flow: "flow"))
        #expect(core.core.busySlots == 0)
        #expect(HarnessStarts.turn(&core) == ["child"])
    }

    @Test("the timeout stands still while the flow waits, and moves on by the time waited")
    func timeoutPausedWhileWaiting() {
        var core = CoreHarness()
        core.start("flow", pid: 10, timeout: 30)
        core.advance(10)
        core.on(.waiterRegistered("t", flow: "flow"))
        core.advance(100)
        #expect(core.on(.tick).isEmpty)
        core.on(.waiterGone("t"))
        #expect(core.core.runs["flow"]?.deadline == 1130)
        core.advance(19.9)
        #expect(core.on(.tick).isEmpty)
        core.advance(0.1)
        #expect(core.on(.tick) == [.signal(10, .terminate)])
    }

    @Test("waits are counted: the slot is held again when the last one ends")
    func nestedWaits() {
        var core = CoreHarness(maxRunning: 1)
        core.start("flow", pid: 10, timeout: 30)
        core.on(.waiterRegistered("t1", flow: "flow"))
        core.advance(5)
        core.on(.waiterRegistered("t2", flow: "flow"))
        core.advance(5)
        core.on(.waiterGone("t1"))
        #expect(core.core.busySlots == 0)
        core.advance(5)
        core.on(.waiterGone("t2"))
        #expect(core.core.busySlots == 1)
        #expect(core.core.runs["flow"]?.deadline == 1045, "the 15 s of both waits, counted once")
    }

    @Test("a registration gone that counted nothing changes nothing")
    func unmatchedEnd() {
        var core = CoreHarness()
        core.start("flow", pid: 10, timeout: 30)
        core.advance(10)
        core.on(.waiterGone("never registered"))
        core.on(.waiterRegistered("t", flow: nil))
        core.on(.waiterGone("t"))
        #expect(core.core.runs["flow"]?.waits == 0)
        #expect(core.core.runs["flow"]?.deadline == 1030)
    }

    @Test("a flow cancelled while it waits is stopped all the same, and killed after the grace")
    func cancelledWhileWaiting() {
        var core = CoreHarness(killGrace: 2)
        core.start("flow", pid: 10, timeout: 30)
        core.on(.waiterRegistered("t", flow: "flow"))
        #expect(core.on(.cancel("flow", cause: "flowspool cancel")) == [.signal(10, .terminate)])
        core.advance(2)
        #expect(core.on(.tick) == [.signal(10, .kill)])
    }

    @Test("a registration read again is counted once")
    func readAgain() {
        var core = CoreHarness(maxRunning: 1)
        core.start("flow", pid: 10)
        core.on(.waiterRegistered("t", flow: "flow"))
        core.on(.waiterRegistered("t", flow: "flow"))
        #expect(core.core.runs["flow"]?.waits == 1)
        core.on(.waiterGone("t"))
        #expect(core.core.busySlots == 1)
    }

    @Test("a registration for a flow with no runner here counts nothing, even once a runner starts")
    func noRunner() {
        var core = CoreHarness(maxRunning: 1)
        core.on(.waiterRegistered("t", flow: "flow"))
        core.start("flow", pid: 10)
        #expect(core.core.busySlots == 1)
        #expect(core.core.countedWaits.isEmpty)
        core.on(.waiterGone("t"))
        #expect(core.core.runs["flow"]?.waits == 0)
    }
}
