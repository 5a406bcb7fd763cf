#if canImport(Glibc)
import Glibc
#endif
import Basics
import Cluster
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// Several hosts, one queue (flowspool-cluster(7)): three spools and node names on one machine,
/// each with its flowspoold, sharing a redis-server of the test's own.
@Suite("cluster")
struct ClusterTests {
    let redis: RedisServer
    let http = TestEnvironment.httpURL
    /// Keys of the HTTP server's /count/KEY, this test's own.
    let prefix = "cluster-\(UInt32.random(in: 0...UInt32.max))"

    init() throws {
        redis = try RedisServer()
    }

    /// A host: a spool and a flowspoold in the cluster under `name`.
    func host(_ name: String, _ extra: [String] = []) throws -> TestSpool {
        let spool = try TestSpool()
        try spool.startSupervisor(["--cluster", redis.url, "--node", name, "--node-timeout", "3"] + extra)
        return spool
    }

    func store() throws -> ClusterStore { try ClusterStore(try ClusterURL(parsing: redis.url)) }

    func cluster(_ arguments: String...) throws -> CommandResult {
        try runProgram(TestEnvironment.program("flowspool"), ["--cluster", redis.url] + arguments, timeout: 60)
    }

    func counting(_ key: String) -> Job {
        Job(task: "REST", inputs: ["url": .string(http + "/count/\(prefix)-\(key)"), "timeout": 120])
    }

    /// The requests the HTTP server counted for this test's keys.
    func counts() throws -> [String: Int] {
        let text = try runProgram("/usr/bin/curl", ["-s", http + "/counts"], timeout: 10).standardOutput
        var counts: [String: Int] = [:]
        for (key, value) in try JSON(parsing: text).objectValue ?? [:] where key.hasPrefix(prefix + "-") {
            counts[String(key.dropFirst(prefix.count + 1))] = value.intValue
        }
        return counts
    }

    /// Waits until every id's record is final, and returns the records.
    func ended(_ ids: [String], within seconds: Double = 60) throws -> [String: ClusterRecord] {
        let store = try store()
        var records: [String: ClusterRecord] = [:]
        try waitUntil("\(ids.count) executions end in the cluster", timeout: seconds) {
            for id in ids where records[id] == nil {
                if let record = try? store.record(id), record.isFinal { records[id] = record }
            }
            return records.count == ids.count
        }
        return records
    }

    /// `node`'s last heartbeat in flowspool:nodes (when, how much it holds and which), or nil
    /// before its first.
    func heartbeat(of node: String) throws -> JSON? {
        try? JSON(parsing: try redis.cli("HGET", "flowspool:nodes", node))
    }

    /// When `node` last beat (its heartbeat's `seen`), or nil before its first.
    func lastBeat(of node: String) throws -> Double? {
        try heartbeat(of: node)?["seen"]?.doubleValue
    }

    /// Waits until `node`'s bridge has gone through a whole round begun after this call: a round
    /// opens with the heartbeat when one is due, so the second heartbeat written from now on
    /// closes a round that began after now (its messages, write-backs, dispatches and takes).
    func awaitRound(of node: String) throws {
        var beats: Set<Double> = []
        if let before = try lastBeat(of: node) { beats.insert(before) }
        let already = beats.count
        try waitUntil("\(node) beats twice more", timeout: 30) {
            if let seen = try? lastBeat(of: node) { beats.insert(seen) }
            return beats.count >= already + 2
        }
    }

    /// How often each host has said it lost the cluster ("...; local work goes on").
    func outages(_ hosts: [TestSpool]) -> [Int] {
        hosts.map { $0.supervisorLogText.ranges(of: "local work goes on").count }
    }

    /// Waits until every host has said it lost the cluster since `before` (an `outages` count).
    func awaitNoticed(_ hosts: [TestSpool], since before: [Int]) throws {
        try waitUntil("every host notices the cluster is out of reach", timeout: 30) {
            zip(outages(hosts), before).allSatisfy { $0 > $1 }
        }
    }

