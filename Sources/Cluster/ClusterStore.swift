import JSON
import POSIX
import Redis
import Spool

/// What a cluster keeps in Redis (flowspool-cluster(7)), and the commands that read and write it:
/// - `flowspool:queue`, a stream of jobs (`id`, `job`) read by the consumer group `hosts`, one
///   consumer per host; an entry stays pending until its execution has ended and its record says
///   so, and is then acknowledged and deleted;
/// - `flowspool:execution:ID`, a hash per execution: its job, status, node, times, message, outputs;
/// - `flowspool:executions`, the ids by submission time;
/// - `flowspool:nodes`, each host's last heartbeat.
public final class ClusterStore {
    public let url: ClusterURL
    let connection: RedisConnection

    static let queue = "flowspool:queue"
    static let group = "hosts"
    static let executions = "flowspool:executions"
    static let nodes = "flowspool:nodes"
    static func record(_ id: String) -> String { "flowspool:execution:" + id }

    /// Seconds a command may take, beyond what it blocks for.
    static let commandTimeout = 5.0

    /// Connects, logs in and selects the database.
    public init(_ url: ClusterURL) throws(ClusterError) {
        self.url = url
        do {
            connection = try RedisConnection(host: url.host, port: url.port, deadline: Clock.monotonic() + Self.commandTimeout)
        } catch {
            throw ClusterError("cannot reach the cluster at \(url): \(error)")
        }
        if let password = url.password {
            try expectOK(call(["AUTH"] + (url.user.map { [$0] } ?? []) + [password]), "logging in")
        }
        if url.database != 0 { try expectOK(call(["SELECT", String(url.database)]), "selecting database \(url.database)") }
    }

    /// One command; an error reply is returned as such, a broken connection thrown.
    @discardableResult
    func call(_ arguments: [String], blocking seconds: Double = 0) throws(ClusterError) -> RedisReply {
        do {
            return try connection.command(arguments.map { Array($0.utf8) }, deadline: Clock.monotonic() + Self.commandTimeout + seconds)
        } catch {
            throw ClusterError("the cluster at \(url): \(error)")
        }
    }

    /// Several commands in one round trip; their replies in order, as `call` gives them.
    func calls(_ commands: [[String]]) throws(ClusterError) -> [RedisReply] {
        do {
            return try connection.pipeline(commands.map { $0.map { Array($0.utf8) } }, deadline: Clock.monotonic() + Self.commandTimeout)
        } catch {
            throw ClusterError("the cluster at \(url): \(error)")
        }
    }

    func expectOK(_ reply: RedisReply, _ step: String) throws(ClusterError) {
        if case .error(let text) = reply { throw ClusterError("the cluster at \(url) refused \(step): \(text)") }
    }

    // MARK: Submitting and reading records

    /// Adds a job to the queue under a new id, unique in the cluster, and returns the id. With
    /// `retryOnHostLoss`, a host lost while it runs the job leaves it to another, which runs it
    /// again; by default it ends `fault`, as automation has side effects.
    public func submit(_ job: Job, id requested: String? = nil, retryOnHostLoss: Bool = false) throws(ClusterError) -> String {
        for _ in 0..<16 {
            let id = requested ?? ExecutionID.generate()
            let submitted = Clock.now()
            // The record reserves the id: a second submitter of the same id gets 0.
            guard case .integer(1) = try call(["HSETNX", Self.record(id), "job", job.document().compactText]) else {
                if requested != nil { throw ClusterError("the id '\(id)' is taken in the cluster") }
                continue
            }
            try call(["MULTI"])
            try call(["HSET", Self.record(id), "task", job.task, "status", "queued", "submitted", String(submitted),
                      "retry_on_host_loss", retryOnHostLoss ? "1" : "0"])
            try call(["ZADD", Self.executions, String(submitted), id])
            try call(["XADD", Self.queue, "*", "id", id, "job", job.document().compactText])
            try expectOK(try call(["EXEC"]), "the job")
            return id
        }
        throw ClusterError("could not find a free execution id in the cluster")
    }

    /// An execution's record, field by field; nil when the cluster has none of that id.
    public func record(_ id: String) throws(ClusterError) -> ClusterRecord? {
        guard case .array(let items) = try call(["HGETALL", Self.record(id)]), !items.isEmpty else { return nil }
        return ClusterRecord(id: id, fields: Self.pairs(items))
    }

