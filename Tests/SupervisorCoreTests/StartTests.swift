import POSIX
import Spool
import Testing
@testable import Supervisor

/// Starting runners for queued executions (flowspoold(8) --max-running), and the pause after a
/// start fails for want of resources (Backoff).
@Suite("core: starts")
struct StartTests {
    @Test("a start turn takes the oldest queued executions, as many as slots are free")
    func oldestFirstWithinSlots() {
        var core = CoreHarness(maxRunning: 2)
        #expect(core.queueAndTurn(["a", "b", "c"]) == ["a", "b"])
        #expect(Array(core.core.queued) == ["c"])
    }

    @Test("no start while every slot is busy; a runner's end frees one")
    func slotFreedByEnd() {
        var core = CoreHarness(maxRunning: 1)
        #expect(core.queueAndTurn(["a"]) == ["a"])
        core.start("a", pid: 10)
        #expect(core.queueAndTurn(["b"]) == [])
        #expect(!core.core.canStart(at: core.now))
        #expect(core.core.nextDeadline > core.now + 50, "a queue behind busy slots has no deadline of its own")
        #expect(core.on(.executionEnded(.exited(10, .exited(0)))) == [.look("a")])
        core.found("a")
        #expect(core.core.canStart(at: core.now))
        #expect(HarnessStarts.turn(&core) == ["b"])
    }

    @Test("free slots for the cluster count runners and the queue")
    func freeSlots() {
        var core = CoreHarness(maxRunning: 4)
        core.start("a", pid: 10)
        core.on(.queued("b"))
        #expect(core.core.freeSlots == 2)
        core.on(.queued("c"))
        core.on(.queued("d"))
        core.on(.queued("e"))
        #expect(core.core.freeSlots == 0)
    }

    @Test("a paused start keeps its executions first in line, in order, and waits one second")
    func pausedStart() {
        var core = CoreHarness(maxRunning: 3)
        #expect(core.queueAndTurn(["a", "b", "c", "d"]) == ["a", "b", "c"])
        core.start("a", pid: 10)
        core.on(.startPaused(["b", "c"]))
        #expect(Array(core.core.queued) == ["b", "c", "d"])
        #expect(core.on(.startTurn).isEmpty)
        #expect(core.core.nextDeadline == core.now + 1, "a paused start with a free slot is a deadline")
        core.advance(1)
        #expect(HarnessStarts.turn(&core) == ["b", "c"])
    }

    @Test("the pause grows while starts keep failing, up to a minute, and a start resets it")
    func pauseGrows() {
        var core = CoreHarness(maxRunning: 1)
        core.on(.queued("a"))
        var delays: [Double] = []
        for _ in 0..<8 {
            let started = core.now
            #expect(HarnessStarts.turn(&core) == ["a"])
            core.on(.startPaused(["a"]))
            delays.append(core.core.startBackoff.nextTry - started)
            core.advance(core.core.startBackoff.nextTry - core.now)
        }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60])
        #expect(HarnessStarts.turn(&core) == ["a"])
        core.start("a", pid: 10)
        #expect(core.core.startBackoff.nextTry == 0)
    }

    @Test("a runner the core already has is started again only once it is gone")
    func startedRunnerHoldsSlot() {
        var core = CoreHarness(maxRunning: 2)
        core.start("a", pid: 10)
        core.start("b", pid: 11)
        #expect(core.core.busySlots == 2)
        #expect(core.queueAndTurn(["c"]) == [])
    }
}

enum HarnessStarts {
    static func turn(_ core: inout CoreHarness) -> [String] {
        CoreHarness.started(core.on(.startTurn))
    }
}
