#if canImport(Glibc)
import Glibc
#endif
import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// What must not change when flowspoold restarts, a runner dies early or an execution is removed
/// by hand: deadlines, runs, waits. Each as a user would check it.
@Suite("flowspoold across restarts, early deaths and removals")
struct SteadyStateTests {
    let test: TestSpool
    let scripts: TemporaryDirectory
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
        scripts = try TemporaryDirectory()
    }

    var supervisorLog: String { test.supervisorLogText }

    func lines(containing text: String) -> Int {
        supervisorLog.split(separator: "\n").filter { $0.contains(text) }.count
    }

    /// A flow that asks a person one question and ends when answered.
    func submitAskingFlow(timeout: Double? = nil) throws -> String {
        let path = try scripts.file("asks.py", "def handler(c):\n    c.task('INPUT', request='go on?').run()\n")
        return try test.spool.submit(Job(task: "FLOW", inputs: ["script": .string(path)], timeout: timeout))
    }

    /// The flow's INPUT child, once its request is open and the flow shows it waits.
    func openRequest(of flow: String) throws -> String {
        try waitUntil("the flow asks", timeout: 30, watching: [test.execution(flow).directory]) { test.execution(flow).children().count == 1 }
        let child = test.execution(flow).children()[0]
        try waitUntil("the request is open", timeout: 30, watching: [test.spool.requests]) { FileSystem.exists(test.spool.publishedRequestPath(child)) }
        try waitUntil("the flow waits", timeout: 30, watching: [test.execution(flow).directory]) { test.execution(flow).status() == .waiting }
        return child
    }

    func respond(_ id: String, _ value: String) throws -> CommandResult {
        try runProgram(TestEnvironment.program("respond"), ["--spool", test.root, id, value])
    }

    @Test("a flow's timeout does not count the time it waited for an answer, across a SIGKILL and restart of flowspoold")
    func timeoutSurvivesRestart() throws {
        try test.startSupervisor()
        let flow = try submitAskingFlow(timeout: 8)
        let child = try openRequest(of: flow)
        // Longer than the flow's timeout, all of it spent waiting for the answer.
        let waitingSince = Clock.monotonic()
        try waitUntil("10 s have passed", timeout: 20) { Clock.monotonic() - waitingSince >= 10 }
        _ = try test.stopSupervisor(signal: SIGKILL)
        try test.startSupervisor()
        #expect(try respond(child, "yes").exitCode == 0)
        let ended = try test.ended(flow)
        #expect(ended.status == .success, "\(ended.message)")
        #expect(try test.ended(child).outputs["response"] == "yes")
    }

    @Test("an INPUT child removed by hand while its flow waits ends the flow's wait with the child fault, said once in the log; the request leaves flowspool inputs")
    func removedParkedChild() throws {
        try test.startSupervisor()
        let flow = try submitAskingFlow()
        let child = try openRequest(of: flow)
        try FileSystem.removeTree(test.execution(child).directory)
        let ended = try test.ended(flow)
        #expect(ended.status == .error)
        #expect(ended.message.contains("\(child) (INPUT) ended fault"), "\(ended.message)")
        #expect(ended.message.contains("removed by hand"), "\(ended.message)")
        #expect(!FileSystem.exists(test.spool.publishedRequestPath(child)))
        let inputs = try flowspool("inputs", spool: test)
        #expect(inputs.exitCode == 0)
        #expect(!inputs.standardOutput.contains(child), "\(inputs.standardOutput)")
        #expect(lines(containing: "executions/\(child) vanished") == 1, "\(supervisorLog)")
    }

    @Test("a flow removed by hand while it waits: its runner is stopped, its child cancelled for that cause, and flowspool wait on it ends at once saying it is gone")
    func removedWaitingFlow() throws {
        try test.startSupervisor()
        let flow = try submitAskingFlow()
        let child = try openRequest(of: flow)
        let runner = try #require(test.execution(flow).runnerPID())
        let waiting = try StartedProgram(TestEnvironment.program("flowspool"), ["wait", "--spool", test.root, flow])
        try waitUntil("flowspool wait registers", timeout: 30, watching: [test.spool.waiters]) {
            ((try? FileSystem.listDirectory(test.spool.waiters)) ?? []).contains { name in
                name.hasSuffix(".ids") && ((try? FileSystem.readText(test.spool.waiters + "/" + name)) ?? nil).map { WaitRegistration(text: $0).ids == [flow] } == true
            }
        }
        try FileSystem.rename(test.execution(flow).directory, scripts.path + "/removed")  // as rm -r does, at once
        let cancelled = try test.ended(child)
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.message.contains("its flow \(flow) was removed by hand"), "\(cancelled.message)")
        let waited = try waiting.finish(within: 30)
        #expect(waited.exitCode == 1)
        #expect(waited.standardError.contains("\(flow) is gone from the spool"), "\(waited.standardError)")
        try waitUntil("the flow's runner is gone", timeout: 30) { kill(runner, 0) != 0 }
        #expect(lines(containing: "executions/\(flow) vanished") == 1, "\(supervisorLog)")
        #expect(try test.run("REST", ["url": .string(http + "/echo")]).status == .success)
    }

    @Test("50 runners killed before they began, with flowspoold watching: each execution is queued again and runs once, none ends fault")
    func killedBeforeBegunIsRun() throws {
        // A runner that keeps the runner contract but, on its first start for an execution, waits
        // to be killed before its first act; started again, it is the REST runner.
        let runners = try TemporaryDirectory()
        let script = """
            #!/bin/sh
            if [ ! -e unbegun.pid ]; then
                echo $$ > unbegun.pid
                exec sleep 600
            fi
            exec '\(TestEnvironment.binDirectory)/flowspool-task-REST'
            """
        try FileSystem.writeFile(runners.path + "/flowspool-task-HOLD", Array(script.utf8), mode: 0o755)
        try test.startSupervisor(["--max-running", "60"], runnerPath: runners.path + ":" + TestEnvironment.binDirectory)
        let ids = try (0..<50).map { _ in try test.spool.submit(Job(task: "HOLD", inputs: ["url": .string(http + "/echo")])) }
        var killed: Set<String> = []
        while killed.count < ids.count {
            try waitUntil("a runner waits to be killed", timeout: 60, watching: [test.spool.executions] + ids.map { test.execution($0).directory }) {
                ids.contains { !killed.contains($0) && FileSystem.exists(test.execution($0).directory + "/unbegun.pid") }
            }
            for id in ids where !killed.contains(id) {
                guard let text = try? FileSystem.readText(test.execution(id).directory + "/unbegun.pid"), let pid = ProcessID(text.trimming()) else { continue }
                #expect(test.execution(id).runnerPID() == nil, "the lock names a runner: it had begun")
                kill(pid, SIGKILL)
                killed.insert(id)
            }
        }
        for id in ids {
            let ended = try test.ended(id, within: 60)
            #expect(ended.status == .success, "\(id): \(ended.message)")
            #expect(test.execution(id).history().filter { $0.detail.contains("before it began") }.count == 1)
        }
    }

    @Test("a runner alive but not begun when flowspoold restarts is adopted; killed before it begins, its execution is run, not ended fault")
    func adoptedUnbegunIsRun() throws {
        let execution = test.execution("fresh")
        try FileSystem.makeDirectory(execution.directory)
        try FileSystem.writeFile(execution.path(.inputs), Array(#"{"task":"REST","inputs":{"url":"\#(http)/echo"}}"#.utf8))
        try execution.setStatus(.queued)
        try FileSystem.writeFile(execution.path(.lock), [])
        // A runner between its hand-over and its first act: it holds the lock, its pid is not in it.
        let holder = try StartedProgram("/usr/bin/flock", ["-o", execution.path(.lock), "sleep", "600"])
        try waitUntil("the lock is held", timeout: 30) { execution.isLockHeld() }
        try execution.setStatus(.running)
        try execution.recordHistory(.running, detail: "pid=\(holder.pid)")
        try test.startSupervisor()
        try waitUntil("flowspoold adopts it", timeout: 30, watching: [test.directory.path]) { lines(containing: "adopted fresh") == 1 }
        kill(holder.pid, SIGKILL)
        _ = try holder.finish(within: 30)
        let ended = try test.ended("fresh")
        #expect(ended.status == .success, "\(ended.message)")
        #expect(execution.history().contains { $0.status == .queued && $0.detail.contains("before it began") })
    }

    @Test("a runner that never begins is started five times, then its execution ends fault saying why")
    func neverBeginsEndsFault() throws {
        let runners = try TemporaryDirectory()
        try FileSystem.writeFile(runners.path + "/flowspool-task-BROKEN", Array("#!/bin/sh\nexit 127\n".utf8), mode: 0o755)
        try test.startSupervisor(runnerPath: runners.path + ":" + TestEnvironment.binDirectory)
        let ended = try test.run("BROKEN", [:])
        #expect(ended.status == .fault)
        #expect(ended.message.contains("exited with status 127 before it began, the 5th time"), "\(ended.message)")
        #expect(test.execution(ended.id).history().filter { $0.status == .running && $0.runnerPID != nil }.count == 5)
    }

    @Test("a cancel names its cause: flowspool cancel, flowspool run --timeout, the end of the flow that started it")
    func cancelNamesItsCause() throws {
        try test.startSupervisor()
        let slow = http + "/slow?seconds=60"
        let typed = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(slow), "timeout": 120]))
        try waitUntil("it runs", timeout: 30, watching: [test.execution(typed).directory]) { test.execution(typed).runnerPID() != nil }
        #expect(try flowspool("cancel", typed, spool: test).standardOutput == "cancelled\n")
        #expect(try test.ended(typed).message.trimming("\n") == "cancelled while running (flowspool cancel)")

        // An INPUT request, parked: no task timeout runs, so only the run's own --timeout ends it.
        let run = try flowspool("run", "--timeout", "3", "INPUT", "request=anyone?", spool: test)
        #expect(run.exitCode == 124, "\(run.standardError)")
        let asked = try #require(try FileSystem.listDirectory(test.spool.executions).first { $0 != typed })
        let unanswered = try test.ended(asked)
        #expect(unanswered.status == .cancelled)
        #expect(unanswered.message.trimming("\n") == "cancelled while it waited (flowspool run --timeout 3.0s)", "\(unanswered.message)")

        let path = try scripts.file("leaves.py", "def handler(c):\n    c.task('REST', url='\(slow)', timeout=120).runAsync()\n")
        let flow = try test.run("FLOW", ["script": .string(path)])
        #expect(flow.status == .success)
        let child = try #require(test.execution(flow.id).children().first)
        let orphan = try test.ended(child)
        #expect(orphan.status == .cancelled)
        #expect(orphan.message.contains("its flow \(flow.id) had ended (success)"), "\(orphan.message)")
        #expect(!orphan.message.contains("flowspool cancel"))
    }
}
