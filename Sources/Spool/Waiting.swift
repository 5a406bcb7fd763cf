import Basics
import POSIX

/// What a waiting process tells flowspoold (flowspool-spool(5), "Waiting"): it waits, with a FIFO
/// of its own, waiters/TOKEN, for the executions listed in waiters/TOKEN.ids, one id a line, after
/// an optional first line `waiter ID` naming the execution that waits (a flow, which then holds no
/// runner slot). flowspoold writes a byte into the FIFO whenever one of those jobs is admitted,
/// ends or is rejected; the waiter then looks at the files, which are the truth. No waiter needs
/// an inotify instance, so their number is bounded by nothing but the file system.
public struct WaitRegistration: Equatable, Sendable {
    public var waiter: String?
    public var ids: [String]

    public init(waiter: String?, ids: [String]) {
        self.waiter = waiter
        self.ids = ids
    }

    var text: String {
        (waiter.map { "waiter \($0)\n" } ?? "") + ids.map { $0 + "\n" }.joined()
    }

    /// A registration as its file holds it; names that are not ids are left out.
    public init(text: String) {
        var lines = text.split(separator: "\n")
        waiter = nil
        if let first = lines.first, first.hasPrefix("waiter ") {
            let id = first.dropFirst(7)
            waiter = ExecutionID.isValid(id) ? String(id) : nil
            lines.removeFirst()
        }
        ids = lines.filter { ExecutionID.isValid($0) }.map(String.init)
    }

    public static let idsSuffix = ".ids"
}

/// Waits for jobs to be admitted or to end, woken by flowspoold through a FIFO of its own
/// (WaitRegistration). One watcher serves many waits, as a flow waits on child after child. While
/// no flowspoold runs, it looks every second instead, and says so once on standard error when none
/// has come within a grace period (a supervisor being restarted is not worth a word).
public final class JobWatcher {
    public let spool: Spool
    let token: String
    let fifo: FileDescriptor
    /// The execution that waits, when a flow does; it holds no runner slot meanwhile.
    let waiter: String?
    var registered: WaitRegistration?
    var saidNoSupervisor = false
    var unsupervisedSince: Double?

    /// A descriptor that ends a wait early when it becomes readable: a SignalDescriptor's, so that
    /// Ctrl-C reaches a waiting `flowspool run`. The wait then returns what it has.
    public var interruption: FileDescriptor?
    /// Called each time the watcher wakes, before the files are looked at again: `flowspool run`
    /// looks for INPUT requests of its execution there.
    public var onWake: (() -> Void)?
    /// Set when the interruption descriptor ended a wait.
    public private(set) var interrupted = false

    /// How often the files are looked at without being woken: a backstop for a supervisor that
    /// stops while we wait, and the pace of waiting when none runs.
    static let supervisedRecheck = 5.0
    static let unsupervisedRecheck = 1.0
    /// How long no supervisor may run before a waiter says so.
    static let noSupervisorGrace = 2.0

    public init(spool: Spool, waiter: String? = nil) throws(SystemError) {
        self.spool = spool
        self.waiter = waiter.flatMap { ExecutionID.isValid($0) ? $0 : nil }
        token = "\(CurrentProcess.id).\(UInt64.random(in: 0...UInt64.max))"
        let path = spool.waiters + "/" + token
        try FileSystem.makeFIFO(path, mode: 0o600)
        do {
            // Read and write, so that it never reports end of file between writers.
            fifo = try spool.open(path, .readWrite, fifo: true)
        } catch {
            try? FileSystem.removeIfPresent(path)
            throw error
        }
    }

    deinit {
        try? fifo.close()
        try? FileSystem.removeIfPresent(spool.waiters + "/" + token)
        try? FileSystem.removeIfPresent(idsPath)
    }

    var idsPath: String { spool.waiters + "/" + token + WaitRegistration.idsSuffix }

    public enum Condition: Sendable {
        /// Until one of the jobs has ended.
        case any
        /// Until all of them have.
        case all

        /// Whether the condition holds for these states.
        public func holds(in states: [String: JobState]) -> Bool {
            let ended = states.values.filter { $0 != .pending }.count
            return self == .any ? ended > 0 : ended == states.count
        }
    }

    /// The states of `ids` once the condition holds, or when `timeout` seconds have passed (nil: no
    /// limit); the jobs still going are `.pending` then.
    public func wait(for ids: [String], until condition: Condition, timeout: Double?) throws(SystemError) -> [String: JobState] {
        let deadline = timeout.map { Clock.monotonic() + $0 }
        defer { unregister() }
        while true {
            var states: [String: JobState] = [:]
            for id in ids { states[id] = spool.jobState(id) }
            if condition.holds(in: states) || interrupted { return states }
            let remaining = deadline.map { $0 - Clock.monotonic() }
            if let remaining, remaining <= 0 { return states }
            try register(WaitRegistration(waiter: waiter, ids: ids.filter { states[$0] == .pending }))
            try sleep(atMost: remaining)
            onWake?()
        }
    }

    /// Waits until the job submitted as `id` has its execution directory, or was rejected.
    public func waitForExecution(_ id: String) throws(SystemError) {
        defer { unregister() }
        while !spool.execution(id).exists, spool.jobState(id) == .pending {
            try register(WaitRegistration(waiter: nil, ids: [id]))
            try sleep(atMost: nil)
        }
    }

    /// Waits for nothing but time, as a waiting execution that holds no runner slot (c.sleep).
    public func pause(_ seconds: Double) throws(SystemError) {
        defer { unregister() }
        let deadline = Clock.monotonic() + Seconds.clamping(seconds).value
        while Clock.monotonic() < deadline {
            try register(WaitRegistration(waiter: waiter, ids: []))
            _ = try Poll.readable([fifo], timeout: deadline - Clock.monotonic())
            _ = try fifo.readAvailable()
        }
    }

    /// Until woken by flowspoold, or for the recheck interval.
    func sleep(atMost remaining: Double?) throws(SystemError) {
        let supervised = spool.hasSupervisor
        noteSupervisor(supervised)
        let recheck = supervised ? Self.supervisedRecheck : Self.unsupervisedRecheck
        let ready = try Poll.readable([fifo] + (interruption.map { [$0] } ?? []), timeout: min(remaining ?? .infinity, recheck))
        if let interruption, ready.contains(interruption) { interrupted = true }
        if ready.contains(fifo) { _ = try fifo.readAvailable() }
    }

    /// Says once that no supervisor runs, when none has for the grace period.
    func noteSupervisor(_ supervised: Bool) {
        guard !supervised else {
            unsupervisedSince = nil
            return
        }
        let now = Clock.monotonic()
        let since = unsupervisedSince ?? now
        unsupervisedSince = since
        guard !saidNoSupervisor, now - since >= Self.noSupervisorGrace else { return }
        saidNoSupervisor = true
        OperatorLine.write("no flowspoold supervises \(spool.root); waiting by looking every \(Int(Self.unsupervisedRecheck)) s until one does")
    }

    /// Tells flowspoold what we wait for, unless it knows already.
    func register(_ registration: WaitRegistration) throws(SystemError) {
        guard registration != registered else { return }
        try spool.write(registration.text, to: idsPath, .volatile)
        registered = registration
    }

    func unregister() {
        guard registered != nil else { return }
        try? FileSystem.removeIfPresent(idsPath)
        registered = nil
    }
}
