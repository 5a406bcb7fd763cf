import Basics
import JSON
import POSIX
import Responder
import Spool

/// A host's part in a cluster (flowspoold --cluster, flowspool-cluster(7)): a thread of flowspoold
/// that takes jobs from the cluster's queue while the host has room, starts each when a runner
/// slot is free by recording that in the cluster and then dropping it into the local spool
/// durably, and writes back to the cluster what becomes of it. The local spool stays the record of
/// what the host runs; the supervisor does not know the cluster is there.
///
/// An entry stays pending under the host's name until its execution has ended and the record says
/// so. A host whose heartbeat stops is lost: another takes its pending entries over, runs again
/// those it had not started (not recorded as dispatched) and ends the others `fault`, so that no
/// job runs twice. Every write of a host about an execution checks in Redis, in the same script,
/// that the execution is still the host's, so that a lost host that comes back cannot overwrite
/// what the cluster decided (fencing).
public final class ClusterBridge: @unchecked Sendable {
    let url: ClusterURL
    let node: String
    let spool: Spool
    /// How many of the cluster's jobs the host holds at once: flowspoold's --max-running.
    let slots: Int
    /// The supervisor's runner slots free now (SlotGauge): jobs are dispatched only into those.
    let freeSlots: @Sendable () -> Int
    /// How long a host's heartbeat may be silent before it counts as lost.
    let lostAfter: Double

    /// The jobs dispatched into the spool and not ended: their stream entry and the status last
    /// written back.
    var held: [String: (entry: String, published: String?)] = [:]
    /// The jobs taken and not dispatched yet, oldest first: waiting for a free runner slot, for the
    /// cluster to be reachable, or for room on a full disk (then tried again after `nextDelivery`).
    var ready: [ClusterStore.Entry] = []
    var nextDelivery = 0.0
    /// Whether the last drop into the spool failed: said once, not every second.
    var deliveryFailing = false
    /// Dispatched jobs not running yet (not admitted, or queued), as of the last look at the spool
    /// and counted up with each dispatch since: slots the gauge may not know are spoken for.
    var unstarted = 0
    /// Entries pending under this host whose record names another host: left by a take-over cut
    /// short. Looked at again each heartbeat, and taken over once that host counts as lost.
    var contested: [String: ClusterStore.Entry] = [:]
    /// Each other host's last heartbeat as read, and since when (this host's monotonic clock) it
    /// has not changed: a host is lost when its heartbeat has stood still for `lostAfter` as seen
    /// from here, whatever the clocks of the two machines say.
    var observed: [String: (seen: Double, since: Double)] = [:]
    var nextHeartbeat = 0.0
    /// Woken by flowspoold when an execution the host holds ends, as any waiter is.
    var watcher: JobWatcher?
    /// When this connection was made: a host judges others lost only once it has been connected
    /// longer than `lostAfter`, so that after Redis comes back every host has beaten first.
    var connectedSince = 0.0

    /// A third of the node timeout, at most 2 s: a host misses two beats before it counts as lost.
    var heartbeatInterval: Double { min(2, lostAfter / 3) }

    public init(url: ClusterURL, node: String, spool: Spool, slots: Int, freeSlots: @escaping @Sendable () -> Int, lostAfter: Double = 10) {
        self.url = url
        self.node = node
        self.spool = spool
        self.slots = slots
        self.freeSlots = freeSlots
        self.lostAfter = lostAfter
    }

    /// Starts the bridge's thread, which runs as long as the process.
    public func start() throws(SystemError) {
        try Threads.detach { [self] in run() }
    }

