import POSIX
import Spool

/// The supervisor's decisions about runners, with no I/O, as swift-nio keeps its channel logic apart
/// from its event loop: events come in (an execution queued, a runner started or ended and how, a
/// control command, a waiter registered, the clock's tick) with the time they happen at, and actions
/// go out (start, hand over, signal, look at an execution, end it, park it, run it again, watch a
/// lock, let a runner process go, wake waiters, log). The poll loop (Supervisor) turns descriptors'
/// readiness into events, carries the actions out and reports what it found; the times are
/// monotonic seconds.
struct SupervisorCore {
    struct Limits {
        /// Runner slots (--max-running).
        var maxRunning: Int
        /// Seconds from SIGTERM to SIGKILL (--kill-grace).
        var killGrace: Double
        /// Seconds past its timeout a runner may try an end the disk refuses (--end-grace).
        var endGrace: Double
    }

    enum Event {
        /// An execution waits for a runner slot: admitted, woken, or queued again.
        case queued(String)
        /// The loop's turn to start runners for queued executions.
        case startTurn
        /// A queued execution of a reused task type wants a runner process running `executable`.
        case runnerWanted(task: String, executable: String)
        /// The runner of a queued execution has started, or been handed it.
        case started(Run)
        /// Starting runners failed for want of resources (a full disk, no descriptors): these
        /// executions, in order, stay first in line, and starts pause with a growing delay.
        case startPaused([String])
        /// A runner an earlier supervisor started, which still holds its execution's lock.
        case adopted(Run)
        /// An execution's runner is gone or has left it, whichever channel said so.
        case executionEnded(EndReport)
        /// What `look` found of the execution: whether its directory exists, its status, and the
        /// wake condition its runner left when it is waiting and was not being stopped.
        case found(String, exists: Bool, status: ExecutionStatus?, wakeCondition: WakeCondition?)
        /// What `lookForBegun` found, after the kill: whether a runner had begun the execution.
        case foundBegun(String, Bool)
        /// What the supervisor's try to end (or queue again) a runner's execution came to.
        case endTried(String, EndOutcome)
        /// A waiter registered (WaitRegistration, by its token), for a flow when `flow` names one:
        /// a flow with a runner is counted as waiting until the registration is gone.
        case waiterRegistered(String, flow: String?)
        /// A registration gone: its waiter stopped waiting, or left.
        case waiterGone(String)
        /// `cancel`, of an execution with a runner.
        case cancel(String, cause: String)
        /// A runner's word that it has done its task but the disk refuses its end (control `ending ID`).
        case endingLate(String)
        /// The execution's directory is gone (Vanished).
        case vanished(String)
        /// Idle runner processes are all let go: SIGHUP, or the supervisor stops.
        case retireIdle
        /// The clock: deadlines, retries and idle expiry due at the event's time.
        case tick
    }

    /// The channels by which the end of an execution's runner reaches the supervisor.
    enum EndReport: Equatable {
        /// SIGCHLD: a child reaped, and how it ended.
        case exited(ProcessID, ExitStatus)
        /// A reused runner process's socket: `done ID`, something else, or nothing (end of file).
        case answered(FileDescriptor, [UInt8])
        /// The lock-watching thread, or the rescan: no process holds the execution's lock.
        case lockReleased(String)
        /// The control FIFO's `ended ID`, once the status file says the execution ended.
        case said(String)
    }

    enum Action: Equatable {
        /// Start the runner of this queued execution (a new process, or an idle one handed it).
        case start(String)
        /// Hand the execution to this idle runner process (the answer to `runnerWanted`; without
        /// it, a new process is spawned).
        case handOver(RunnerProcess)
        /// Send a signal to a process group.
        case signal(ProcessID, Signal)
        /// Look at the execution of a runner that is gone or has left it, and say what was `found`.
        case look(String)
        /// Look whether a runner had begun the execution (its lock file names a pid): `foundBegun`.
        case lookForBegun(String)
        /// Log the end the runner wrote: "ID TASK STATUS in DURATION".
        case logEnd(String, task: String, started: Double, ExecutionStatus)
        /// Cancel the children of a flow that has ended, but for the detached ones.
        case cancelChildren(String)
        /// Watch the execution its runner parked, until its wake condition holds.
        case park(String, WakeCondition)
        /// Queue again an execution no runner began (or end it `fault` when that is too often),
        /// and say how it went (`endTried`).
        case runAgain(String, cause: String)
        /// End the execution, and cancel its children when it ended; say how it went (`endTried`).
        case end(String, ExecutionStatus, message: String)
        /// Forget an execution whose directory is gone (Vanished).
        case forgetVanished(String)
        /// Learn of the end of the execution's runner from its lock.
        case watchLock(String)
        /// Let a runner process go (close its socket), and kill it when it cannot be trusted.
        case letGo(RunnerProcess, kill: Bool)
        case closeSocket(FileDescriptor)
        /// Wake those waiting for the execution.
        case wakeWaiters(String)
        /// A child that was no runner ended (the daily gc).
        case childEnded(ProcessID, ExitStatus)
        case log(String)
        /// A line for a cause that may recur, logged once an hour at most.
        case logOnce(String, String)
    }