    /// The records of `ids` that exist, in that order: a thousand to a round trip.
    public func records(_ ids: [String]) throws(ClusterError) -> [ClusterRecord] {
        var records: [ClusterRecord] = []
        for start in stride(from: 0, to: ids.count, by: 1000) {
            let batch = ids[start..<min(start + 1000, ids.count)]
            let replies = try calls(batch.map { ["HGETALL", Self.record($0)] })
            for (id, reply) in zip(batch, replies) {
                guard case .array(let items) = reply, !items.isEmpty else { continue }
                records.append(ClusterRecord(id: id, fields: Self.pairs(items)))
            }
        }
        return records
    }

    /// The ids of all executions, oldest first; with `last`, only the newest that many.
    public func executionIDs(last: Int? = nil) throws(ClusterError) -> [String] {
        let first = last.map { String(-max(1, $0)) } ?? "0"
        guard case .array(let items) = try call(["ZRANGE", Self.executions, first, "-1"]) else { return [] }
        return items.compactMap(Self.text)
    }

    // MARK: Forgetting what has ended

    /// The records that ended before `cutoff` (seconds since the epoch), oldest first.
    public func recordsEnded(before cutoff: Double) throws(ClusterError) -> [ClusterRecord] {
        // An execution ends after it was submitted: only those submitted before the cutoff can have.
        guard case .array(let items) = try call(["ZRANGEBYSCORE", Self.executions, "-inf", "(" + String(cutoff)]) else { return [] }
        return try records(items.compactMap(Self.text)).filter { $0.isFinal && ($0.time("ended") ?? .infinity) < cutoff }
    }

    /// Deletes the records of `ids` that have ended, and their place in the list of executions, a
    /// thousand to a round trip; returns the ids deleted. What has not ended is kept.
    public func forget(_ ids: [String]) throws(ClusterError) -> [String] {
        var forgotten: [String] = []
        for start in stride(from: 0, to: ids.count, by: 1000) {
            let batch = Array(ids[start..<min(start + 1000, ids.count)])
            let replies = try calls(batch.map { ["EVAL", Self.forgetScript, "2", Self.record($0), Self.executions, $0] })
            for (id, reply) in zip(batch, replies) {
                if case .error(let text) = reply { throw ClusterError("the cluster at \(url) refused to forget \(id): \(text)") }
                if reply == .integer(1) { forgotten.append(id) }
            }
        }
        return forgotten
    }

    /// The hosts last heard of before `cutoff`, and not in the last minute, that hold nothing of
    /// the queue, with when each was last heard of. A host beats every two seconds at most, so
    /// none that runs is among them.
    public func silentNodes(before cutoff: Double) throws(ClusterError) -> [(name: String, seen: Double)] {
        let holding = Set(try consumersWithPending())
        let before = min(cutoff, Clock.now() - 60)
        return try nodes().compactMap { name, state in
            let seen = state["seen"]?.doubleValue ?? 0
            return seen < before && !holding.contains(name) ? (name, seen) : nil
        }.sorted { $0.name < $1.name }
    }

    /// Forgets a host: its heartbeat, its consumer in the group and its inbox. Should it come
    /// back, it joins again.
    public func forgetNode(_ name: String) throws(ClusterError) {
        for reply in try calls([["HDEL", Self.nodes, name], ["XGROUP", "DELCONSUMER", Self.queue, Self.group, name], ["DEL", Self.inbox(name)]]) {
            if case .error(let text) = reply, !text.hasPrefix("NOGROUP") { throw ClusterError("the cluster at \(url) refused to forget host \(name): \(text)") }
        }
    }

    /// Every host's last heartbeat, by node name.
    public func nodes() throws(ClusterError) -> [String: JSON] {
        let reply = try call(["HGETALL", Self.nodes])
        if case .error(let text) = reply { throw ClusterError("the cluster at \(url) refused to list its hosts: \(text)") }
        guard case .array(let items) = reply else { return [:] }
        return Self.pairs(items).compactMapValues { try? JSON(parsing: $0) }
    }

    /// Cancels an execution no host has taken yet ("cancelled"); otherwise says which host holds
    /// it ("node NAME"), or that it has ended ("ended").
    public func cancelUntaken(_ id: String) throws(ClusterError) -> String {
        try script(Self.cancelScript, keys: [Self.record(id)], [String(Clock.now())])
    }