    /// Connects, serves, and when the connection fails connects again with a growing delay; what
    /// the host holds meanwhile goes on running, and is written back once the cluster is reachable.
    func run() {
        var delay = 0.5
        var saidDown = false
        while true {
            let failure: ClusterError
            let began = Clock.monotonic()
            do {
                let store = try connect()
                failure = session(store)
            } catch {
                failure = error
            }
            // A session that lasted is a recovery; one that failed at once is not.
            if Clock.monotonic() - began > 5 {
                delay = 0.5
                saidDown = false
            }
            if !saidDown { log("\(failure); local work goes on, and is written back once the cluster is reachable") }
            saidDown = true
            Clock.sleep(delay)
            // At most half the node timeout, so that a host back in reach beats before others judge it.
            delay = min(delay * 2, max(0.5, lostAfter / 2))
        }
    }

    /// A connection, the consumer group made, and what the host held taken up.
    func connect() throws(ClusterError) -> ClusterStore {
        let store = try ClusterStore(url)
        try store.ensureGroup()
        try beat(store)
        try recover(store)
        connectedSince = Clock.monotonic()
        let holding = held.count + ready.count
        log("joined the cluster at \(url) as \(node)" + (holding == 0 ? "" : ", holding \(holding)"))
        return store
    }

    /// Serves over one connection until a command fails, and returns the failure.
    func session(_ store: ClusterStore) -> ClusterError {
        while true {
            do {
                try serve(store)
            } catch {
                return error
            }
        }
    }

    /// Takes up what the host held: the entries pending under its name (after a restart, or what
    /// it took while the connection broke).
    func recover(_ store: ClusterStore) throws(ClusterError) {
        let readyIDs = Set(ready.map(\.id))
        for entry in try store.pending(for: node) where held[entry.id] == nil && !readyIDs.contains(entry.id) {
            try accept(entry, into: store)
        }
    }

    /// One round: a heartbeat when due (and a look for lost hosts), messages, what changed written
    /// back, jobs dispatched into free runner slots, and new jobs taken while the host has room.
    func serve(_ store: ClusterStore) throws(ClusterError) {
        if Clock.monotonic() >= nextHeartbeat {
            try beat(store)
            try reclaimFromLostHosts(store)
        }
        // A few messages a round, each taken out only when it is handled, so that heartbeats and
        // status changes never wait long behind them.
        for _ in 0..<4 {
            guard let message = try store.takeMessage(for: node) else { break }
            try handle(message, store)
        }
        try publishChanges(to: store)
        try dispatchReady(store)
        let room = slots - held.count - ready.count
        if room > 0 {
            // With nothing held, Redis wakes the bridge for the next job; otherwise it only looks,
            // and the wait is on the executions it holds.
            let taken = try store.take(for: node, count: min(room, 64), waiting: held.isEmpty && ready.isEmpty ? 0.5 : 0)
            for entry in taken { try accept(entry, into: store) }
            if !taken.isEmpty { try dispatchReady(store) }
            if !taken.isEmpty || (held.isEmpty && ready.isEmpty) { return }
        }
        awaitLocalChange(atMost: room > 0 ? 0.01 : 0.05)
    }

    /// The heartbeat: when, how much the host holds and which.
    func beat(_ store: ClusterStore) throws(ClusterError) {
        let holding = JSON.array((held.keys + ready.map(\.id)).sorted().prefix(20).map(JSON.string))
        try store.heartbeat(node, ["seen": .double(Clock.now()), "held": .int(held.count + ready.count), "slots": .int(slots), "executions": holding])
        nextHeartbeat = Clock.monotonic() + heartbeatInterval
    }

    /// Waits until an execution the host holds ends (flowspoold wakes its waiters), or `seconds`
    /// pass: the pace at which new jobs and status changes are looked at while the host is busy.
    /// With jobs ready for a slot, waits instead until the slot gauge moves, looked at every
    /// millisecond.
    func awaitLocalChange(atMost seconds: Double) {
        if !ready.isEmpty {
            let deadline = Clock.monotonic() + seconds
            let seen = freeSlots()
            while freeSlots() == seen, Clock.monotonic() < deadline { Clock.sleep(0.001) }
            return
        }
        if watcher == nil { watcher = try? JobWatcher(spool: spool) }
        guard let watcher, (try? watcher.wait(for: Array(held.keys), until: .any, timeout: seconds)) != nil else {
            Clock.sleep(seconds)
            return
        }
    }