    let limits: Limits
    /// The runs, by execution id: those this supervisor started, and those it watches by their lock.
    private(set) var runs: [String: Run] = [:]
    /// The execution ids of the runners this supervisor started, by pid, for reaping.
    private(set) var reapable: [ProcessID: String] = [:]
    /// Runner processes waiting for their next execution.
    private(set) var reuse: ReusePool
    /// Executions waiting for a runner slot, oldest first, from `queueHead`.
    private var queue: [String] = []
    private var queueHead = 0
    /// Paused starts: when runners may be started again after a failure time may mend.
    private(set) var startBackoff = Backoff()
    /// Executions whose runner said they ended, and whose waiters were woken before it was gone.
    private(set) var toldOfEnd: Set<String> = []
    /// The flows counted as waiting because of a registration, by the registration's token.
    private(set) var countedWaits: [String: String] = [:]
    /// The reused processes that left an execution being judged, released once it is.
    private(set) var leaving: [String: RunnerProcess] = [:]

    init(limits: Limits, reuse: ReusePool) {
        self.limits = limits
        self.reuse = reuse
    }

    /// Runs that hold a slot: all but those waiting on other executions.
    var busySlots: Int { runs.values.reduce(0) { $0 + ($1.waits == 0 ? 1 : 0) } }

    /// The executions waiting for a slot, oldest first.
    var queued: ArraySlice<String> { queue[queueHead...] }

    /// Runner slots free for the cluster: --max-running less the busy runners and the queue.
    var freeSlots: Int { max(0, limits.maxRunning - busySlots - queued.count) }

    /// Whether a start turn would start anything at `now`.
    func canStart(at now: Double) -> Bool {
        now >= startBackoff.nextTry && busySlots < limits.maxRunning && !queued.isEmpty
    }

    /// The run a reused process serves, by the process's socket.
    func run(servedBy socket: FileDescriptor) -> Run? {
        runs.values.first { $0.process?.socket == socket }
    }

    /// The soonest time at which a tick or a start turn has something to do. A queue behind busy
    /// slots waits for a slot to free, which is an event (a runner's end, a flow that starts waiting):
    /// only a paused start with a free slot is a deadline of its own.
    var nextDeadline: Double {
        let nextStart = !queued.isEmpty && busySlots < limits.maxRunning ? startBackoff.nextTry : .infinity
        return min(nextStart, reuse.nextExpiry, nextRunDeadline)
    }

    private var nextRunDeadline: Double { runs.values.reduce(.infinity) { min($0, $1.nextDeadline) } }

    mutating func handle(_ event: Event, at now: Double) -> [Action] {
        switch event {
        case .queued(let id): queue.append(id)
        case .startTurn: return startTurn(at: now)
        case .runnerWanted(let task, let executable):
            let taken = reuse.take(task, executable: executable)
            return taken.outdated.map { .letGo($0, kill: false) } + (taken.process.map { [.handOver($0)] } ?? [])
        case .started(let run): started(run)
        case .startPaused(let ids):
            queue.insert(contentsOf: ids, at: queueHead)
            startBackoff.fail(at: now)
        case .adopted(let run):
            runs[run.id] = run
            return watch(run.id)
        case .executionEnded(let report): return executionEnded(report)
        case .found(let id, let exists, let status, let condition):
            return judge(id, exists: exists, status: status, wakeCondition: condition, at: now)
        case .foundBegun(let id, let begun): return judgeStopped(id, begun: begun, at: now)
        case .endTried(let id, let outcome): return endTried(id, outcome, at: now)
        case .waiterRegistered(let token, let flow):
            waiterGone(token, at: now)
            guard let flow, runs[flow] != nil else { break }
            runs[flow]?.beginWait(at: now)
            countedWaits[token] = flow
        case .waiterGone(let token): waiterGone(token, at: now)
        case .cancel(let id, let cause): return stop(id, .cancelled(cause), at: now)
        case .endingLate(let id): return endingLate(id, at: now)
        case .vanished(let id): return vanished(id)
        case .retireIdle: return reuse.removeAll().map { .letGo($0, kill: false) }
        case .tick: return tick(at: now)
        }
        return []
    }

