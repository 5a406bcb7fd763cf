import Spool
import Testing
@testable import Supervisor

/// Startup repair's table (flowspool-spool(5), "Repair"), case by case: what flowspoold does with
/// an execution from what it finds when it starts.
@Suite("core: repair")
struct RepairTableTests {
    typealias Finding = RepairStep.Finding

    @Test("ended executions are left alone, whatever their lock says")
    func ended() {
        for status in ExecutionStatus.allCases where status.isFinal {
            #expect(RepairStep.decide(Finding(status: status, lockHeld: true, begun: true)) == .leave)
        }
    }

    @Test("queued and never begun: queued again")
    func queued() {
        #expect(RepairStep.decide(Finding(status: .queued)) == .queue)
    }

    @Test("queued, but its lock file names a runner: begun before the machine stopped, so fault")
    func queuedButBegun() {
        guard case .endFault(let message) = RepairStep.decide(Finding(status: .queued, begun: true)) else {
            Issue.record("expected a fault")
            return
        }
        #expect(message.contains("a runner had begun it when the machine stopped"))
    }

    @Test("running or waiting with its lock held: its runner lives on and is adopted")
    func adopt() {
        #expect(RepairStep.decide(Finding(status: .running, lockHeld: true, begun: true)) == .adopt)
        #expect(RepairStep.decide(Finding(status: .waiting, lockHeld: true, begun: true, parkable: true)) == .adopt)
    }

    @Test("waiting with a wake condition and no runner: parked again")
    func park() {
        #expect(RepairStep.decide(Finding(status: .waiting, begun: true, parkable: true)) == .park)
    }

    @Test("running with no runner that had begun it: run again")
    func runAgain() {
        #expect(RepairStep.decide(Finding(status: .running)) == .runAgain(cause: "no runner had begun it when flowspoold stopped"))
        #expect(RepairStep.decide(Finding(status: .waiting)) == .runAgain(cause: "no runner had begun it when flowspoold stopped"))
    }

    @Test("running, begun, and its runner gone: fault, not run again")
    func runnerGone() {
        guard case .endFault(let message) = RepairStep.decide(Finding(status: .running, begun: true)) else {
            Issue.record("expected a fault")
            return
        }
        #expect(message.hasPrefix("the runner was gone when flowspoold started"))
        #expect(message.hasSuffix("Not re-run: tasks have side effects"))
    }

    @Test("no readable status: fault")
    func unreadable() {
        #expect(RepairStep.decide(Finding(status: nil)) == .endFault("the execution had no readable status when flowspoold started"))
    }

    @Test("after an end or a run again: a held lock means adoption, a requeue means the queue")
    func after() {
        #expect(RepairStep.after(.lockHeld) == .adopt)
        #expect(RepairStep.after(.queued) == .queue)
        for outcome in [EndOutcome.ended, .endedAlready, .failed] {
            #expect(RepairStep.after(outcome) == .leave)
        }
    }
}
