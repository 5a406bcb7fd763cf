import Basics
import POSIX
import Spool

/// A runner process that serves executions of one task type, one at a time, over a socket
/// (TaskRunner's `Reuse`), as Postfix's master reuses its delivery agents: one process start
/// serves up to `--runner-max-use` executions, and a process idle for `--runner-max-idle` seconds
/// is let go. A crash still ends only the execution it was serving.
struct RunnerProcess {
    let pid: ProcessID
    /// The supervisor's end of the socket: hand-overs go out on it, `done ID` comes back.
    let socket: FileDescriptor
    let task: String
    let executable: String
    /// How many executions it has been handed.
    var uses = 0
    /// When it last became idle (monotonic seconds).
    var idleSince = 0.0
}

extension Supervisor {
    /// Hands a locked execution marked running to an idle runner process of its type, else to a new
    /// one, and returns that process.
    func handOver(_ execution: Execution, task: String, runnerPath: String, lock: FileDescriptor, log logFile: FileDescriptor) throws(SystemError) -> RunnerProcess {
        while var process = takeIdleRunner(task, executable: runnerPath) {
            do {
                try deliver(execution, lock: lock, log: logFile, to: &process)
                return process
            } catch {
                retire(process, kill: true)  // died idle, not yet reaped: the next one is tried
            }
        }
        var process = try startRunnerProcess(task, runnerPath)
        do {
            try deliver(execution, lock: lock, log: logFile, to: &process)
        } catch {
            retire(process, kill: true)
            throw error
        }
        return process
    }

    /// Sends the hand-over: the id, with the held lock and the log attached.
    private func deliver(_ execution: Execution, lock: FileDescriptor, log logFile: FileDescriptor, to process: inout RunnerProcess) throws(SystemError) {
        try process.socket.send(Array(execution.id.utf8), passing: [lock, logFile])
        process.uses += 1
        try? execution.recordHistory(.running, detail: "pid=\(process.pid) use=\(process.uses)")
    }

    /// Starts a runner process that serves executions of `task`, in the spool directory, with
    /// standard input its socket and standard error flowspoold's own.
    private func startRunnerProcess(_ task: String, _ runnerPath: String) throws(SystemError) -> RunnerProcess {
        let sockets = try SocketPair()
        defer { try? sockets.second.close() }
        var spawnOptions = Spawn.Options(
            directory: spool.root,
            environment: Environment.with(runnerVariables.merging([
                RunnerContract.spoolVariable: spool.path, RunnerContract.lockDescriptorVariable: "3",
                RunnerContract.reuseVariable: "1",
            ]) { $1 }))
        spawnOptions.descriptors = [0: sockets.second, 2: .standardError]
        handDownSpool(into: &spawnOptions)
        spawnOptions.fromNull = [1]
        do {
            let pid = try Spawn.run(runnerPath, arguments: [], options: spawnOptions)
            return RunnerProcess(pid: pid, socket: sockets.first, task: task, executable: runnerPath)
        } catch {
            try? sockets.first.close()
            throw error
        }
    }

    /// The most recently idle process of `task` running `executable`; idle ones of an executable
    /// no longer first on the runner path are let go.
    private func takeIdleRunner(_ task: String, executable: String) -> RunnerProcess? {
        while let process = idleRunners[task]?.popLast() {
            if process.executable == executable { return process }
            retire(process)
        }
        return nil
    }

    /// A busy runner process answered on its socket: `done ID` when it has left its execution, or
    /// end of file when it is going.
    func runnerProcessAnswered(on socket: FileDescriptor) {
        guard let runner = runners.values.first(where: { $0.process?.socket == socket }), let process = runner.process else { return }
        let id = runner.id
        let answer = (try? socket.receiveWithDescriptors(upTo: 256)) ?? (message: [], descriptors: [])
        answer.descriptors.forEach { try? $0.close() }
        var left = runner
        left.process = nil
        runners[id] = left
        guard answer.message == Array("done \(id)".utf8) else {
            // Gone (reaped soon, and the execution ended then) or speaking out of turn.
            if !answer.message.isEmpty {
                log.line("the \(process.task) runner (pid \(process.pid)) said '\(String(decoding: answer.message.prefix(80), as: UTF8.self).escapingControlCharacters())' instead of 'done \(id)'; it is stopped")
                Signal.kill.send(toGroup: process.pid)
            }
            try? socket.close()
            return
        }
        reapable.removeValue(forKey: process.pid)
        if runnerGone(left) && process.uses < options.runnerMaxUse {
            makeIdle(process)
        } else {
            retire(process)
        }
    }

    private func makeIdle(_ process: RunnerProcess) {
        var idle = process
        idle.idleSince = Clock.monotonic()
        idleRunners[process.task, default: []].append(idle)
        // No more idle processes than runner slots: the one idle longest goes.
        let all = idleRunners.values.joined()
        if all.count > options.maxRunning, let oldest = all.min(by: { $0.idleSince < $1.idleSince }) {
            _ = removeIdle(pid: oldest.pid).map { retire($0) }
        }
    }

    /// Takes a process out of the idle ones, as it died or is let go.
    func removeIdle(pid: ProcessID) -> RunnerProcess? {
        for (task, processes) in idleRunners {
            guard let index = processes.firstIndex(where: { $0.pid == pid }) else { continue }
            return idleRunners[task]?.remove(at: index)
        }
        return nil
    }

    /// Lets a runner process go: it exits when its socket closes.
    private func retire(_ process: RunnerProcess, kill: Bool = false) {
        try? process.socket.close()
        if kill { Signal.kill.send(toGroup: process.pid) }
    }

    /// Lets every idle runner process go: when the supervisor stops, and on SIGHUP, so that runners
    /// replaced on disk are started anew.
    func retireIdleRunners() {
        idleRunners.values.joined().forEach { retire($0) }
        idleRunners.removeAll()
    }

    /// Lets go of the runner processes idle for longer than `--runner-max-idle`.
    func retireIdleRunners(at now: Double) {
        for (task, processes) in idleRunners {
            let expired = { (process: RunnerProcess) in now - process.idleSince >= self.options.runnerMaxIdle }
            processes.filter(expired).forEach { retire($0) }
            idleRunners[task] = processes.filter { !expired($0) }
        }
    }

    /// When the next idle runner process is to be let go (monotonic seconds).
    var nextIdleExpiry: Double {
        (idleRunners.values.joined().map(\.idleSince).min() ?? .infinity) + options.runnerMaxIdle
    }
}