    /// Takes as many queued executions as there are free slots, unless starts are paused.
    private mutating func startTurn(at now: Double) -> [Action] {
        guard now >= startBackoff.nextTry else { return [] }
        if queueHead > 1024 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        let count = min(max(0, limits.maxRunning - busySlots), queue.count - queueHead)
        defer { queueHead += count }
        return queue[queueHead..<queueHead + count].map { .start($0) }
    }

    private mutating func waiterGone(_ token: String, at now: Double) {
        guard let flow = countedWaits.removeValue(forKey: token) else { return }
        runs[flow]?.endWait(at: now)
    }

    private mutating func started(_ run: Run) {
        runs[run.id] = run
        if let pid = run.processGroup { reapable[pid] = run.id }
        startBackoff = Backoff()
    }

    private mutating func watch(_ id: String) -> [Action] {
        runs[id]?.watched = true
        return [.watchLock(id)]
    }

    /// One decision whichever channel brought the end: the runner's execution is judged once, when
    /// the channel is the one that speaks for that runner.
    private mutating func executionEnded(_ report: EndReport) -> [Action] {
        switch report {
        case .exited(let pid, let status):
            if let id = reapable.removeValue(forKey: pid), var run = runs[id] {
                let socket = run.process?.socket
                run.process = nil
                run.exitStatus = status
                runs[id] = run
                return (socket.map { [.closeSocket($0)] } ?? []) + [.look(id)]
            } else if let process = reuse.remove(pid: pid) {
                return [.closeSocket(process.socket), .log("the idle \(process.task) runner (pid \(pid)) \(status)")]
            }
            return [.childEnded(pid, status)]
        case .answered(let socket, let message):
            guard var run = run(servedBy: socket), let process = run.process else { return [] }
            run.process = nil
            runs[run.id] = run
            guard message == Array("done \(run.id)".utf8) else { return unanswered(process, run.id, message) }
            reapable.removeValue(forKey: process.pid)
            leaving[run.id] = process
            return [.look(run.id)]
        case .lockReleased(let id):
            guard runs[id]?.watched == true else { return [] }
            return [.look(id)]
        case .said(let id):
            guard ExecutionID.isValid(id), runs[id] != nil else { return [] }
            toldOfEnd.insert(id)
            return [.wakeWaiters(id)]
        }
    }

    /// The verdict on a runner's execution from what was found of it (EndVerdict): ended by the
    /// runner, parked, vanished, or left unfinished, when what is left of its process group is
    /// killed before anyone looks whether it had begun, so that the answer can no longer change.
    private mutating func judge(_ id: String, exists: Bool, status: ExecutionStatus?, wakeCondition: WakeCondition?, at now: Double) -> [Action] {
        guard let run = runs[id] else { return release(id, settled: false, at: now) }
        switch run.verdict(exists: exists, status: status, parkable: wakeCondition != nil) {
        case .vanished:
            return [.forgetVanished(id)] + release(id, settled: false, at: now)
        case .ended(let status):
            runs.removeValue(forKey: id)
            // Woken once: not again when the runner said so before it was gone.
            let wake: [Action] = toldOfEnd.remove(id) == nil ? [.wakeWaiters(id)] : []
            return [.logEnd(id, task: run.task, started: run.started, status)] + wake + [.cancelChildren(id)] + release(id, settled: true, at: now)
        case .park:
            runs.removeValue(forKey: id)
            return [.park(id, wakeCondition!)] + release(id, settled: true, at: now)
        case .stop:
            return (run.processGroup.map { [.signal($0, .kill)] } ?? []) + [.lookForBegun(id)]
        }
    }

