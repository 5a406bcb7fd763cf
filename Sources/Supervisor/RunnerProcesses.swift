import Basics
import POSIX
import Spool

extension Supervisor {
    /// Hands a locked execution marked running to an idle runner process of its type, else to a new
    /// one, and returns that process.
    func handOver(_ execution: Execution, task: String, runnerPath: String, lock: FileDescriptor, log logFile: FileDescriptor) throws(SystemError) -> RunnerProcess {
        while var process = takeIdleRunner(task, executable: runnerPath) {
            do {
                try deliver(execution, lock: lock, log: logFile, to: &process)
                return process
            } catch {
                perform([.letGo(process, kill: true)])  // died idle, not yet reaped: the next one is tried
            }
        }
        var process = try startRunnerProcess(task, runnerPath)
        do {
            try deliver(execution, lock: lock, log: logFile, to: &process)
        } catch {
            perform([.letGo(process, kill: true)])
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

    /// The idle process the core hands the execution to, if any (ReusePool.take); the other
    /// actions (idle ones of an executable no longer first on the runner path let go) are carried out.
    private func takeIdleRunner(_ task: String, executable: String) -> RunnerProcess? {
        let actions = core.handle(.runnerWanted(task: task, executable: executable), at: Clock.monotonic())
        perform(actions)
        return actions.lazy.compactMap { if case .handOver(let process) = $0 { process } else { nil } }.first
    }

    /// A busy runner process answered on its socket: `done ID` when it has left its execution, or
    /// end of file when it is going. The core decides what the answer means.
    func runnerProcessAnswered(on socket: FileDescriptor) {
        guard core.run(servedBy: socket) != nil else { return }
        let answer = (try? socket.receiveWithDescriptors(upTo: 256)) ?? (message: [], descriptors: [])
        answer.descriptors.forEach { try? $0.close() }
        decide(.executionEnded(.answered(socket, answer.message)))
    }
}
