#if canImport(Glibc)
import Glibc
#endif
import POSIX
import Spool

/// A live runner process and what the supervisor has decided about it.
struct Runner {
    let id: String
    /// The runner's process group (its pid), or nil for an adopted runner whose pid is unknown.
    let processGroup: pid_t?
    /// When the overall task timeout runs out (monotonic seconds).
    let deadline: Double
    let timeout: Double
    /// Set once the supervisor has decided to stop the runner.
    var ending: Ending?
    /// When SIGKILL follows the SIGTERM (monotonic seconds).
    var killAt: Double?

    enum Ending {
        case cancelled
        case timedOut
    }

    var nextDeadline: Double { killAt ?? (ending == nil ? deadline : .infinity) }
}

/// A runner started ahead of need for a task type, waiting on its socket for an execution
/// (TaskRunner's `Standby`).
struct StandbyRunner {
    let pid: pid_t
    let socket: FileDescriptor
    let executable: String
}

extension Supervisor {
    /// Starts runners for queued executions while slots are free.
    func startQueued() {
        while running.count + adopted.count < options.maxRunning, queueHead < queue.count {
            let id = queue[queueHead]
            queueHead += 1
            start(id)
        }
        if queueHead > 1024 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    func start(_ id: String) {
        let execution = spool.execution(id)
        guard execution.status() == .queued else { return }  // cancelled while it waited
        let job: Job
        do {
            job = try execution.job()
        } catch {
            end(execution, .error, message: error.description)
            return
        }
        guard let runnerPath = admission.runner(for: job.task) else {
            end(execution, .error, message: "no executable \(TaskType.runnerPrefix)\(job.task) on the runner path (\(options.runnerPath.joined(separator: ":")))")
            return
        }
        do {
            let pid = try launchRunner(runnerPath, task: job.task, for: execution)
            let timeout = job.timeout ?? options.taskTimeout
            running[pid] = Runner(id: id, processGroup: pid, deadline: Clock.monotonic() + timeout, timeout: timeout)
        } catch {
            end(execution, .error, message: "cannot start \(runnerPath): \(error)")
        }
        if options.standbyTypes.contains(job.task) && standbys[job.task] == nil {
            startStandby(for: job.task, runnerPath)
        }
    }

    /// Takes the execution's lock, marks it running and hands it to a runner: the standby runner of its
    /// task type when there is one, else a new process. Either way the runner ends up with the lock on
    /// descriptor 3 and its log on 1 and 2, in the execution directory, in its own process group. The
    /// lock is taken before the runner has the execution, so a running execution always has a holder.
    func launchRunner(_ runnerPath: String, task: String, for execution: Execution) throws(SystemError) -> pid_t {
        let lock = try FileDescriptor.open(execution.path(.lock), O_RDWR | O_CREAT, mode: 0o600)
        defer { lock.close() }
        guard try lock.lockExclusively(wait: false) else { throw SystemError("flock", path: execution.path(.lock), errno: EWOULDBLOCK) }
        let logFile = try FileDescriptor.open(execution.path(.log), O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
        defer { logFile.close() }
        try spool.commit("running\n", to: execution.path(.status), mode: 0o644)
        if let standby = standbys.removeValue(forKey: task) {
            defer { standby.socket.close() }
            if standby.executable == runnerPath,
               (try? standby.socket.send(Array(execution.id.utf8), passing: [lock, logFile])) != nil {
                try? execution.recordHistory(.running, detail: "pid=\(standby.pid) standby")
                return standby.pid
            }
            Signal.sendToGroup(standby.pid, SIGKILL)
        }
        let null = try FileDescriptor.open("/dev/null", O_RDONLY)
        defer { null.close() }
        var spawnOptions = Spawn.Options(
            directory: execution.directory,
            environment: Environment.with([
                RunnerContract.spoolVariable: spool.root,
                RunnerContract.executionVariable: execution.id,
                RunnerContract.lockDescriptorVariable: "3",
            ]))
        spawnOptions.descriptors = [0: null, 1: logFile, 2: logFile, RunnerContract.lockDescriptor: lock]
        let pid = try Spawn.run(runnerPath, arguments: [], options: spawnOptions)
        try? execution.recordHistory(.running, detail: "pid=\(pid)")
        return pid
    }

    /// Starts a runner for `task` that loads its libraries now and waits for an execution, so that
    /// the next execution of that type does not wait for a process to start.
    func startStandby(for task: String, _ runnerPath: String) {
        do {
            let sockets = try SocketPair()
            defer { sockets.second.close() }
            let null = try FileDescriptor.open("/dev/null", O_RDONLY)
            defer { null.close() }
            var spawnOptions = Spawn.Options(
                directory: spool.root,
                environment: Environment.with([
                    RunnerContract.spoolVariable: spool.root, RunnerContract.lockDescriptorVariable: "3", RunnerContract.standbyVariable: "1",
                ]))
            spawnOptions.descriptors = [0: sockets.second, 1: null, 2: .standardError]
            let pid = try Spawn.run(runnerPath, arguments: [], options: spawnOptions)
            standbys[task] = StandbyRunner(pid: pid, socket: sockets.first, executable: runnerPath)
        } catch {
            log.line("cannot start a standby runner for \(task): \(error)")
        }
    }

    /// Lets the standby runners go: they exit when their socket closes.
    func releaseStandbys() {
        standbys.values.forEach { $0.socket.close() }
        standbys.removeAll()
    }

    func reapRunners() {
        while let (pid, exitStatus) = Spawn.reapOne() {
            if let task = standbys.first(where: { $0.value.pid == pid })?.key {
                standbys.removeValue(forKey: task)?.socket.close()
                log.line("the standby runner for \(task) \(exitStatus) before it had an execution")
                continue
            }
            guard let runner = running.removeValue(forKey: pid) else { continue }
            finish(runner, exitStatus: exitStatus)
        }
    }

    /// After a runner is gone: ends the execution if the runner did not.
    func finish(_ runner: Runner, exitStatus: ExitStatus?) {
        let execution = spool.execution(runner.id)
        let status = execution.status()
        if let status, status.isFinal {
            log.line("\(runner.id) \(status.rawValue)")
            return
        }
        switch runner.ending {
        case .cancelled?:
            end(execution, .cancelled, message: "cancelled while running (flowspool cancel)")
        case .timedOut?:
            end(execution, .error, message: "task timeout: the runner was stopped after \(Clock.describeDuration(runner.timeout)) (the job's timeout, else flowspoold --task-timeout)")
        case nil:
            let how = exitStatus.map { "the runner \($0)" } ?? "the runner ended"
            end(execution, .fault, message: "\(how) without ending the execution; see its log. Not re-run: tasks have side effects")
        }
    }

    func end(_ execution: Execution, _ status: ExecutionStatus, message: String) {
        do {
            try execution.end(status, message: message)
            log.line("\(execution.id) \(status.rawValue): \(message)")
        } catch {
            log.line("cannot end \(execution.id) as \(status.rawValue): \(error)")
        }
    }

    /// `flowspool cancel ID`: a queued execution ends at once; a running one's runner gets SIGTERM,
    /// then SIGKILL after the grace period, and ends `cancelled` when it is gone.
    func cancel(_ id: String) {
        guard ExecutionID.isValid(id) else {
            log.line("cancel: '\(id)' is not an execution id")
            return
        }
        if let pid = running.first(where: { $0.value.id == id })?.key {
            running[pid]?.stop(.cancelled, grace: options.killGrace)
        } else if adopted[id] != nil {
            adopted[id]?.stop(.cancelled, grace: options.killGrace)
        } else if spool.execution(id).status() == .queued {
            end(spool.execution(id), .cancelled, message: "cancelled before it started (flowspool cancel)")
        }
    }

    /// Stops runners past their task timeout, and kills those that outlived their grace period.
    func enforceDeadlines() {
        let now = Clock.monotonic()
        for pid in Array(running.keys) {
            running[pid]?.enforce(at: now, grace: options.killGrace)
        }
        for id in Array(adopted.keys) {
            adopted[id]?.enforce(at: now, grace: options.killGrace)
        }
    }
}

extension Runner {
    mutating func stop(_ reason: Ending, grace: Double) {
        guard ending == nil else { return }
        ending = reason
        killAt = Clock.monotonic() + grace
        if let processGroup { Signal.sendToGroup(processGroup, SIGTERM) }
    }

    mutating func enforce(at now: Double, grace: Double) {
        if let killAt, now >= killAt {
            if let processGroup { Signal.sendToGroup(processGroup, SIGKILL) }
            self.killAt = nil
        } else if ending == nil, now >= deadline {
            stop(.timedOut, grace: grace)
        }
    }
}