    /// Takes a job the queue handed to this host, once the record says the host has it: it waits in
    /// `ready` for a runner slot, or is held at once when the spool has it already (taken before a
    /// restart or a reconnection).
    func accept(_ entry: ClusterStore.Entry, into store: ClusterStore) throws(ClusterError) {
        switch try store.takeOver(entry.id, for: node) {
        case "ok": break
        case "ended":  // cancelled before any host took it, or ended and forgotten
            try store.acknowledge(entry.entry)
            return
        default:  // the record names another host: a take-over cut short, or that host's
            contested[entry.id] = entry
            return
        }
        guard spool.knows(entry.id) else {
            ready.append(entry)
            return
        }
        if isFromTheCluster(entry.id, entry: entry.entry) {
            held[entry.id] = (entry.entry, nil)
        } else {
            _ = try store.finish(entry.id, entry: entry.entry, by: node, [
                "status": "error", "ended": String(Clock.now()),
                "message": "not admitted by \(node): the id \(entry.id) is taken there by a job of that host's own; submit it again under another id",
            ])
        }
    }

    /// Dispatches ready jobs into the runner slots free now: each is recorded in the cluster as
    /// dispatched before it is dropped into the spool, so that should this host be lost from then
    /// on, the job counts as started and is not run again elsewhere. A job a full disk refuses is
    /// recorded as not dispatched again and tried after a pause.
    func dispatchReady(_ store: ClusterStore) throws(ClusterError) {
        guard !ready.isEmpty, Clock.monotonic() >= nextDelivery else { return }
        while freeSlots() - unstarted > 0, !ready.isEmpty {
            let entry = ready.removeFirst()
            var job: Job
            do {
                job = try Job(parsing: Array(entry.job.utf8))
                job.cluster = entry.entry
            } catch {
                _ = try store.finish(entry.id, entry: entry.entry, by: node, ["status": "error", "message": "not admitted by \(node): \(error)", "ended": String(Clock.now())])
                continue
            }
            switch try store.dispatch(entry.id, by: node) {
            case "ok": break
            case "ended":  // cancelled meanwhile
                try store.acknowledge(entry.entry)
                continue
            default:  // taken over while this host was out of reach
                continue
            }
            do {
                _ = try spool.submit(job, id: entry.id)
            } catch {
                _ = try store.update(entry.id, by: node, ["dispatched": ""])
                ready.insert(entry, at: 0)
                if !deliveryFailing { log("cannot drop \(entry.id) into \(spool.path) (tried again every second): \(error)") }
                deliveryFailing = true
                nextDelivery = Clock.monotonic() + 1
                return
            }
            deliveryFailing = false
            held[entry.id] = (entry.entry, nil)
            unstarted += 1
        }
    }

    /// Whether the job this host knows as `id` is the one it took from the cluster's queue (as
    /// `entry`, when given), not one of its own that happens to have the same id.
    func isFromTheCluster(_ id: String, entry: String? = nil) -> Bool {
        guard let marked = spool.job(knownAs: id)?.cluster else { return false }
        return entry == nil || marked == entry
    }