    @Test("300 REST jobs submitted to the cluster each run exactly once, spread over three hosts; the commands read the cluster's records")
    func exactlyOnce() throws {
        let hosts = try ["a", "b", "c"].map { try host($0) }
        let store = try store()
        let ids = try (0..<300).map { try store.submit(counting(String($0))) }
        let records = try ended(ids, within: 120)
        #expect(records.values.allSatisfy { $0.status == "success" })
        let counted = try counts()
        #expect(counted.count == 300 && counted.values.allSatisfy { $0 == 1 }, "\(counted.filter { $0.value != 1 })")
        let perNode = Dictionary(grouping: records.values, by: { $0.node ?? "?" }).mapValues(\.count)
        #expect(Set(perNode.keys) == ["a", "b", "c"], "\(perNode)")

        let ran = try cluster("run", "REST", "url=\(http)/echo", "method=post", "data=through the cluster")
        #expect(ran.exitCode == 0, "\(ran.standardError)")
        #expect(try JSON(parsing: ran.standardOutput)["json"]?["body"] == "through the cluster")
        let id = String(try #require(ran.standardError.split(separator: "\n").first { $0.hasPrefix("flowspool: execution ") }).dropFirst(21))
        #expect(try cluster("status", id).standardOutput == "success\n")
        #expect(try cluster("wait", id).exitCode == 0)
        let shown = try cluster("show", id).standardOutput
        #expect(shown.contains("status:    success") && shown.contains("node:      "))
        #expect(try cluster("list", "--limit", "1").standardOutput.contains(id))
        let listed = try cluster("list", "--status", "success").standardOutput.split(separator: "\n").dropFirst()
        #expect(Set(listed.map { String($0.prefix { $0 != " " }) }) == Set(ids + [id]))
        let nodes = try cluster("nodes").standardOutput
        #expect(["a", "b", "c"].allSatisfy { name in nodes.split(separator: "\n").contains { $0.hasPrefix(name + " ") } }, "\(nodes)")
        // The password of the URL is a protected value: in no log and no listing.
        for host in hosts {
            #expect(!host.supervisorLogText.contains(redis.password))
            #expect(host.supervisorLogText.contains("joined the cluster at redis://***@127.0.0.1:\(redis.port)/0"))
        }
        #expect(!nodes.contains(redis.password) && !shown.contains(redis.password))
    }

    @Test("a host SIGKILLed while it runs: its queued job runs elsewhere, its running one ends fault 'host a was lost'; restarted, it neither reruns nor overwrites")
    func hostLost() throws {
        let a = try host("a", ["--max-running", "2"])
        // A job of its own holds one of a's two slots, so that of the two it takes from the cluster one runs and one waits.
        let own = try a.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=30"), "timeout": 120]))
        // Running before the cluster's jobs come: a loaded machine may start it later than a takes them.
        try waitUntil("a runs its own job", timeout: 20) { a.execution(own).status() == .running }
        let store = try store()
        let running = try store.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=8"), "timeout": 120]))
        try waitUntil("a runs \(running)", timeout: 20) { (try? store.record(running))?.status == "running" }
        let waiting = try store.submit(counting("waiting"))
        // a takes it, but with both runner slots busy does not dispatch it into its spool.
        try waitUntil("a takes \(waiting)", timeout: 20) { (try? store.record(waiting))?.node == "a" }
        // A heartbeat that lists it comes after the round that took it tried to dispatch it.
        try waitUntil("a's heartbeat lists \(waiting)", timeout: 20) {
            ((try? heartbeat(of: "a")) ?? nil)?["executions"]?.arrayValue?.contains(.string(waiting)) == true
        }
        #expect(!a.spool.knows(waiting))
        #expect(try store.record(waiting)?.fields["dispatched"] == nil)
        #expect(try store.record(running)?.fields["dispatched"] != nil)
        try a.stopSupervisor(signal: SIGKILL)

        let b = try host("b")
        let records = try ended([running, waiting], within: 40)
        #expect(records[running]?.status == "fault")
        #expect(records[running]?.message == "host a was lost")
        #expect(records[waiting]?.status == "success")
        #expect(records[waiting]?.node == "b")
        #expect(try counts()["waiting"] == 1)

        // a comes back: a's runner, which went on, ends its execution here without touching the
        // cluster's record, and what the cluster gave b does not run here.
        try a.startSupervisor(["--cluster", redis.url, "--node", "a", "--node-timeout", "3"])
        _ = try a.waitForEnd(of: running, timeout: 30)
        try awaitRound(of: "a")
        #expect(try counts()["waiting"] == 1, "a's log: \(a.supervisorLogText)")
        #expect(!a.spool.knows(waiting))
        #expect(try store.record(running)?.status == "fault")
        #expect(try store.record(waiting)?.node == "b")
        _ = b
    }

    @Test("what a job protects, inputs and outputs, shows as **** in run, show and list --json over the cluster, and its outputs so in the record")
    func protectedOutputs() throws {
        let a = try host("a")
        let secret = "s3cret-\(prefix)"
        let ran = try cluster("run", "REST", "url=\(http)/echo", "method=post", "data=\(secret)", #"protect_inputs:=["data"]"#, #"protect_outputs:=["json", "text"]"#)
        #expect(ran.exitCode == 0, "\(ran.standardError)")
        let id = String(try #require(ran.standardError.split(separator: "\n").first { $0.hasPrefix("flowspool: execution ") }).dropFirst(21))
        #expect(try JSON(parsing: ran.standardOutput)["json"] == "****", "\(ran.standardOutput)")
        let shown = try cluster("show", id).standardOutput
        let listed = try cluster("list", "--json").standardOutput
        #expect(shown.contains("status:    success"), "\(shown)")
        #expect(try JSON(parsing: listed).arrayValue?.first { $0["id"] == .string(id) }?["outputs"]?["json"] == "****", "\(listed)")
        for output in [ran.standardOutput, shown, listed] {
            #expect(!output.contains(secret), "the protected output shows: \(output)")
        }
        let record = try #require(try store().record(id))
        #expect(record.outputs?["json"] == "****")
        // The job itself keeps its inputs whole: the host that takes it runs it with them.
        #expect(record.fields.filter { $0.key != "job" }.values.allSatisfy { !$0.contains(secret) }, "the record holds the secret: \(record.fields)")
        _ = a
    }

    @Test("a lost host's job recorded as dispatched ends fault even if it never said running; one it had not dispatched runs elsewhere, once")
    func dispatchedCountsAsStarted() throws {
        // Host "gone" took two jobs and died: it had dispatched one (its runner may have started
        // before it could write "running") and not the other.
        try redis.cli("XGROUP", "CREATE", "flowspool:queue", "hosts", "0", "MKSTREAM")
        let now = String(Clock.now())
        for (id, dispatched) in [("started-maybe", true), ("not-started", false)] {
            let job = counting(id).document().compactText
            try redis.cli("HSET", "flowspool:execution:" + id, "job", job, "task", "REST", "status", "queued", "submitted", now,
                          "retry_on_host_loss", "0", "node", "gone", "taken", now)
            if dispatched { try redis.cli("HSET", "flowspool:execution:" + id, "dispatched", now) }
            try redis.cli("ZADD", "flowspool:executions", now, id)
            try redis.cli("XADD", "flowspool:queue", "*", "id", id, "job", job)
        }
        try redis.cli("XREADGROUP", "GROUP", "hosts", "gone", "COUNT", "2", "STREAMS", "flowspool:queue", ">")

        let b = try host("b")
        let records = try ended(["started-maybe", "not-started"], within: 40)
        #expect(records["started-maybe"]?.status == "fault")
        #expect(records["started-maybe"]?.message == "host gone was lost")
        #expect(records["not-started"]?.status == "success")
        #expect(records["not-started"]?.node == "b")
        let counted = try counts()
        #expect(counted["started-maybe"] == nil && counted["not-started"] == 1, "\(counted)")
        #expect(!b.spool.knows("started-maybe"))
    }

    @Test("an INPUT request held by one host is answered with respond --cluster, through that host")
    func inputThroughTheCluster() throws {
        let hosts = try ["a", "b"].map { try host($0) }
        let store = try store()
        let id = try store.submit(Job(task: "INPUT", inputs: ["request": "ship it?"]))
        try waitUntil("the request waits", timeout: 20) { (try? store.record(id))?.status == "waiting" }
        let answered = try runProgram(TestEnvironment.program("respond"), ["--cluster", redis.url, id, "ship"], timeout: 30)
        #expect(answered.exitCode == 0, "\(answered.standardError)")
        let record = try #require(try ended([id])[id])
        #expect(record.status == "success")
        #expect(record.outputs?["response"] == "ship")
        let holder = try #require(hosts.first { $0.execution(id).exists })
        #expect(holder.execution(id).outputs()?["response"] == "ship")
        let again = try runProgram(TestEnvironment.program("respond"), ["--cluster", redis.url, id, "again"], timeout: 30)
        #expect(again.exitCode == 1)
        #expect(again.standardError.contains("has ended: success"))
    }

    @Test("cancel --cluster: a job no host took ends at once; a running one is cancelled by its host; nodes says what each holds")
    func cancel() throws {
        let store = try store()
        let untaken = try store.submit(counting("never"))
        let cancelled = try cluster("cancel", untaken)
        #expect(cancelled.exitCode == 0, "\(cancelled.standardError)")
        #expect(cancelled.standardOutput == "cancelled\n")
        let a = try host("a")
        let slow = try store.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=60"), "timeout": 120]))
        try waitUntil("a runs it", timeout: 20) { (try? store.record(slow))?.status == "running" }
        try waitUntil("nodes shows it held by a", timeout: 10) {
            (try? cluster("nodes"))?.standardOutput.split(separator: "\n").contains { $0.hasPrefix("a ") && $0.hasSuffix(slow) } == true
        }
        let stopped = try cluster("cancel", slow)
        #expect(stopped.exitCode == 0, "\(stopped.standardError) a's log: \(a.supervisorLogText)")
        #expect(try store.record(slow)?.status == "cancelled")
        #expect(a.execution(slow).status() == .cancelled)
        // An entry leaves the queue when its job is skipped, or once it has run: either way the
        // count is final then.
        try waitUntil("the entry of \(untaken) leaves the queue", timeout: 20) {
            (try? redis.cli("XRANGE", "flowspool:queue", "-", "+"))?.contains(untaken) == false
        }
        #expect(try counts()["never"] == nil)
        #expect(!a.spool.knows(untaken))
    }

    @Test("gc --cluster deletes the records ended before the cutoff and forgets silent hosts that hold nothing; what still runs stays; a queued entry whose record is gone is not run")
    func gc() throws {
        let a = try host("a")
        let store = try store()
        let done = try ["one", "two"].map { try store.submit(counting($0)) }
        _ = try ended(done)
        let asking = try store.submit(Job(task: "INPUT", inputs: ["request": "keep me?"]))
        try waitUntil("the request waits", timeout: 20) { (try? store.record(asking))?.status == "waiting" }
        try redis.cli("HSET", "flowspool:nodes", "retired", #"{"seen":1000000000,"held":0}"#)

        let dry = try cluster("gc", "--older-than", "0", "--dry-run")
        #expect(dry.exitCode == 0, "\(dry.standardError)")
        let said = dry.standardOutput.split(separator: "\n")
        #expect(said.count == 3, "\(dry.standardOutput)records: \(done.map { (try? store.record($0))??.fields ?? [:] })")
        for id in done { #expect(said.contains { $0.hasPrefix("would remove \(id) (success, ended ") }, "\(dry.standardOutput)") }
        #expect(said.contains { $0.hasPrefix("would forget host retired (last seen 2001-09-09T01:46:40") }, "\(dry.standardOutput)")
        #expect(try done.allSatisfy { try store.record($0) != nil })

        let removed = try cluster("gc", "--older-than", "0")
        #expect(removed.exitCode == 0, "\(removed.standardError)")
        for id in done { #expect(removed.standardOutput.contains("removed \(id) (success, ended "), "\(removed.standardOutput)") }
        #expect(removed.standardOutput.contains("forgot host retired (last seen 2001-09-09T01:46:40"), "\(removed.standardOutput)")
        #expect(try done.allSatisfy { try store.record($0) == nil })
        #expect(try store.record(asking)?.status == "waiting")
        let nodes = try cluster("nodes").standardOutput
        #expect(nodes.contains("a ") && !nodes.contains("retired"), "\(nodes)")
        #expect(try cluster("list").standardOutput.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != " " }) } == [asking])

        // An entry still in the queue whose record gc took (a host stopped between recording a
        // lost host's job as fault and acknowledging its entry) is acknowledged, not run.
        let ghost = try redis.cli("XADD", "flowspool:queue", "*", "id", "ghost", "job", counting("ghost").document().compactText).trimming("\n")
        try waitUntil("the entry \(ghost) is taken and acknowledged", timeout: 20) {
            (try? redis.cli("XRANGE", "flowspool:queue", ghost, ghost))?.contains("ghost") == false
        }
        // Acknowledged at once when skipped, and only once ended when run: the count is final.
        #expect(try counts()["ghost"] == nil)
        #expect(try store.record("ghost") == nil)
        #expect(!a.spool.knows("ghost"))

        let archived = try cluster("gc", "--older-than", "0", "--archive", a.root + "/archive")
        #expect(archived.exitCode == 64)
        #expect(archived.standardError.contains("--archive is not supported with --cluster: a cluster's records are deleted from Redis, not archived"))
    }

    @Test("an id a host's own job has: the cluster's job of that id ends error saying so, and the host's job is neither published, answered nor fenced")
    func idTakenByALocalJob() throws {
        let a = try host("a")
        let own = try a.spool.submit(Job(task: "INPUT", inputs: ["request": "mine?"]), id: "nightly")
        try waitUntil("a's own request waits", timeout: 20) { a.execution(own).status() == .waiting }
        let store = try store()
        let id = try store.submit(counting("nightly"), id: "nightly")
        let record = try #require(try ended([id])[id])
        #expect(record.status == "error")
        #expect(record.message == "not admitted by a: the id nightly is taken there by a job of that host's own; submit it again under another id")
        #expect(try counts()["nightly"] == nil)

        let answered = try runProgram(TestEnvironment.program("respond"), ["--cluster", redis.url, id, "yes"], timeout: 30)
        #expect(answered.exitCode == 1)
        let joins = { a.supervisorLogText.ranges(of: "joined the cluster").count }
        let joined = joins()
        try a.stopSupervisor()
        try a.startSupervisor(["--cluster", redis.url, "--node", "a", "--node-timeout", "3"])
        // Joined (its local work fenced before), and a whole round served: its inbox read, its
        // pending entries taken up.
        try waitUntil("a joins again", timeout: 20) { joins() > joined }
        try awaitRound(of: "a")
        #expect(a.execution(own).status() == .waiting, "a's log: \(a.supervisorLogText)")
        #expect(a.execution(own).outputs()?["response"] == nil)
    }

    @Test("a host whose disk is full loses nothing and is not taken for lost: what it took waits under its name and runs there once there is room")
    func fullDisk() throws {
        let small = try TestSpool(diskSize: 4 << 20)
        try small.startSupervisor(["--cluster", redis.url, "--node", "small", "--node-timeout", "3"])
        try waitUntil("small joins", timeout: 20) { small.supervisorLogText.contains("joined the cluster") }
        try small.fillDisk()
        let store = try store()
        let ids = try (0..<3).map { try store.submit(counting("full-\($0)")) }
        try waitUntil("small takes them", timeout: 20) { ids.allSatisfy { (try? store.record($0))?.node == "small" } }
        // Another host, there long enough to judge small lost if its heartbeat stopped.
        let other = try host("other")
        try waitUntil("other joins", timeout: 20) { other.supervisorLogText.contains("joined the cluster") }
        // small goes on beating with its disk full, for longer than the node timeout (3 s) after
        // other joined, and other then looks for lost hosts once more.
        let joined = Clock.now()
        try waitUntil("small beats on for 4 s", timeout: 30) { ((try? lastBeat(of: "small")) ?? nil).map { $0 >= joined + 4 } == true }
        try awaitRound(of: "other")
        #expect(try ids.allSatisfy { try store.record($0)?.isFinal == false && store.record($0)?.node == "small" })
        #expect(small.supervisorLogText.contains("cannot drop"), "\(small.supervisorLogText)")
        #expect(!other.supervisorLogText.contains("taken over from small"))
        try small.freeDisk()
        let records = try ended(ids, within: 60)
        #expect(records.values.allSatisfy { $0.status == "success" && $0.node == "small" })
        #expect(try counts().filter { $0.key.hasPrefix("full-") }.values.sorted() == [1, 1, 1])
    }

    @Test("redis-server restarted during a burst (append-only): nothing lost, nothing run twice")
    func redisRestarted() throws {
        let hosts = try ["a", "b", "c"].map { try host($0) }
        let store = try store()
        let ids = try (0..<100).map { try store.submit(counting("burst-\($0)")) }
        try waitUntil("some have ended", timeout: 30) { ((try? counts()) ?? [:]).count >= 20 }
        let before = outages(hosts)
        try redis.stop()
        try awaitNoticed(hosts, since: before)
        try redis.start()
        let records = try ended(ids, within: 120)
        #expect(records.values.allSatisfy { $0.status == "success" })
        let counted = try counts()
        #expect(counted.count == 100 && counted.values.allSatisfy { $0 == 1 }, "\(counted.filter { $0.value != 1 })")
        _ = hosts
    }

    @Test("Redis unreachable until every host has noticed (a command's 5 s, past the node timeout): the hosts go on with what they run, and the records arrive afterwards")
    func redisAway() throws {
        let hosts = try ["a", "b"].map { try host($0) }
        let store = try store()
        let ids = try (0..<6).map { _ in try store.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=2"), "timeout": 60])) }
        try waitUntil("the hosts run them", timeout: 20) { ids.allSatisfy { (try? store.record($0))?.status == "running" } }
        let before = outages(hosts)
        redis.freeze()
        defer { redis.thaw() }
        try waitUntil("the hosts run them all to their end meanwhile", timeout: 20) {
            ids.allSatisfy { id in hosts.contains { $0.execution(id).status() == .success } }
        }
        try awaitNoticed(hosts, since: before)
        redis.thaw()
        let records = try ended(ids, within: 60)
        #expect(records.values.allSatisfy { $0.status == "success" })
    }
}