    /// Leaves a message (an answer, a cancel) for a host, which takes it at its next round.
    public func send(to node: String, _ message: JSON) throws(ClusterError) {
        try call(["RPUSH", Self.inbox(node), message.compactText])
    }

    /// A host's word on a message that asked for one (an answer's verdict), when it has come.
    public func verdict(_ token: String) throws(ClusterError) -> String? {
        Self.text(try call(["GET", Self.verdict(token)]))
    }

    /// Looks with `look` until it gives a value or `timeout` seconds pass (nil: no limit): every
    /// 20 ms at first, then less often, up to every half second. Nil when the time ran out. How the
    /// commands wait on a record or a verdict, which Redis cannot push to them.
    public static func poll<T>(timeout: Double?, _ look: () throws(ClusterError) -> T?) throws(ClusterError) -> T? {
        let deadline = timeout.map { Clock.monotonic() + $0 }
        var pause = 0.02
        while true {
            if let found = try look() { return found }
            if let deadline, Clock.monotonic() >= deadline { return nil }
            Clock.sleep(min(pause, deadline.map { max(0, $0 - Clock.monotonic()) } ?? pause))
            pause = min(pause * 1.5, 0.5)
        }
    }

    // MARK: What a host does

    static func inbox(_ node: String) -> String { "flowspool:inbox:" + node }
    static func verdict(_ token: String) -> String { "flowspool:verdict:" + token }

    /// Makes the consumer group, unless it is there.
    func ensureGroup() throws(ClusterError) {
        let reply = try call(["XGROUP", "CREATE", Self.queue, Self.group, "0", "MKSTREAM"])
        if case .error(let text) = reply, !text.hasPrefix("BUSYGROUP") {
            throw ClusterError("the cluster at \(url) refused the consumer group: \(text)")
        }
    }

    /// A job of the queue: its stream entry, id and job document.
    struct Entry {
        let entry: String
        let id: String
        let job: String
    }

    /// Up to `count` new jobs for `node`, waiting at most `seconds` for one (0: not at all); they stay pending,
    /// under the node's name, until acknowledged.
    func take(for node: String, count: Int, waiting seconds: Double) throws(ClusterError) -> [Entry] {
        let block = seconds > 0 ? ["BLOCK", String(Int(seconds * 1000))] : []
        return try entries(streamReply: try call(
            ["XREADGROUP", "GROUP", Self.group, node, "COUNT", String(count)] + block + ["STREAMS", Self.queue, ">"],
            blocking: seconds))
    }

    /// The jobs delivered to `node` and not acknowledged: what it held when it stopped.
    func pending(for node: String) throws(ClusterError) -> [Entry] {
        try entries(streamReply: try call(["XREADGROUP", "GROUP", Self.group, node, "COUNT", "100000", "STREAMS", Self.queue, "0"]))
    }

    /// The hosts with jobs pending, and how many each.
    func consumersWithPending() throws(ClusterError) -> [String] {
        guard case .array(let summary) = try call(["XPENDING", Self.queue, Self.group]), summary.count == 4,
              case .array(let consumers) = summary[3] else { return [] }
        return consumers.compactMap { consumer in
            guard case .array(let parts) = consumer, let name = parts.first.flatMap(Self.text) else { return nil }
            return name
        }
    }

    /// Takes over, for `node`, the entries pending under `lost` that have waited at least
    /// `idle` seconds since they were delivered: two hosts cannot both take one, as the first
    /// taking makes it fresh again.
    func claim(from lost: String, for node: String, idle: Double) throws(ClusterError) -> [Entry] {
        guard case .array(let pending) = try call(["XPENDING", Self.queue, Self.group, "-", "+", "1000", lost]) else { return [] }
        let ids = pending.compactMap { item -> String? in
            guard case .array(let parts) = item else { return nil }
            return parts.first.flatMap(Self.text)
        }
        guard !ids.isEmpty else { return [] }
        let reply = try call(["XCLAIM", Self.queue, Self.group, node, String(Int(idle * 1000))] + ids)
        guard case .array(let items) = reply else { return [] }
        return items.compactMap(Self.entry)
    }