    /// Writes back each held execution's status when it changed, and its whole record when it
    /// ended, and counts those not running yet. An execution another host has taken over is let
    /// go: its record is not this host's.
    func publishChanges(to store: ClusterStore) throws(ClusterError) {
        unstarted = 0
        for (id, state) in held {
            let execution = spool.execution(id)
            var stillOurs = true
            if let status = execution.status() {
                if status.isFinal {
                    held[id] = nil
                    stillOurs = try store.finish(id, entry: state.entry, by: node, finalRecord(of: execution, status))
                } else {
                    if status == .queued { unstarted += 1 }
                    guard status.rawValue != state.published else { continue }
                    var fields = ["status": status.rawValue]
                    // When it first ran, as the final record says it (finalRecord).
                    if status == .running, let started = execution.history().first(where: { $0.status == .running })?.time {
                        fields["started"] = String(started)
                    }
                    stillOurs = try store.update(id, by: node, fields)
                    held[id]?.published = status.rawValue
                }
            } else if case .rejected(let why) = spool.jobState(id) {
                held[id] = nil
                stillOurs = try store.finish(id, entry: state.entry, by: node, ["status": "error", "message": "not admitted by \(node): \(why)", "ended": String(Clock.now())])
            } else {
                unstarted += 1  // not admitted yet
            }
            if !stillOurs {
                held[id] = nil
                log("\(id) was taken over by the cluster while this host was out of reach; its record stands, and this host's part is not written back")
                // What has not started here must not run here too.
                if (try? spool.withdraw(id, because: "taken over by the cluster while this host was out of reach")) != true,
                   spool.execution(id).status() == .queued {
                    _ = try? spool.sendControl("cancel \(id) taken over by the cluster while this host was out of reach")
                }
            }
        }
    }

    /// What the cluster keeps of an ended execution: protected outputs masked, as show masks them.
    func finalRecord(of execution: Execution, _ status: ExecutionStatus) -> [String: String] {
        let history = execution.history()
        let inputs = (try? execution.job().inputs) ?? [:]
        var fields = ["status": status.rawValue]
        fields["message"] = execution.message()?.trimming("\n") ?? ""
        fields["outputs"] = JSON.object(Protection.maskedOutputs(execution.outputs() ?? [:], inputs: inputs)).compactText
        if let started = history.first(where: { $0.status == .running })?.time { fields["started"] = String(started) }
        fields["ended"] = String(history.last { $0.status.isFinal }?.time ?? Clock.now())
        return fields
    }

    /// Takes over the pending entries of the hosts whose heartbeat has stood still for
    /// `lostAfter`, and the contested entries of this host whose record names such a host.
    func reclaimFromLostHosts(_ store: ClusterStore) throws(ClusterError) {
        let heard = try store.nodes()
        let now = Clock.monotonic()
        for (name, state) in heard where name != node {
            let seen = state["seen"]?.doubleValue ?? 0
            if observed[name]?.seen != seen { observed[name] = (seen, now) }
        }
        func isLost(_ other: String) -> Bool {
            guard now - connectedSince > lostAfter else { return false }
            guard let observation = observed[other] else {
                observed[other] = (0, now)  // never heard of: lost once it stays unheard
                return false
            }
            return now - observation.since > lostAfter
        }
        for other in try store.consumersWithPending() where other != node && isLost(other) {
            for entry in try store.claim(from: other, for: node, idle: lostAfter) {
                try settle(entry, lostFrom: other, store)
            }
        }
        for (id, entry) in contested {
            guard let owner = try store.record(id)?.node else { continue }
            if owner == node || isLost(owner) {
                contested[id] = nil
                try settle(entry, lostFrom: owner, store)
            }
        }
    }

    /// What becomes of an entry taken from a lost host, as the record decides.
    func settle(_ entry: ClusterStore.Entry, lostFrom other: String, _ store: ClusterStore) throws(ClusterError) {
        switch try store.reclaim(entry.id, from: other, for: node) {
        case "run":
            log("\(entry.id): taken over from \(other), which was lost before it started")
            try accept(entry, into: store)
        case "fault":
            log("\(entry.id): ended fault, host \(other) was lost while it ran")
            try store.acknowledge(entry.entry)
        case "ended":
            try store.acknowledge(entry.entry)
        default:
            contested[entry.id] = entry
        }
    }

