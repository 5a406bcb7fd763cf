import POSIX
import Spool
@testable import Supervisor

/// A decision core driven by a fake clock: each event happens at `now`, which only `advance` moves.
/// No process is spawned and nothing sleeps.
struct CoreHarness {
    var core: SupervisorCore
    var now = 1000.0

    init(maxRunning: Int = 2, killGrace: Double = 2, endGrace: Double = 5, maxUse: Int = 3, maxIdle: Double = 100) {
        core = SupervisorCore(
            limits: .init(maxRunning: maxRunning, killGrace: killGrace, endGrace: endGrace),
            reuse: ReusePool(capacity: maxRunning, maxUse: maxUse, maxIdle: maxIdle))
    }

    @discardableResult
    mutating func on(_ event: SupervisorCore.Event) -> [SupervisorCore.Action] {
        core.handle(event, at: now)
    }

    mutating func advance(_ seconds: Double) {
        now += seconds
    }

    /// Starts a runner for `id` as the shell does once a start action is carried out: pid `pid`,
    /// serving through `process` when it is a reused one.
    @discardableResult
    mutating func start(_ id: String, pid: ProcessID, timeout: Double = 60, task: String = "REST", process: RunnerProcess? = nil) -> Run {
        var run = Run(id: id, task: task, started: 0, processGroup: pid, timeout: timeout, at: now)
        run.process = process
        on(.started(run))
        return run
    }

    /// Queues executions and takes a start turn; returns the ids it would start.
    mutating func queueAndTurn(_ ids: [String]) -> [String] {
        for id in ids { on(.queued(id)) }
        return Self.started(on(.startTurn))
    }

    /// What the core decides once the shell has found the execution ended by its runner, as `status`.
    @discardableResult
    mutating func found(_ id: String, _ status: ExecutionStatus = .success) -> [SupervisorCore.Action] {
        on(.found(id, exists: true, status: status, wakeCondition: nil))
    }

    static func started(_ actions: [SupervisorCore.Action]) -> [String] {
        actions.compactMap { if case .start(let id) = $0 { id } else { nil } }
    }
}

/// A reused runner process whose socket is a number only: nothing is opened.
func process(pid: ProcessID, task: String = "REST", executable: String = "/runners/flowspool-task-REST", uses: Int = 1) -> RunnerProcess {
    RunnerProcess(pid: pid, socket: FileDescriptor(rawValue: 1000 + pid), task: task, executable: executable, uses: uses)
}