    /// What becomes of a lost host's execution, decided in Redis at once: "run" (it had not
    /// dispatched it, or the job asked to be retried: it is now `node`'s), "fault" (it had: its record
    /// ends fault, "host LOST was lost"), "ended" (also when its record is gone) or "other".
    func reclaim(_ id: String, from lost: String, for node: String) throws(ClusterError) -> String {
        try script(Self.reclaimScript, keys: [Self.record(id)], [lost, node, String(Clock.now())])
    }

    /// Notes that `node` takes the execution: "ok", "ended" (cancelled before it was taken, or its
    /// record ended and was forgotten by gc while the entry was still pending) or
    /// "other" (the record names another host).
    func takeOver(_ id: String, for node: String) throws(ClusterError) -> String {
        try script(Self.takeScript, keys: [Self.record(id)], [node, String(Clock.now())])
    }

    /// Records that `node` starts the execution (`dispatched`, the time), if it is still the
    /// node's and queued: "ok", "ended" (cancelled meanwhile, or its record gone) or "other"
    /// (taken over).
    func dispatch(_ id: String, by node: String) throws(ClusterError) -> String {
        try script(Self.dispatchScript, keys: [Self.record(id)], [node, String(Clock.now())])
    }

    /// Writes what `node` knows of an execution into its record, if the execution is still the
    /// node's and has not ended: false when another host took it over (fencing).
    func update(_ id: String, by node: String, _ fields: [String: String]) throws(ClusterError) -> Bool {
        try script(Self.updateScript, keys: [Self.record(id)], [node] + Self.flat(fields)) == "1"
    }

    /// Writes an execution's final record and acknowledges its entry, together, if it is still
    /// `node`'s: false when another host took it over, whose record stands.
    func finish(_ id: String, entry: String, by node: String, _ fields: [String: String]) throws(ClusterError) -> Bool {
        try script(Self.finishScript, keys: [Self.record(id), Self.queue], [node, entry, Self.group] + Self.flat(fields)) == "1"
    }

    /// Acknowledges an entry whose execution has ended elsewhere or was never to run, and takes it
    /// out of the stream, which holds only what is still to be done.
    func acknowledge(_ entry: String) throws(ClusterError) {
        _ = try calls([["XACK", Self.queue, Self.group, entry], ["XDEL", Self.queue, entry]])
    }

    func heartbeat(_ node: String, _ state: JSON) throws(ClusterError) {
        try call(["HSET", Self.nodes, node, state.compactText])
    }

    /// The oldest message left for `node`, taken out of its inbox; nil when there is none.
    func takeMessage(for node: String) throws(ClusterError) -> JSON? {
        while let text = Self.text(try call(["LPOP", Self.inbox(node)])) {
            if let message = try? JSON(parsing: text) { return message }
        }
        return nil
    }

    func setVerdict(_ token: String, _ verdict: String) throws(ClusterError) {
        try call(["SET", Self.verdict(token), verdict, "EX", "3600"])
    }

    func script(_ source: String, keys: [String], _ arguments: [String]) throws(ClusterError) -> String {
        let reply = try call(["EVAL", source, String(keys.count)] + keys + arguments)
        switch reply {
        case .error(let text): throw ClusterError("the cluster at \(url) refused a script: \(text)")
        case .integer(let value): return String(value)
        default: return Self.text(reply) ?? ""
        }
    }

