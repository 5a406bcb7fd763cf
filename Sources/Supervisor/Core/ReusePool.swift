import POSIX

/// A runner process that serves executions of one task type, one at a time, over a socket
/// (TaskRunner's `Reuse`), as Postfix's master reuses its delivery agents: one process start
/// serves up to `--runner-max-use` executions, and a process idle for `--runner-max-idle` seconds
/// is let go. A crash still ends only the execution it was serving.
struct RunnerProcess: Equatable {
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

/// The runner processes waiting idle for their next execution, by task type, and the reuse limits:
/// which one takes the next execution, which are let go and when. No I/O: letting a process go is
/// what the caller does with the processes returned.
struct ReusePool {
    /// At most this many processes idle at once (--max-running).
    let capacity: Int
    /// Executions one process serves before it is let go (--runner-max-use).
    let maxUse: Int
    /// Seconds a process may wait idle (--runner-max-idle).
    let maxIdle: Double
    /// By task type, the longest idle first.
    private(set) var idle: [String: [RunnerProcess]] = [:]

    init(capacity: Int, maxUse: Int, maxIdle: Double) {
        self.capacity = capacity
        self.maxUse = maxUse
        self.maxIdle = maxIdle
    }

    var count: Int { idle.values.reduce(0) { $0 + $1.count } }

    /// The most recently idle process of `task` running `executable`, and the idle ones of that task
    /// passed over for it, which run an executable no longer first on the runner path: let them go.
    mutating func take(_ task: String, executable: String) -> (process: RunnerProcess?, outdated: [RunnerProcess]) {
        var outdated: [RunnerProcess] = []
        while let process = idle[task]?.popLast() {
            if process.executable == executable { return (process, outdated) }
            outdated.append(process)
        }
        return (nil, outdated)
    }

    /// A process that has left its execution: kept idle when the execution was settled and it has
    /// uses left, else let go. Returns the processes to let go: it, or the one idle longest when
    /// keeping it would make more idle processes than runner slots.
    mutating func release(_ process: RunnerProcess, settled: Bool, at now: Double) -> [RunnerProcess] {
        guard settled && process.uses < maxUse else { return [process] }
        var kept = process
        kept.idleSince = now
        idle[process.task, default: []].append(kept)
        guard count > capacity, let oldest = idle.values.joined().min(by: { $0.idleSince < $1.idleSince }) else { return [] }
        return remove(pid: oldest.pid).map { [$0] } ?? []
    }

    /// Takes a process out of the idle ones, as it died or is let go.
    mutating func remove(pid: ProcessID) -> RunnerProcess? {
        for (task, processes) in idle {
            guard let index = processes.firstIndex(where: { $0.pid == pid }) else { continue }
            return idle[task]?.remove(at: index)
        }
        return nil
    }

    /// The processes idle for `maxIdle` or longer at `now`, taken out to be let go.
    mutating func expire(at now: Double) -> [RunnerProcess] {
        var expired: [RunnerProcess] = []
        for (task, processes) in idle {
            let maxIdle = maxIdle
            let isExpired = { (process: RunnerProcess) in now - process.idleSince >= maxIdle }
            expired += processes.filter(isExpired)
            idle[task] = processes.filter { !isExpired($0) }
        }
        return expired
    }

    /// Every idle process, taken out to be let go (the supervisor stops, or SIGHUP).
    mutating func removeAll() -> [RunnerProcess] {
        defer { idle.removeAll() }
        return Array(idle.values.joined())
    }

    /// When the next idle process is to be let go (monotonic seconds).
    var nextExpiry: Double {
        (idle.values.joined().map(\.idleSince).min() ?? .infinity) + maxIdle
    }
}
