import POSIX
import Spool

/// A live runner and what the supervisor has decided about it.
struct Runner {
    let id: String
    /// The task type, and when the execution began (wall clock): for the log line of its end.
    let task: String
    let started: Double
    /// The runner's process group (its pid); nil for an adopted runner whose pid is unknown.
    let processGroup: ProcessID?
    /// When the overall task timeout runs out (monotonic seconds); moved on by the time spent waiting.
    var deadline: Double
    let timeout: Double
    /// Set once the supervisor has decided to stop the runner.
    var ending: Ending?
    /// When SIGKILL follows the SIGTERM (monotonic seconds).
    var killAt: Double?
    /// True when the supervisor learns of the runner's end from its lock rather than from SIGCHLD:
    /// a runner adopted from an earlier supervisor, or a process that outlived its runner.
    var watched = false
    /// How the runner process ended, once reaped.
    var exitStatus: ExitStatus?
    /// When to try again to end the execution of a runner that is gone, after the disk refused.
    var endRetry: Backoff?
    /// The runner said (control `ending ID`) that it has done its task and written its result to its
    /// log, but that the disk refuses its end: it tries again, and its deadline has moved on by
    /// --end-grace.
    var resultInLog = false
    /// How many waits on other executions the runner is in (a flow waiting on its children): while
    /// it waits it holds no runner slot, so that the executions it waits for can run, and its task
    /// timeout does not run.
    var waits = 0
    var waitingSince: Double?
    /// The process serving the execution when it is one that serves one execution after another
    /// (RunnerProcess); nil for a runner started for this execution alone, or adopted.
    var process: RunnerProcess?

    enum Ending {
        /// Cancelled, for the cause its message names.
        case cancelled(String)
        case timedOut
    }

    var nextDeadline: Double {
        if let endRetry { return endRetry.nextTry }
        return killAt ?? (ending == nil && waits == 0 ? deadline : .infinity)
    }

    mutating func beginWait(at now: Double = Clock.monotonic()) {
        if waits == 0 { waitingSince = now }
        waits += 1
    }

    mutating func endWait(at now: Double = Clock.monotonic()) {
        guard waits > 0 else { return }
        waits -= 1
        if waits == 0, let since = waitingSince {
            deadline += now - since
            waitingSince = nil
        }
    }
}

extension Supervisor {
    /// Runners that hold a slot: all but those waiting on other executions.
    var busyRunners: Int { runners.values.reduce(0) { $0 + ($1.waits == 0 ? 1 : 0) } }

