#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// Runner processes serve one execution after another (flowspoold(8) --reuse, --runner-max-use,
/// --runner-max-idle; flowspool-spool(5), "Runner processes").
@Suite("runner reuse")
struct RunnerReuseTests {
    let test: TestSpool
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
    }

    /// Runs a REST execution, and waits until flowspoold has dealt with its end.
    func rest() throws -> Ended {
        try settled(try test.run("REST", ["url": .string(http + "/echo")]))
    }

    /// Waits until flowspoold has dealt with the end of an execution (its log line "ID TASK STATUS in"),
    /// after which the runner that served it waits idle. The execution's final status comes a little
    /// earlier: the runner writes it, then leaves the execution and answers `done`.
    func settled(_ ended: Ended) throws -> Ended {
        try waitUntil("flowspoold notes the end of \(ended.id)", timeout: 10, watching: [test.directory.path]) {
            test.supervisorLogText.split(separator: "\n").contains { $0.contains(": \(ended.id) ") && $0.contains(" \(ended.status.rawValue) in ") }
        }
        return ended
    }

    /// The runner process and its use count, from the execution's history line "running pid=N use=K"
    /// (its latest, or its first).
    func servedBy(_ id: String, first: Bool = false) -> (pid: ProcessID, use: Int)? {
        let running = test.execution(id).history().filter { $0.status == .running }
        guard let entry = first ? running.first : running.last, let pid = entry.runnerPID,
              let use = entry.detailValue("use").flatMap({ Int($0) }) else { return nil }
        return (pid, use)
    }

    func isAlive(_ pid: ProcessID) -> Bool {
        FileSystem.exists("/proc/\(pid)") && ((try? FileSystem.readText("/proc/\(pid)/stat")) ?? nil)?.contains(") Z ") != true
    }

    /// What one of a process's descriptors points at ("socket:[123]", "/dev/null", a path).
    func openDescriptors(of pid: ProcessID) -> [Int32: String] {
        let numbers = ((try? FileSystem.listDirectory("/proc/\(pid)/fd")) ?? []).compactMap { Int32($0) }
        return Dictionary(uniqueKeysWithValues: numbers.map { ($0, (try? FileSystem.readLink("/proc/\(pid)/fd/\($0)")) ?? "") })
    }

    @Test("one runner process serves executions one after another, counting its uses in each history")
    func servesOneAfterAnother() throws {
        try test.startSupervisor()
        let ended = try (1...3).map { _ in try rest() }
        #expect(ended.allSatisfy { $0.status == .success })
        let served = ended.compactMap { servedBy($0.id) }
        #expect(served.count == 3)
        #expect(Set(served.map(\.pid)).count == 1)
        #expect(served.map(\.use) == [1, 2, 3])
    }

    @Test("between executions an idle runner holds no lock and no log, sits in the spool directory, and keeps no more descriptors than before")
    func carriesNothing() throws {
        try test.startSupervisor()
        let first = try rest()
        let pid = try #require(servedBy(first.id)?.pid)
        let afterFirst = openDescriptors(of: pid)
        for _ in 1...5 { _ = try rest() }
        let afterSixth = openDescriptors(of: pid)
        #expect(afterSixth.count == afterFirst.count, "\(afterFirst) then \(afterSixth)")
        #expect(afterSixth[3] == nil, "descriptor 3 (the lock) is open between executions: \(afterSixth)")
        #expect(!afterSixth.values.contains { $0.hasPrefix(test.root + "/executions/") }, "\(afterSixth)")
        #expect(afterSixth[0] == "/dev/null" && afterSixth[1] == "/dev/null")
        #expect(try FileSystem.readLink("/proc/\(pid)/cwd") == test.root)
        #expect(!test.execution(first.id).isLockHeld())
    }

    @Test("a shell flow on a reused runner sees its own execution: its id, its directory, no socket of the runner")
    func flowSeesOwnExecution() throws {
        try test.startSupervisor()
        let script = test.directory.path + "/whoami.sh"
        try FileSystem.writeFile(script, Array("""
            #!/bin/sh
            echo "execution=$FLOWSPOOL_EXECUTION"
            echo "directory=$(pwd)"
            for fd in /proc/$$/fd/*; do echo "fd=${fd##*/}:$(readlink "$fd")"; done
            """.utf8), mode: 0o755)
        let flows = try (1...2).map { _ in try settled(try test.run("FLOW", ["script": .string(script)])) }
        #expect(flows.allSatisfy { $0.status == .success })
        #expect(servedBy(flows[0].id)?.pid == servedBy(flows[1].id)?.pid)
        for flow in flows {
            let log = try #require(try FileSystem.readText(test.execution(flow.id).path(.log)))
            #expect(log.contains("execution=\(flow.id)\n"))
            #expect(log.contains("directory=\(test.execution(flow.id).directory)\n"))
            #expect(!log.contains(":socket:"), "the flow inherited a socket: \(log)")
        }
    }

    @Test("--runner-max-use 2: a runner process serves two executions and exits; the third gets a new one")
    func maxUse() throws {
        try test.startSupervisor(["--runner-max-use", "2"])
        let ended = try (1...3).map { _ in try rest() }
        let served = ended.compactMap { servedBy($0.id) }
        #expect(served.map(\.use) == [1, 2, 1])
        #expect(served[0].pid == served[1].pid && served[2].pid != served[0].pid)
        try waitUntil("the used-up runner exits", timeout: 10) { !isAlive(served[0].pid) }
    }

    @Test("--runner-max-idle 1: an idle runner process exits after a second; the next execution starts a new one")
    func maxIdle() throws {
        try test.startSupervisor(["--runner-max-idle", "1"])
        let first = try rest()
        let pid = try #require(servedBy(first.id)?.pid)
        try waitUntil("the idle runner exits", timeout: 10) { !isAlive(pid) }
        let next = try rest()
        #expect(next.status == .success)
        #expect(servedBy(next.id)?.pid != pid)
    }

    @Test("an idle runner process that dies is noted, and the next execution gets a new one")
    func idleRunnerDies() throws {
        try test.startSupervisor()
        let first = try rest()
        let pid = try #require(servedBy(first.id)?.pid)
        kill(pid, SIGKILL)
        try waitUntil("flowspoold notices", timeout: 10, watching: [test.directory.path]) {
            test.supervisorLogText.contains("the idle REST runner (pid \(pid)) was killed by SIGKILL")
        }
        let next = try rest()
        #expect(next.status == .success)
        #expect(servedBy(next.id).map { $0.pid != pid && $0.use == 1 } == true)
    }

    @Test("a runner process killed while it serves ends only that execution, as fault; the next runs on a new process")
    func crashEndsOnlyItsExecution() throws {
        try test.startSupervisor()
        let warm = try rest()
        let pid = try #require(servedBy(warm.id)?.pid)
        let slow = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=30")]))
        try waitUntil("the slow one runs on the warm runner", timeout: 10, watching: [test.execution(slow).directory]) {
            test.execution(slow).runnerPID() == pid
        }
        kill(pid, SIGKILL)
        let ended = try test.ended(slow)
        #expect(ended.status == .fault)
        #expect(ended.message.contains("the runner was killed by SIGKILL"))
        let next = try rest()
        #expect(next.status == .success)
        #expect(servedBy(next.id)?.pid != pid)
    }

    @Test("an INPUT execution parks and its runner serves the next one; the answer runs it again on a runner")
    func parkingFreesTheRunner() throws {
        try test.startSupervisor()
        let asking = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "name?"]))
        // Published in requests/ once flowspoold has dealt with the parking, the runner idle by then.
        try waitUntil("it parks", timeout: 10, watching: [test.root + "/requests"]) { FileSystem.exists(test.root + "/requests/\(asking).json") }
        let pid = try #require(servedBy(asking)?.pid)
        let other = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "other?", "timeout": 0.01]))
        _ = try test.ended(other)
        #expect(servedBy(other, first: true)?.pid == pid)
        let answered = try runProgram(TestEnvironment.program("respond"), ["--spool", test.root, asking, "Ada"])
        #expect(answered.exitCode == 0, "\(answered.standardError)")
        let ended = try test.ended(asking)
        #expect(ended.status == .success)
        #expect(ended.outputs["response"] == "Ada")
    }

    @Test("--reuse '' starts a runner process for each execution")
    func withoutReuse() throws {
        try test.startSupervisor(["--reuse", ""])
        let ended = try (1...2).map { _ in try rest() }
        #expect(ended.allSatisfy { $0.status == .success })
        let lines = ended.compactMap { test.execution($0.id).history().last { $0.status == .running } }
        #expect(lines.count == 2 && lines.allSatisfy { !$0.detail.contains("use=") })
        #expect(lines[0].runnerPID != lines[1].runnerPID)
    }

    @Test("SIGHUP lets idle runner processes go, so that runners replaced on disk are started anew")
    func hangUpRetiresIdle() throws {
        try test.startSupervisor()
        let first = try rest()
        let pid = try #require(servedBy(first.id)?.pid)
        kill(try #require(test.supervisorPID), SIGHUP)
        try waitUntil("the idle runner exits", timeout: 10) { !isAlive(pid) }
        #expect(servedBy(try rest().id)?.use == 1)
    }
}