    static func flat(_ fields: [String: String]) -> [String] {
        fields.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }
    }

    /// A record's status is final: Lua's test, shared by the scripts.
    static let finalTest = "local function final(s) return s == 'success' or s == 'error' or s == 'fault' or s == 'cancelled' end\n"

    static let updateScript = finalTest + """
        if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] or final(redis.call('HGET', KEYS[1], 'status')) then return 0 end
        redis.call('HSET', KEYS[1], unpack(ARGV, 2))
        return 1
        """

    static let finishScript = finalTest + """
        if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] or final(redis.call('HGET', KEYS[1], 'status')) then return 0 end
        redis.call('HSET', KEYS[1], unpack(ARGV, 4))
        redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
        redis.call('XDEL', KEYS[2], ARGV[2])
        return 1
        """

    static let takeScript = finalTest + """
        if not redis.call('HGET', KEYS[1], 'job') or final(redis.call('HGET', KEYS[1], 'status')) then return 'ended' end
        local node = redis.call('HGET', KEYS[1], 'node')
        if node and node ~= ARGV[1] then return 'other' end
        redis.call('HSET', KEYS[1], 'node', ARGV[1], 'taken', ARGV[2])
        return 'ok'
        """

    static let dispatchScript = finalTest + """
        if not redis.call('HGET', KEYS[1], 'job') or final(redis.call('HGET', KEYS[1], 'status')) then return 'ended' end
        if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 'other' end
        redis.call('HSET', KEYS[1], 'dispatched', ARGV[2])
        return 'ok'
        """

    /// A job the lost host had not dispatched runs again; one it had counts as started, whatever
    /// its status says, as the host may have died before it wrote "running".
    static let reclaimScript = finalTest + """
        local status = redis.call('HGET', KEYS[1], 'status')
        if not redis.call('HGET', KEYS[1], 'job') or final(status) then return 'ended' end
        local node = redis.call('HGET', KEYS[1], 'node')
        if node and node ~= ARGV[1] then return 'other' end
        local dispatched = redis.call('HGET', KEYS[1], 'dispatched')
        local started = status ~= 'queued' or (dispatched and dispatched ~= '')
        if not started or redis.call('HGET', KEYS[1], 'retry_on_host_loss') == '1' then
            redis.call('HSET', KEYS[1], 'node', ARGV[2], 'status', 'queued', 'lost_node', ARGV[1], 'taken', ARGV[3])
            redis.call('HDEL', KEYS[1], 'dispatched')
            return 'run'
        end
        redis.call('HSET', KEYS[1], 'status', 'fault', 'message', 'host ' .. ARGV[1] .. ' was lost', 'ended', ARGV[3], 'recorded_by', ARGV[2])
        return 'fault'
        """

    /// Deletes an ended record (KEYS[1]) and its id (ARGV[1]) from the list of executions (KEYS[2]).
    static let forgetScript = finalTest + """
        if not final(redis.call('HGET', KEYS[1], 'status')) then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        return 1
        """

    static let cancelScript = finalTest + """
        if final(redis.call('HGET', KEYS[1], 'status')) then return 'ended' end
        local node = redis.call('HGET', KEYS[1], 'node')
        if node then return 'node ' .. node end
        if not redis.call('HGET', KEYS[1], 'job') then return 'none' end
        redis.call('HSET', KEYS[1], 'status', 'cancelled', 'message', 'cancelled before any host took it', 'ended', ARGV[1])
        return 'cancelled'
        """

    func entries(streamReply reply: RedisReply) throws(ClusterError) -> [Entry] {
        if case .error(let text) = reply { throw ClusterError("the cluster at \(url) refused to hand out jobs: \(text)") }
        guard case .array(let streams) = reply, case .array(let stream)? = streams.first, stream.count == 2,
              case .array(let items) = stream[1] else { return [] }
        return items.compactMap(Self.entry)
    }

    /// One stream entry: [entry id, [field, value, ...]].
    static func entry(_ item: RedisReply) -> Entry? {
        guard case .array(let parts) = item, parts.count == 2, let entry = text(parts[0]), case .array(let fields) = parts[1] else { return nil }
        let values = pairs(fields)
        guard let id = values["id"], let job = values["job"] else { return nil }
        return Entry(entry: entry, id: id, job: job)
    }

    // MARK: Replies

    static func text(_ reply: RedisReply) -> String? {
        if case .string(let bytes) = reply { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    /// A flat list of names and values, as HGETALL and stream entries give them.
    static func pairs(_ items: [RedisReply]) -> [String: String] {
        var values: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let name = text(items[index]), let value = text(items[index + 1]) { values[name] = value }
            index += 2
        }
        return values
    }
}

/// An execution as the cluster records it.
public struct ClusterRecord: Sendable {
    public let id: String
    public let fields: [String: String]

    public var status: String? { fields["status"] }
    public var isFinal: Bool { status.flatMap(ExecutionStatus.init(rawValue:))?.isFinal == true }
    public var node: String? { fields["node"] }
    public var job: Job? { fields["job"].flatMap { try? Job(parsing: Array($0.utf8)) } }
    public var message: String? { fields["message"] }
    public var outputs: JSONObject? { fields["outputs"].flatMap { try? JSON(parsing: $0) }?.objectValue }
    public func time(_ field: String) -> Double? { fields[field].flatMap(Double.init) }
}
