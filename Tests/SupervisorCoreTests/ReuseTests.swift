import POSIX
import Spool
import Testing
@testable import Supervisor

/// Runner processes that serve one execution after another (flowspoold(8) --runner-max-use,
/// --runner-max-idle; flowspool-spool(5), "Runner processes"), with the clock faked.
@Suite("core: runner reuse")
struct ReuseTests {
    /// A started reused process that has answered `done ID`, released once its execution was judged.
    func servedAndReleased(_ core: inout CoreHarness, _ id: String, _ served: RunnerProcess, settled: Bool = true) -> [SupervisorCore.Action] {
        core.start(id, pid: served.pid, process: served)
        let answer = core.on(.executionEnded(.answered(served.socket, Array("done \(id)".utf8))))
        #expect(answer == [.look(id)])
        // Settled: the runner ended it; else it left it running, so it was killed and had begun.
        guard !settled else { return core.found(id).filter { if case .letGo = $0 { true } else { false } } }
        #expect(core.found(id, .running) == [.signal(served.pid, .kill), .lookForBegun(id)])
        return core.on(.foundBegun(id, true)).filter { if case .letGo = $0 { true } else { false } }
    }

    @Test("a process that answers `done` is judged with its execution, then waits idle for the next")
    func doneThenIdle() {
        var core = CoreHarness()
        let served = process(pid: 10)
        #expect(servedAndReleased(&core, "a", served).isEmpty)
        #expect(core.core.reuse.count == 1)
        let actions = core.on(.runnerWanted(task: "REST", executable: served.executable))
        #expect(actions.count == 1)
        guard case .handOver(let next)? = actions.first else {
            Issue.record("expected a hand-over, got \(actions)")
            return
        }
        #expect(next.pid == 10)
        #expect(core.core.reuse.count == 0)
    }

    @Test("a process that has served --runner-max-use executions is let go")
    func maxUse() {
        var core = CoreHarness(maxUse: 3)
        let worn = process(pid: 10, uses: 3)
        #expect(servedAndReleased(&core, "a", worn) == [.letGo(worn, kill: false)])
        #expect(core.core.reuse.count == 0)
    }

    @Test("a process whose execution was not settled is let go, not reused")
    func unsettled() {
        var core = CoreHarness()
        let served = process(pid: 10)
        #expect(servedAndReleased(&core, "a", served, settled: false) == [.letGo(served, kill: false)])
    }

    @Test("a process idle for --runner-max-idle is let go at the tick")
    func idleExpiry() {
        var core = CoreHarness(maxIdle: 100)
        _ = servedAndReleased(&core, "a", process(pid: 10))
        #expect(core.core.nextDeadline == core.now + 100)
        core.advance(99.9)
        #expect(core.on(.tick).isEmpty)
        core.advance(0.1)
        let actions = core.on(.tick)
        #expect(actions.count == 1)
        guard case .letGo(let gone, kill: false)? = actions.first else {
            Issue.record("expected the idle process let go, got \(actions)")
            return
        }
        #expect(gone.pid == 10)
        #expect(core.core.reuse.count == 0)
    }

    @Test("no more processes idle than runner slots: the one idle longest goes")
    func capacity() {
        var core = CoreHarness(maxRunning: 2)
        _ = servedAndReleased(&core, "a", process(pid: 10))
        core.advance(1)
        _ = servedAndReleased(&core, "b", process(pid: 11, task: "SSH", executable: "/runners/flowspool-task-SSH"))
        core.advance(1)
        let actions = servedAndReleased(&core, "c", process(pid: 12))
        #expect(actions.map { action -> ProcessID in if case .letGo(let gone, _) = action { gone.pid } else { -1 } } == [10])
        #expect(core.core.reuse.count == 2)
    }

    @Test("the most recently idle process is handed the next execution; one of an old executable is let go")
    func takeMostRecent() {
        var pool = ReusePool(capacity: 4, maxUse: 10, maxIdle: 100)
        _ = pool.release(process(pid: 10, executable: "/old/flowspool-task-REST"), settled: true, at: 1)
        _ = pool.release(process(pid: 11), settled: true, at: 2)
        _ = pool.release(process(pid: 12), settled: true, at: 3)
        #expect(pool.take("REST", executable: "/runners/flowspool-task-REST").process?.pid == 12)
        #expect(pool.take("REST", executable: "/runners/flowspool-task-REST").process?.pid == 11)
        let last = pool.take("REST", executable: "/runners/flowspool-task-REST")
        #expect(last.process == nil)
        #expect(last.outdated.map(\.pid) == [10])
        #expect(pool.take("SSH", executable: "/runners/flowspool-task-SSH").process == nil)
    }

    @Test("SIGHUP or the supervisor's stop lets every idle process go")
    func retireAll() {
        var core = CoreHarness()
        _ = servedAndReleased(&core, "a", process(pid: 10))
        _ = servedAndReleased(&core, "b", process(pid: 11, task: "SSH"))
        #expect(core.on(.retireIdle).count == 2)
        #expect(core.core.reuse.count == 0)
        #expect(core.core.nextDeadline == .infinity)
    }

    @Test("an idle process that dies is logged and forgotten, its socket closed")
    func idleDies() {
        var core = CoreHarness()
        let idle = process(pid: 10)
        _ = servedAndReleased(&core, "a", idle)
        #expect(core.on(.executionEnded(.exited(10, .signaled(.kill)))) == [
            .closeSocket(idle.socket), .log("the idle REST runner (pid 10) was killed by SIGKILL"),
        ])
        #expect(core.core.reuse.count == 0)
    }

    @Test("a process that says anything but `done ID` is killed, and judged when it is reaped")
    func outOfTurn() {
        var core = CoreHarness()
        let served = process(pid: 10)
        core.start("a", pid: 10, process: served)
        #expect(core.on(.executionEnded(.answered(served.socket, Array("done b".utf8)))) == [
            .log("the REST runner (pid 10) said 'done b' instead of 'done a'; it is stopped"),
            .signal(10, .kill), .closeSocket(served.socket),
        ])
        #expect(core.core.runs["a"]?.process == nil)
        #expect(core.on(.executionEnded(.exited(10, .signaled(.kill)))) == [.look("a")])
    }

    @Test("a process that closes its socket is judged when it is reaped, not before")
    func endOfFile() {
        var core = CoreHarness()
        let served = process(pid: 10)
        core.start("a", pid: 10, process: served)
        #expect(core.on(.executionEnded(.answered(served.socket, []))) == [.closeSocket(served.socket)])
        #expect(core.on(.executionEnded(.exited(10, .exited(1)))) == [.look("a")])
        #expect(core.core.runs["a"]?.exitStatus == .exited(1))
    }

    @Test("a runner wanted: the idle process is handed the execution, or none and a new one is spawned")
    func runnerWanted() {
        var core = CoreHarness(maxRunning: 3)
        let old = process(pid: 10, executable: "/old/flowspool-task-REST")
        let current = process(pid: 11)
        _ = servedAndReleased(&core, "a", old)
        core.advance(1)
        _ = servedAndReleased(&core, "b", current)
        var handed = current
        handed.idleSince = core.now
        #expect(core.on(.runnerWanted(task: "REST", executable: current.executable)) == [.handOver(handed)])
        var outdated = old
        outdated.idleSince = core.now - 1
        #expect(core.on(.runnerWanted(task: "REST", executable: current.executable)) == [.letGo(outdated, kill: false)], "no handOver: spawn")
        #expect(core.on(.runnerWanted(task: "SSH", executable: "/runners/flowspool-task-SSH")).isEmpty)
    }
}