    /// A message left in this host's inbox: an answer to an INPUT request it holds, or a cancel.
    func handle(_ message: JSON, _ store: ClusterStore) throws(ClusterError) {
        guard let id = message["id"]?.stringValue, ExecutionID.isValid(id) else { return }
        switch message["kind"]?.stringValue {
        case "answer":
            guard let token = message["token"]?.stringValue, let value = message["value"]?.stringValue else { return }
            guard isFromTheCluster(id) else {
                return try store.setVerdict(token, "refused: \(node) holds no request \(id) of the cluster")
            }
            // A short wait: the supervisor judges at once, and the host must go on beating. The
            // answer is the host's own: the cluster knows no one's identity (whoever has its URL
            // may answer), so it is not written on behalf of a name the sender could choose.
            let outcome = Responding(spool: spool).answer(id, with: Array(value.utf8), wait: 1)
            let verdict = switch outcome {
            case .taken: "taken"
            case .held(let why): "held: " + why
            case .refused(let why), .notPermitted(let why): "refused: " + why
            case .noVerdict(let why): "no verdict: " + why
            }
            try store.setVerdict(token, verdict)
        case "cancel":
            // A job not admitted yet here is taken back and ends cancelled; an execution is
            // cancelled by the supervisor, and its end written back as any other.
            if let position = ready.firstIndex(where: { $0.id == id }) {
                let entry = ready.remove(at: position)
                _ = try store.finish(id, entry: entry.entry, by: node, ["status": "cancelled", "message": "cancelled before it started", "ended": String(Clock.now())])
            } else if let state = held[id], (try? spool.withdraw(id, because: "cancelled through the cluster")) == true {
                held[id] = nil
                _ = try store.finish(id, entry: state.entry, by: node, ["status": "cancelled", "message": "cancelled before it started", "ended": String(Clock.now())])
            } else if isFromTheCluster(id) {
                _ = try? spool.sendControl("cancel \(id) flowspool cancel --cluster")
            }
        default:
            break
        }
    }

    /// Before the supervisor starts: the executions this host took from the cluster and that the
    /// cluster has since given to another host (while this one was lost) must not run here again.
    /// Jobs still waiting in incoming/ are withdrawn and queued executions cancelled; one whose
    /// runner still runs goes on, unpublished. Returns what it did, a line each; throws when the
    /// cluster cannot be asked, and then nothing is touched.
    public func fenceLocalWork() throws(ClusterError) -> [String] {
        let store = try ClusterStore(url)
        var lines: [String] = []
        let incoming = ((try? FileSystem.listDirectory(spool.incoming)) ?? []).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
        let executions = ((try? FileSystem.listDirectory(spool.executions)) ?? []).filter {
            ExecutionID.isValid($0) && spool.execution($0).status()?.isFinal == false
        }
        // Jobs a supervisor killed mid-admission left as claims in tmp/.
        let claims = ((try? FileSystem.listDirectory(spool.tmp)) ?? []).filter { $0.hasSuffix(Spool.claimSuffix) }.map { String($0.dropLast(Spool.claimSuffix.count)) }
        for id in incoming + claims + executions where ExecutionID.isValid(id) && isFromTheCluster(id) {
            guard let record = try store.record(id), record.node != nil, record.node != node || record.isFinal else { continue }
            let why = "taken over by the cluster while this host was lost (\(record.status ?? "?") on \(record.node ?? "?"))"
            if (try? spool.withdraw(id, because: why)) == true || (try? spool.withdrawClaim(id, because: why)) == true {
                lines.append("\(id): withdrawn, \(why)")
            } else if spool.execution(id).status() == .queued, let lock = try? spool.execution(id).tryLock() {
                defer { try? lock.close() }
                if (try? spool.execution(id).end(.cancelled, message: why)) != nil { lines.append("\(id): cancelled here, \(why)") }
            }
        }
        return lines
    }

    func log(_ text: String) {
        OperatorLine.write("cluster: " + text, stamped: true)
    }
}
