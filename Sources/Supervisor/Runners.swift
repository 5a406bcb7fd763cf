import POSIX
import Spool

extension Supervisor {
    /// Carries out the core's decisions (SupervisorCore.Action), in order. A start that must pause
    /// (start(_:) false) leaves it and the starts after it first in line.
    func perform(_ actions: [SupervisorCore.Action]) {
        var paused: [String] = []
        for action in actions {
            switch action {
            case .start(let id):
                if paused.isEmpty && start(id) { continue }
                paused.append(id)
            case .handOver: break  // taken by handOver(_:task:runnerPath:lock:log:), which asked for it
            case .signal(let group, let signal): signal.send(toGroup: group)
            case .look(let id): look(at: id)
            case .lookForBegun(let id): decide(.foundBegun(id, spool.execution(id).runnerPID() != nil))
            case .logEnd(let id, let task, let started, let status): log.line(endLine(id, task: task, started: started, status))
            case .cancelChildren(let id): cancelChildren(of: spool.execution(id))
            case .park(let id, let condition): park(spool.execution(id), until: condition)
            case .runAgain(let id, let cause): decide(.endTried(id, runAgain(spool.execution(id), because: cause)))
            case .end(let id, let status, let message):
                let outcome = end(spool.execution(id), status, message: message)
                if outcome == .ended || outcome == .endedAlready { cancelChildren(of: spool.execution(id)) }
                decide(.endTried(id, outcome))
            case .forgetVanished(let id): forgetVanished(id)
            case .watchLock(let id): watchLock(of: id)
            case .letGo(let process, let kill):
                try? process.socket.close()  // it exits when its socket closes
                if kill { Signal.kill.send(toGroup: process.pid) }
            case .closeSocket(let socket): try? socket.close()
            case .wakeWaiters(let id): notifyWaiters(of: id)
            case .childEnded(let pid, let status): gcEnded(pid, status)
            case .log(let text): log.line(text)
            case .logOnce(let cause, let text): log.once(cause, text)
            }
        }
        if !paused.isEmpty { decide(.startPaused(paused)) }
    }

    /// Starts runners for queued executions while slots are free, unless starting is paused after
    /// a failure that time may mend (a full disk, no descriptors or memory left).
    func startQueued() {
        guard core.canStart(at: Clock.monotonic()) else { return }
        // What runners start reaches the spool by its path: none starts once that path leads elsewhere.
        guard spoolPathHolds(strict: false) else { return }
        decide(.startTurn)
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
        guard status == .queued, core.runs[id] == nil else { return true }  // cancelled while it waited
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
            var run = Run(
                id: id, task: job.task, started: Clock.now(), processGroup: process.pid, timeout: job.timeout ?? options.taskTimeout, at: Clock.monotonic())
            run.process = process.serving
            decide(.started(run))
        } catch where error.isShortOfResources {
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

    /// SIGCHLD: each child reaped is an end for the core to judge.
    func reapRunners() {
        while let (pid, exitStatus) = Spawn.reapOne() {
            decide(.executionEnded(.exited(pid, exitStatus)))
        }
    }

    /// Looks at the execution of a runner that is gone or has left it, for the core's verdict
    /// (EndVerdict): whether its directory exists, its status, and its wake condition when it
    /// waits and the supervisor was not stopping its runner.
    func look(at id: String) {
        let execution = spool.execution(id)
        let exists = execution.exists
        let status = exists ? (try? execution.readStatus()) ?? nil : nil
        let condition = status == .waiting && core.runs[id]?.ending == nil ? execution.wakeCondition() : nil
        decide(.found(id, exists: exists, status: status, wakeCondition: condition))
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
        let run = core.runs[execution.id]
        log.line(endLine(execution.id, task: run?.task ?? (try? execution.job())?.task, started: run?.started, status, message: message))
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
        if core.runs[id] != nil {
            decide(.cancel(id, cause: cause))
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

    /// The clock's turn: the core's deadlines (SupervisorCore.tick), and parked executions whose
    /// deadline has come.
    func enforceDeadlines() {
        decide(.tick)
        wakeParkedPastDeadline()
    }
}