    /// Starts runners for queued executions while slots are free, unless starting is paused after
    /// a failure that time may mend (a full disk, no descriptors or memory left).
    func startQueued() {
        guard Clock.monotonic() >= startBackoff.nextTry else { return }
        var busy = busyRunners
        // What runners start reaches the spool by its path: none starts once that path leads elsewhere.
        guard busy >= options.maxRunning || queueHead >= queue.count || spoolPathHolds(strict: false) else { return }
        while busy < options.maxRunning, queueHead < queue.count {
            busy += 1
            let id = queue[queueHead]
            queueHead += 1
            guard start(id) else {
                queueHead -= 1  // it stays first in line
                break
            }
        }
        if queueHead > 1024 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    /// Starts the runner of a queued execution, or ends the execution when it cannot run. False
    /// when starting runners must pause: the execution stays queued.
    func start(_ id: String) -> Bool {
        let execution = spool.execution(id)
        let admittedJob = admittedJobs.removeValue(forKey: id)
        let status: ExecutionStatus?
        do {
            status = try execution.readStatus()
        } catch {
            end(execution, .error, message: "its status cannot be read: \(error)")
            return true
        }
        guard status == .queued, runners[id] == nil else { return true }  // cancelled while it waited
        let job: Job
        if let admittedJob {
            job = admittedJob
        } else {
            do {
                job = try execution.job()
            } catch {
                end(execution, .error, message: error.description)
                return true
            }
        }
        if let parent = job.parent, !job.detached, let ended = spool.execution(parent).status(), ended.isFinal {
            end(execution, .cancelled, message: ended == .cancelled ? "its parent \(parent) was cancelled" : "its flow \(parent) had ended (\(ended.rawValue)) before it started")
            return true
        }
        guard let runnerPath = admission.runner(for: job.task) else {
            end(execution, .error, message: "no executable \(TaskType.runnerPrefix)\(job.task) on the runner path (\(options.runnerPath.joined(separator: ":")))")
            return true
        }
        do {
            let process = try launchRunner(runnerPath, task: job.task, for: execution)
            let timeout = job.timeout ?? options.taskTimeout
            var runner = Runner(
                id: id, task: job.task, started: Clock.now(), processGroup: process.pid, deadline: Clock.monotonic() + timeout, timeout: timeout)
            runner.process = process.serving
            runners[id] = runner
            reapable[process.pid] = id
            startBackoff = Backoff()
        } catch where error.isShortOfResources {
            startBackoff.fail(at: Clock.monotonic())
            log.once("start \(error.errno)", "cannot start runners now, queued executions wait (tried again with a growing delay): \(error)")
            return false
        } catch {
            end(execution, .error, message: "cannot start \(runnerPath): \(error)")
        }
        return true
    }

    /// Takes the execution's lock, marks it running and hands it to a runner: an idle runner process
    /// of its task type when there is one, else a new process. Either way the runner ends up with the
    /// lock on descriptor 3 and its log on 1 and 2, in the execution directory, in its own process
    /// group. The lock is taken before the runner has the execution, so a running execution always
    /// has a holder.
    func launchRunner(_ runnerPath: String, task: String, for execution: Execution) throws(SystemError) -> (pid: ProcessID, serving: RunnerProcess?) {
        guard let lock = try execution.tryLock() else {
            throw SystemError("flock", path: execution.path(.lock), errno: .wouldBlock)
        }
        defer { try? lock.close() }
        let logFile = try spool.open(execution.path(.log), .writeOnly, options: [.create, .append])
        defer { try? logFile.close() }
        // An empty lock file says that no runner has begun this run (RunnerContract.declareBegun).
        // The mark `running` is for people and is not synced: after a crash the lock file alone
        // decides, and the runner's first act makes it durable (flowspool-spool(5), "Durability").
        try lock.replaceContent(with: [])
        try spool.write("running\n", to: execution.path(.status), mode: 0o644, .volatile)
        do {
            if options.reusableTypes.contains(task) {
                let process = try handOver(execution, task: task, runnerPath: runnerPath, lock: lock, log: logFile)
                return (process.pid, process)
            }
            return (try startRunner(execution, runnerPath: runnerPath, lock: lock, log: logFile), nil)
        } catch {
            _ = try? spool.write("queued\n", to: execution.path(.status), mode: 0o644, .volatile)  // nothing began
            throw error
        }
    }

    /// Starts a runner process for this execution alone (flowspool-spool(5), the runner contract).
    private func startRunner(_ execution: Execution, runnerPath: String, lock: FileDescriptor, log logFile: FileDescriptor) throws(SystemError) -> ProcessID {
        var spawnOptions = Spawn.Options(
            directory: execution.directory,
            environment: Environment.with(runnerVariables.merging([
                RunnerContract.spoolVariable: spool.path,
                RunnerContract.executionVariable: execution.id,
                RunnerContract.lockDescriptorVariable: "3",
            ]) { $1 }))
        spawnOptions.descriptors = [1: logFile, 2: logFile, RunnerContract.lockDescriptor: lock]
        handDownSpool(into: &spawnOptions)
        let pid = try Spawn.run(runnerPath, arguments: [], options: spawnOptions)
        try? execution.recordHistory(.running, detail: "pid=\(pid)")
        return pid
    }

    /// What every runner is told of this supervisor's options (RunnerContract): the default task
    /// timeout and the grace past it, by which a runner knows how long it may keep trying an end
    /// the disk refuses.
    var runnerVariables: [String: String] {
        [RunnerContract.taskTimeoutVariable: String(options.taskTimeout), RunnerContract.endGraceVariable: String(options.endGrace)]
    }

    /// Gives a runner the spool's root this supervisor holds, on descriptor 4 (RunnerContract).
    func handDownSpool(into options: inout Spawn.Options) {
        guard let held = spool.heldDescriptor else { return }
        options.descriptors[RunnerContract.spoolDescriptor] = held
        options.environment.append(RunnerContract.spoolDescriptorVariable + "=" + String(RunnerContract.spoolDescriptor))
    }

    func reapRunners() {
        while let (pid, exitStatus) = Spawn.reapOne() {
            if let id = reapable.removeValue(forKey: pid), var runner = runners[id] {
                try? runner.process?.socket.close()
                runner.process = nil
                runner.exitStatus = exitStatus
                runnerGone(runner)
            } else if let process = removeIdle(pid: pid) {
                log.line("the idle \(process.task) runner (pid \(pid)) \(exitStatus)")
            } else {
                cleanupEnded(pid, exitStatus)
            }
        }
    }

    /// After a runner is gone, or done with its execution: done if it ended or parked the execution
    /// (true); otherwise whatever is left in its process group is killed, so that nothing can end
    /// the execution later, and the supervisor ends it as soon as it holds its lock.
    @discardableResult
    func runnerGone(_ runner: Runner) -> Bool {
        let execution = spool.execution(runner.id)
        guard execution.exists else {
            forgetVanished(runner.id)
            return false
        }
        let status = (try? execution.readStatus()) ?? nil
        if let status, status.isFinal {
            runners.removeValue(forKey: runner.id)
            log.line(endLine(runner.id, task: runner.task, started: runner.started, status))
            if waitersToldOfEnd.remove(runner.id) == nil { notifyWaiters(of: runner.id) }
            cancelChildren(of: execution)
            return true
        }
        if status == .waiting, runner.ending == nil, let condition = execution.wakeCondition() {
            runners.removeValue(forKey: runner.id)
            park(execution, until: condition)
            return true
        }
        if let group = runner.processGroup { Signal.kill.send(toGroup: group) }
        if runner.ending == nil, execution.runnerPID() == nil {
            runAgainUnbegun(runner, execution)
            return false
        }
        let message = goneMessage(runner)
        let ending: ExecutionStatus = switch runner.ending {
        case .cancelled?: .cancelled
        case .timedOut?: .error
        case nil: .fault
        }
        let outcome = end(execution, ending, message: message)
        if outcome == .ended || outcome == .endedAlready { cancelChildren(of: execution) }
        settle(runner, outcome)
        return false
    }

    /// A runner that is gone before its first act (RunnerContract.declareBegun) did nothing of its
    /// task: its execution runs again, whether this supervisor saw it die or a crash hid it
    /// (flowspool-spool(5), "Never begun"). One that never begins, time after time, ends `fault`.
    func runAgainUnbegun(_ runner: Runner, _ execution: Execution) {
        let died = runner.exitStatus.map { "its runner \($0)" } ?? "its runner ended"
        let outcome = runAgain(execution, because: "\(died) before it began")
        if outcome == .queued { enqueue(execution.id) }
        settle(runner, outcome)
    }

    /// What becomes of a runner once the supervisor has tried to end or requeue its execution.
    private func settle(_ runner: Runner, _ outcome: EndOutcome) {
        switch outcome {
        case .ended, .endedAlready, .queued:
            runners.removeValue(forKey: runner.id)
        case .lockHeld:
            // A process that left the group still holds the lock: wait for the lock.
            watchLock(of: runner)
        case .failed:
            // The disk refused: try again later, with a growing delay.
            var waiting = runner
            waiting.endRetry = waiting.endRetry ?? Backoff()
            waiting.endRetry?.fail(at: Clock.monotonic())
            runners[runner.id] = waiting
        }
    }

    /// How many times an execution is run again because its runner never began: a runner that
    /// cannot start at all (a library missing) must not be started for ever.
    static let unbegunRunLimit = 5

    /// An execution that no runner began, queued again (`.queued`, for the caller to queue it) with
    /// `cause` in its history; ended `fault` instead once it has been queued again too often
    /// (`unbegunRunLimit`, counted in its history).
    func runAgain(_ execution: Execution, because cause: String) -> EndOutcome {
        let runsAgain = execution.history().filter { $0.status == .queued && $0.detail.hasPrefix(Self.againMark) }.count
        guard runsAgain < Self.unbegunRunLimit - 1 else {
            return end(execution, .fault, message: "\(cause), the \(Self.unbegunRunLimit)th time; not run again: see its log")
        }
        return requeue(execution, because: cause)
    }

    static let againMark = "again: "

    /// Queues again an execution that no runner began: `.queued`, or `.lockHeld` while a process
    /// still holds its lock.
    private func requeue(_ execution: Execution, because cause: String) -> EndOutcome {
        do {
            guard let lock = try execution.tryLock() else { return .lockHeld }
            defer { try? lock.close() }
            if let current = try execution.readStatus(), current.isFinal { return .endedAlready }
            try execution.setStatus(.queued, detail: Self.againMark + cause)
            log.line("\(execution.id) queued again: \(cause)")
            return .queued
        } catch where !execution.exists {
            forgetVanished(execution.id)
            return .endedAlready
        } catch {
            log.once("requeue \(error.errno)", "cannot queue \(execution.id) again now (tried again with a growing delay): \(error)")
            return .failed
        }
    }

    /// What the supervisor says when it ends the execution of a runner that did not: why it
    /// stopped the runner, or how the runner ended, and where its result is when it had one.
    func goneMessage(_ runner: Runner) -> String {
        let unwritten = runner.resultInLog || runner.exitStatus == .exited(RunnerContract.unwrittenEndStatus)
        let resultNote = "it had done its task but the disk refused its end: its result is in its log"
        switch runner.ending {
        case .cancelled(let cause)?:
            return "cancelled while running (\(cause))" + (unwritten ? "; " + resultNote : "")
        case .timedOut?:
            let grace = runner.resultInLog ? " and flowspoold --end-grace" : ""
            return "task timeout: the runner was stopped after \(Clock.describeDuration(runner.timeout)) (the job's timeout, else flowspoold --task-timeout)\(grace)" + (unwritten ? "; " + resultNote : "")
        case nil where unwritten:
            return "the runner had done its task, but the disk refused its end until its task timeout and flowspoold --end-grace had passed: its result is in its log (the runner \(runner.exitStatus.map(String.init(describing:)) ?? "ended")). Not re-run: tasks have side effects"
        case nil:
            return "\(runner.exitStatus.map { "the runner \($0)" } ?? "the runner ended") without ending the execution; see its log. Not re-run: tasks have side effects"
        }
    }

    /// A runner's word that it has done its task but cannot write its end, the disk refusing it,
    /// and that its result is in its log (control `ending ID`). It tries again until what is left of
    /// its task timeout and --end-grace have passed; its deadline moves on by the grace, and by the
    /// kill grace, so that the supervisor does not stop it before it gives up by itself.
    func endingLate(_ id: String) {
        guard ExecutionID.isValid(id), var runner = runners[id], runner.ending == nil, !runner.resultInLog else { return }
        runner.resultInLog = true
        runner.deadline = max(runner.deadline, Clock.monotonic()) + options.endGrace + options.killGrace
        runners[id] = runner
        log.once("ending late", "\(id): its runner has done its task but the disk refuses its end (and perhaps others'); it tries again for up to --end-grace past its timeout, and its result is in its log")
    }

    /// How ending (or queuing again) an execution went.
    enum EndOutcome {
        case ended, endedAlready, queued, lockHeld, failed
    }

    /// Ends an execution from the supervisor's side. Whoever ends an execution holds its lock, so
    /// the supervisor never ends one that a live runner could still end. A FIFO, link or directory
    /// standing where one of the execution's files belongs is moved aside first, so that it can end.
    @discardableResult
    func end(_ execution: Execution, _ status: ExecutionStatus, message: String) -> EndOutcome {
        do {
            return try endHoldingLock(execution, status, message: message)
        } catch where error.isWrongFileKind && quarantineWrongFiles(of: execution) {
            return end(execution, status, message: message)
        } catch where !execution.exists {
            forgetVanished(execution.id)
            return .endedAlready
        } catch {
            log.once("end \(error.errno)", "cannot end \(execution.id) as \(status.rawValue) now (and perhaps others; each is tried again with a growing delay): \(error)")
            return .failed
        }
    }

    private func endHoldingLock(_ execution: Execution, _ status: ExecutionStatus, message: String) throws(SystemError) -> EndOutcome {
        guard let lock = try execution.tryLock() else { return .lockHeld }
        defer { try? lock.close() }
        if let current = try execution.readStatus(), current.isFinal { return .endedAlready }
        try execution.end(status, message: message)
        let runner = runners[execution.id]
        log.line(endLine(execution.id, task: runner?.task ?? (try? execution.job())?.task, started: runner?.started, status, message: message))
        notifyWaiters(of: execution.id)
        return .ended
    }

    /// The log line of an end, one per execution, read alike by journald and grep:
    /// "ID TASK STATUS in DURATION", and ": MESSAGE" when the supervisor ended it.
    func endLine(_ id: String, task: String?, started: Double?, _ status: ExecutionStatus, message: String? = nil) -> String {
        var line = "\(id) \(task ?? "?") \(status.rawValue)"
        if let started { line += " in " + Clock.describeDuration(max(0, Clock.now() - started)) }
        if let message { line += ": " + message }
        return line
    }

    /// Moves whatever is not a regular file where an execution's file belongs (a FIFO, a symbolic
    /// link, a directory, a device) into tmp/, where it is removed with the other leftovers. Returns
    /// whether it moved anything.
    func quarantineWrongFiles(of execution: Execution) -> Bool {
        var moved = false
        for file in Execution.File.allCases {
            let path = execution.path(file)
            guard let info = try? FileSystem.status(path, followLinks: false), !info.isRegularFile else { continue }
            let aside = spool.tmp + "/\(execution.id).\(file.rawValue).\(info.kind.split(separator: " ").last!)-\(UInt32.random(in: 0...UInt32.max))"
            do {
                try FileSystem.rename(path, aside)
                moved = true
                log.line("\(execution.id): \(file.rawValue) was \(info.kind), not a regular file; moved aside to \(aside)")
            } catch {
                log.once("quarantine \(path)", "\(execution.id): \(file.rawValue) is \(info.kind) and cannot be moved aside: \(error)")
            }
        }
        return moved
    }

    /// `flowspool cancel ID`: a queued execution ends at once; a running one's runner gets SIGTERM,
    /// then SIGKILL after the grace period, and ends `cancelled` when it is gone. The children a flow
    /// started are cancelled with it. The message names the cause: whoever asked on the control
    /// FIFO (`flowspool cancel`, `flowspool run --timeout`, the cluster), or what befell its flow.
    func cancel(_ id: String, because cause: String) {
        guard ExecutionID.isValid(id) else {
            log.line("cancel: '\(id)' is not an execution id")
            return
        }
        var seen: Set<String> = []
        cancelTree(id, because: cause, seen: &seen)
    }

    /// Cancels an execution and its tree, each once: a job may name itself or a descendant as its
    /// parent, and a cycle must not make this recurse for ever.
    private func cancelTree(_ id: String, because cause: String, seen: inout Set<String>) {
        guard seen.insert(id).inserted else { return }
        if runners[id] != nil {
            runners[id]?.stop(.cancelled(cause), grace: options.killGrace)
        } else if let entry = unpark(id) {
            spool.execution(id).closeWakeFiles(entry.condition, reason: "cancelled")
            end(spool.execution(id), .cancelled, message: "cancelled while it waited (\(cause))")
        } else if spool.execution(id).status() == .queued {
            end(spool.execution(id), .cancelled, message: "cancelled before it started (\(cause))")
        }
        for child in spool.execution(id).children() where spool.execution(child).status()?.isFinal == false {
            cancelTree(child, because: "its flow \(id) was cancelled", seen: &seen)
        }
    }

    /// Children do not outlive their flow: when it has ended, however it ended, those that have not
    /// are cancelled, but for the ones started detached.
    func cancelChildren(of flow: Execution) {
        guard parents.remove(flow.id) != nil else { return }
        let how = flow.status().map { " (\($0.rawValue))" } ?? ""
        // The flow has ended, so it is never among the children still going, whatever its children file says.
        for child in flow.children() where spool.execution(child).status()?.isFinal == false {
            guard (try? spool.execution(child).job())?.detached != true else { continue }
            log.line("\(child): its flow \(flow.id) has ended\(how); cancelled")
            cancel(child, because: "its flow \(flow.id) had ended\(how)")
        }
    }

    /// Stops runners past their task timeout, kills those that outlived their grace period, and
    /// wakes parked executions whose deadline has come.
    func enforceDeadlines() {
        let now = Clock.monotonic()
        if now >= nextRunnerDeadline {
            for id in Array(runners.keys) {
                if let runner = runners[id], let retry = runner.endRetry, retry.nextTry <= now {
                    runnerGone(runner)
                    continue
                }
                runners[id]?.enforce(at: now, grace: options.killGrace)
            }
        }
        if now >= nextIdleExpiry { retireIdleRunners(at: now) }
        wakeParkedPastDeadline()
    }
}

extension Runner {
    mutating func stop(_ reason: Ending, grace: Double) {
        guard ending == nil else { return }
        ending = reason
        killAt = Clock.monotonic() + grace
        if let processGroup { Signal.terminate.send(toGroup: processGroup) }
    }

    mutating func enforce(at now: Double, grace: Double) {
        if let killAt, now >= killAt {
            if let processGroup { Signal.kill.send(toGroup: processGroup) }
            self.killAt = nil
        } else if ending == nil, waits == 0, now >= deadline {
            stop(.timedOut, grace: grace)
        }
    }
}
