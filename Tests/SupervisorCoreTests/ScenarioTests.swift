import POSIX
import Spool
import Testing
@testable import Supervisor

/// Whole stories told to the core, event by event, as the poll loop would: what the end-to-end
/// tests show with real processes and waits, here with the clock faked.
@Suite("core: scenarios")
struct ScenarioTests {
    @Test("a burst larger than the slots runs oldest first, a new runner for each that ends")
    func burst() {
        var core = CoreHarness(maxRunning: 2)
        var pids: [String: ProcessID] = [:]
        var order: [String] = []
        for id in ["a", "b", "c", "d", "e"] { core.on(.queued(id)) }
        while !core.core.queued.isEmpty || !core.core.runs.isEmpty {
            for id in HarnessStarts.turn(&core) {
                pids[id] = ProcessID(10 + pids.count)
                core.start(id, pid: pids[id]!)
                order.append(id)
            }
            #expect(core.core.busySlots <= 2)
            // The oldest runner ends, successfully.
            guard let first = core.core.runs.keys.sorted().first, let pid = pids[first] else { break }
            core.advance(1)
            #expect(core.on(.executionEnded(.exited(pid, .exited(0)))) == [.look(first)])
            core.found(first)
        }
        #expect(order == ["a", "b", "c", "d", "e"])
    }

    @Test("a runner that ignores SIGTERM is killed after the grace, and its slot is free once it is judged")
    func stubbornRunner() {
        var core = CoreHarness(maxRunning: 1, killGrace: 2)
        #expect(core.queueAndTurn(["a", "b"]) == ["a"])
        core.start("a", pid: 10, timeout: 5)
        core.advance(5)
        #expect(core.on(.tick) == [.signal(10, .terminate)])
        core.advance(2)
        #expect(core.on(.tick) == [.signal(10, .kill)])
        #expect(HarnessStarts.turn(&core).isEmpty, "its slot is held until it is gone")
        #expect(core.on(.executionEnded(.exited(10, .signaled(.kill)))) == [.look("a")])
        #expect(core.found("a", .running) == [.signal(10, .kill), .lookForBegun("a")])
        #expect(core.on(.foundBegun("a", true)) == [.end("a", .error, message: "task timeout: the runner was stopped after 5.0s (the job's timeout, else flowspoold --task-timeout)")])
        core.on(.endTried("a", .ended))
        #expect(HarnessStarts.turn(&core) == ["b"])
    }

    @Test("a runner that died before it began is queued again, at the back, and started again")
    func unbegunRunsAgain() {
        var core = CoreHarness(maxRunning: 1)
        #expect(core.queueAndTurn(["a", "b"]) == ["a"])
        core.start("a", pid: 10)
        core.on(.executionEnded(.exited(10, .exited(127))))
        #expect(core.found("a", .running) == [.signal(10, .kill), .lookForBegun("a")])
        #expect(core.on(.foundBegun("a", false)) == [.runAgain("a", cause: "its runner exited with status 127 before it began")])
        core.on(.endTried("a", .queued))
        #expect(HarnessStarts.turn(&core) == ["b"])
        core.start("b", pid: 11)
        core.on(.executionEnded(.exited(11, .exited(0))))
        core.found("b")
        #expect(HarnessStarts.turn(&core) == ["a"])
    }

    @Test("a flow waits for its child in the one slot, and its timeout counts only its own running")
    func flowAndChild() {
        var core = CoreHarness(maxRunning: 1, killGrace: 2)
        core.start("flow", pid: 10, timeout: 10)
        core.advance(4)
        core.on(.queued("child"))
        core.on(.waiterRegistered("t", flow: "flow"))
        #expect(HarnessStarts.turn(&core) == ["child"])
        core.start("child", pid: 11, timeout: 100)
        core.advance(50)
        #expect(core.on(.tick).isEmpty, "the flow's timeout stands still while it waits")
        core.on(.executionEnded(.exited(11, .exited(0))))
        #expect(core.found("child").contains(.wakeWaiters("child")))
        core.on(.waiterGone("t"))
        core.advance(5.9)
        #expect(core.on(.tick).isEmpty)
        core.advance(0.1)
        #expect(core.on(.tick) == [.signal(10, .terminate)])
    }
}