    /// After the kill: run again when no runner began it, else end it (StopVerdict).
    private mutating func judgeStopped(_ id: String, begun: Bool, at now: Double) -> [Action] {
        guard let run = runs[id] else { return release(id, settled: false, at: now) }
        let action: Action = switch run.verdictAfterStop(begun: begun) {
        case .runAgain(let cause): .runAgain(id, cause: cause)
        case .end(let status, let message): .end(id, status, message: message)
        }
        return [action] + release(id, settled: false, at: now)
    }

    /// Releases the reused process that left the execution judged, if any (ReusePool.release).
    private mutating func release(_ id: String, settled: Bool, at now: Double) -> [Action] {
        guard let process = leaving.removeValue(forKey: id) else { return [] }
        return reuse.release(process, settled: settled, at: now).map { .letGo($0, kill: false) }
    }

    /// A reused process that did not answer `done ID`: gone (reaped soon, and its execution judged
    /// then), or speaking out of turn, when it is killed.
    private func unanswered(_ process: RunnerProcess, _ id: String, _ message: [UInt8]) -> [Action] {
        guard !message.isEmpty else { return [.closeSocket(process.socket)] }
        let said = String(decoding: message.prefix(80), as: UTF8.self).escapingControlCharacters()
        return [
            .log("the \(process.task) runner (pid \(process.pid)) said '\(said)' instead of 'done \(id)'; it is stopped"),
            .signal(process.pid, .kill), .closeSocket(process.socket),
        ]
    }

    /// What becomes of a runner once the supervisor has tried to end or requeue its execution.
    private mutating func endTried(_ id: String, _ outcome: EndOutcome, at now: Double) -> [Action] {
        switch outcome {
        case .ended, .endedAlready:
            runs.removeValue(forKey: id)
        case .queued:
            runs.removeValue(forKey: id)
            queue.append(id)
        case .lockHeld:
            // A process that left the group still holds the lock: wait for the lock, which alone
            // decides from now on (a retry due from a refused end would come round at every turn).
            runs[id]?.endRetry = nil
            return runs[id] == nil ? [] : watch(id)
        case .failed:
            // The disk refused: try again later, with a growing delay.
            guard runs[id] != nil else { return [] }
            if runs[id]?.endRetry == nil { runs[id]?.endRetry = Backoff() }
            runs[id]?.endRetry?.fail(at: now)
        }
        return []
    }

    private mutating func stop(_ id: String, _ reason: Run.Ending, at now: Double) -> [Action] {
        guard let signal = runs[id]?.stop(reason, at: now, grace: limits.killGrace), let group = runs[id]?.processGroup else { return [] }
        return [.signal(group, signal)]
    }

    /// The runner tries again until what is left of its task timeout and --end-grace have passed:
    /// its deadline moves on by the grace, and by the kill grace, so that the supervisor does not
    /// stop it before it gives up by itself.
    private mutating func endingLate(_ id: String, at now: Double) -> [Action] {
        guard ExecutionID.isValid(id), var run = runs[id], run.ending == nil, !run.resultInLog else { return [] }
        run.resultInLog = true
        run.deadline = max(run.deadline, now) + limits.endGrace + limits.killGrace
        runs[id] = run
        return [.logOnce("ending late", "\(id): its runner has done its task but the disk refuses its end (and perhaps others'); it tries again for up to --end-grace past its timeout, and its result is in its log")]
    }

    /// Forgets the runner of an execution whose directory is gone, and stops it.
    private mutating func vanished(_ id: String) -> [Action] {
        toldOfEnd.remove(id)
        guard let run = runs.removeValue(forKey: id) else { return [] }
        return (run.processGroup.map { [.signal($0, .kill)] } ?? []) + (run.process.map { [.closeSocket($0.socket)] } ?? [])
    }

    /// Stops runners past their task timeout, kills those that outlived their grace period, judges
    /// again the ends the disk refused, and lets go of runner processes idle too long.
    private mutating func tick(at now: Double) -> [Action] {
        var actions: [Action] = []
        if now >= nextRunDeadline {
            for id in runs.keys.sorted() {
                if let retry = runs[id]?.endRetry, retry.nextTry <= now {
                    actions.append(.look(id))
                    continue
                }
                if let signal = runs[id]?.enforce(at: now, grace: limits.killGrace), let group = runs[id]?.processGroup {
                    actions.append(.signal(group, signal))
                }
            }
        }
        if now >= reuse.nextExpiry { actions += reuse.expire(at: now).map { .letGo($0, kill: false) } }
        return actions
    }
}
