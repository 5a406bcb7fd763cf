import POSIX
import Spool
import Testing
@testable import Supervisor

/// One "execution ended" event, whichever channel brought it (SIGCHLD, the reuse socket's `done`,
/// the lock, the rescan, the control FIFO's `ended ID`): the core decides once.
@Suite("core: one end, whichever channel")
struct EndChannelTests {
    let id = "20260101-000000-cccccccc"

    @Test("SIGCHLD of a runner closes its socket and judges its execution, once")
    func exitJudgedOnce() {
        var core = CoreHarness()
        let served = process(pid: 10)
        core.start(id, pid: 10, process: served)
        #expect(core.on(.executionEnded(.exited(10, .exited(3)))) == [.closeSocket(served.socket), .look(id)])
        #expect(core.core.runs[id]?.exitStatus == .exited(3))
        #expect(core.on(.executionEnded(.exited(10, .exited(3)))) == [.childEnded(10, .exited(3))], "reaped once")
    }

    @Test("after `done`, the process's own exit is no end of the execution")
    func doneThenExit() {
        var core = CoreHarness()
        let served = process(pid: 10)
        core.start(id, pid: 10, process: served)
        #expect(core.on(.executionEnded(.answered(served.socket, Array("done \(id)".utf8)))) == [.look(id)])
        #expect(core.found(id) == [.logEnd(id, task: "REST", started: 0, .success), .wakeWaiters(id), .cancelChildren(id)])
        #expect(core.on(.executionEnded(.exited(10, .exited(0)))) == [.closeSocket(served.socket), .log("the idle REST runner (pid 10) exited with status 0")])
    }

    @Test("a released lock is an end only for a runner watched by its lock")
    func lockReleased() {
        var core = CoreHarness()
        core.start(id, pid: 10)
        #expect(core.on(.executionEnded(.lockReleased(id))).isEmpty, "a runner it started is reaped instead")
        #expect(core.on(.endTried(id, .lockHeld)) == [.watchLock(id)], "a process outlived the runner: watched by the lock")
        #expect(core.on(.executionEnded(.lockReleased(id))) == [.look(id)])
        #expect(core.on(.executionEnded(.lockReleased("unknown"))).isEmpty)
    }

    @Test("`ended ID` wakes the waiters at once, and not again when the runner is gone")
    func saidEndedWakesOnce() {
        var core = CoreHarness()
        core.start(id, pid: 10)
        #expect(core.on(.executionEnded(.said(id))) == [.wakeWaiters(id)])
        #expect(core.on(.executionEnded(.exited(10, .exited(0)))) == [.look(id)])
        #expect(core.found(id) == [.logEnd(id, task: "REST", started: 0, .success), .cancelChildren(id)])
        #expect(core.core.toldOfEnd.isEmpty)
    }

    @Test("without `ended ID`, the waiters are woken when the end is judged")
    func wokenAtJudgement() {
        var core = CoreHarness()
        core.start(id, pid: 10)
        core.on(.executionEnded(.exited(10, .exited(0))))
        #expect(core.found(id, .error) == [.logEnd(id, task: "REST", started: 0, .error), .wakeWaiters(id), .cancelChildren(id)])
        #expect(core.core.runs.isEmpty)
    }

    @Test("`ended ID` from no runner of this supervisor, or no id, is ignored")
    func saidByNobody() {
        var core = CoreHarness()
        #expect(core.on(.executionEnded(.said(id))).isEmpty)
        core.start("../x", pid: 10)
        #expect(core.on(.executionEnded(.said("../x"))).isEmpty)
    }

    @Test("a child that was no runner is told to the shell (the daily gc)")
    func otherChild() {
        var core = CoreHarness()
        #expect(core.on(.executionEnded(.exited(99, .exited(0)))) == [.childEnded(99, .exited(0))])
    }

    @Test("a parked execution's runner leaves without waking anyone")
    func parked() {
        var core = CoreHarness()
        core.start(id, pid: 10)
        core.on(.executionEnded(.exited(10, .exited(0))))
        let condition = WakeCondition(files: ["answer"], deadline: nil)
        #expect(core.on(.found(id, exists: true, status: .waiting, wakeCondition: condition)) == [.park(id, condition)])
        #expect(core.core.runs.isEmpty)
    }

    @Test("an execution removed by hand: its runner is killed and forgotten, its exit then no end")
    func vanished() {
        var core = CoreHarness()
        let served = process(pid: 10)
        core.start(id, pid: 10, process: served)
        core.on(.executionEnded(.said(id)))
        #expect(core.on(.vanished(id)) == [.signal(10, .kill), .closeSocket(served.socket)])
        #expect(core.core.runs.isEmpty)
        #expect(core.core.toldOfEnd.isEmpty)
        #expect(core.on(.vanished(id)).isEmpty)
        #expect(core.on(.executionEnded(.exited(10, .signaled(.kill)))) == [.childEnded(10, .signaled(.kill))])
    }

    @Test("an execution whose runner never began is queued again, behind the others")
    func queuedAgain() {
        var core = CoreHarness(maxRunning: 1)
        core.start(id, pid: 10)
        core.on(.queued("other"))
        core.on(.executionEnded(.exited(10, .exited(127))))
        core.on(.endTried(id, .queued))
        #expect(core.core.runs.isEmpty)
        #expect(Array(core.core.queued) == ["other", id])
    }

    @Test("an execution its reused runner left unfinished: killed, looked at, ended, and the process let go")
    func leftUnfinished() {
        var core = CoreHarness()
        let served = process(pid: 10)
        core.start(id, pid: 10, process: served)
        core.on(.executionEnded(.answered(served.socket, Array("done \(id)".utf8))))
        #expect(core.found(id, .running) == [.signal(10, .kill), .lookForBegun(id)], "killed before anyone looks whether it began")
        #expect(core.on(.foundBegun(id, true)) == [
            .end(id, .fault, message: "the runner ended without ending the execution; see its log. Not re-run: tasks have side effects"),
            .letGo(served, kill: false),
        ])
        #expect(core.core.leaving.isEmpty)
    }

    @Test("an execution found gone at the look: forgotten, and the process that left it let go")
    func goneAtLook() {
        var core = CoreHarness()
        let served = process(pid: 10)
        core.start(id, pid: 10, process: served)
        core.on(.executionEnded(.answered(served.socket, Array("done \(id)".utf8))))
        #expect(core.on(.found(id, exists: false, status: nil, wakeCondition: nil)) == [.forgetVanished(id), .letGo(served, kill: false)])
    }

    @Test("a look at an execution whose runner was forgotten meanwhile decides nothing more")
    func forgottenMeanwhile() {
        var core = CoreHarness()
        core.start(id, pid: 10)
        core.on(.executionEnded(.exited(10, .exited(0))))
        core.on(.vanished(id))
        #expect(core.found(id).isEmpty)
        #expect(core.on(.foundBegun(id, false)).isEmpty)
    }
}
