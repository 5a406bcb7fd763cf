#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

@Suite("flowspoold")
struct SupervisorTests {
    let test: TestSpool
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
    }

    func slowJob(seconds: Double) -> Job {
        Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=\(seconds)"), "timeout": 120])
    }

    /// Submits a slow REST job and returns its id once its runner runs.
    func runningSlowJob(seconds: Double) throws -> String {
        let id = try test.spool.submit(slowJob(seconds: seconds))
        // Begun: its pid in the lock file, its first act (a runner killed before that is run again).
        try waitUntil("the runner has begun", timeout: 10, watching: [test.execution(id).directory]) { test.execution(id).runnerPID() != nil }
        return id
    }

    func statuses(_ ids: [String]) -> [ExecutionStatus?] {
        ids.map { test.execution($0).status() }
    }

    func runnerPID(_ id: String) -> ProcessID? {
        test.execution(id).history().last { $0.status == .running }?.runnerPID
    }

    @Test("bad job files go to failed/ beside a .why naming the problem, and the next good job still runs")
    func badJobs() throws {
        try test.startSupervisor()
        let garbage = [UInt8](repeating: 0xff, count: Job.maximumSize + 1)
        try test.drop("not-json.json", bytes: Array("{\"task\": \"REST\",".utf8))
        try test.drop("no-task.json", ["inputs": ["url": "http://127.0.0.1/"]])
        try test.drop("unknown-type.json", ["task": "TELEPORT", "inputs": [:]])
        try test.drop("bad-inputs.json", ["task": "REST", "inputs": ["http://127.0.0.1/"]])
        try test.drop("garbage.json", bytes: garbage)
        try test.drop("own-parent.json", ["task": "REST", "parent": "own-parent", "inputs": ["url": .string(http + "/echo")]])
        let good = try test.run("REST", ["url": .string(http + "/echo")])
        #expect(good.status == .success)
        for name in ["not-json", "no-task", "unknown-type", "bad-inputs", "garbage", "own-parent"] {
            _ = try test.waitForEnd(of: name, timeout: 10)
        }
        #expect(test.failureReason("not-json.json")?.contains("the job file is not JSON: unexpected end of input") == true)
        #expect(test.failureReason("no-task.json")?.contains("the job has no 'task'") == true)
        #expect(test.failureReason("unknown-type.json")?.contains("unknown task type 'TELEPORT': no executable flowspool-task-TELEPORT") == true)
        #expect(test.failureReason("bad-inputs.json")?.contains("'inputs' must be a dictionary, not a list") == true)
        #expect(test.failureReason("garbage.json")?.contains("more than the limit of 64 MiB") == true)
        #expect(FileSystem.exists(test.spool.failed + "/garbage.json"))
        #expect(test.failureReason("own-parent.json")?.contains("'parent' names the job itself ('own-parent')") == true, "\(test.failureReason("own-parent.json") ?? "admitted")")
        #expect(try FileSystem.listDirectory(test.spool.incoming).isEmpty)
        #expect(test.supervisorIsRunning)
    }

    @Test("a job file named +NAME gets a generated id and the name; a taken id is refused")
    func naming() throws {
        try test.startSupervisor()
        try test.drop("+nightly.json", ["task": "REST", "inputs": ["url": .string(http + "/echo")]])
        try waitUntil("the job is admitted", timeout: 10, watching: [test.spool.executions]) { (try? FileSystem.listDirectory(test.spool.executions).count) == 1 }
        let id = try #require(try FileSystem.listDirectory(test.spool.executions).first)
        #expect(id.count == 10)
        #expect(try test.execution(id).job().name == "nightly")
        _ = try test.ended(id)
        try test.drop("\(id).json", ["task": "REST", "inputs": ["url": .string(http + "/echo")]])
        try waitUntil("the duplicate is refused", timeout: 10, watching: [test.spool.failed]) { test.failureReason("\(id).json") != nil }
        #expect(test.failureReason("\(id).json")?.contains("an execution with id '\(id)' exists already") == true)
    }

    @Test("a runner of the user's own, a shell script on the runner path, is a task type")
    func shellRunner() throws {
        let runners = try TemporaryDirectory()
        let script = """
            #!/bin/sh
            # flowspool-task-GREET: greets the input 'who'.
            echo $$ >&3
            who=$(sed -n 's/^ *"who": *"\\([^"]*\\)".*/\\1/p' inputs.json)
            echo "greeting $who"
            printf '{"greeting": "hello, %s"}\\n' "$who" > "$FLOWSPOOL_SPOOL/tmp/greet.$$" && mv "$FLOWSPOOL_SPOOL/tmp/greet.$$" outputs.json
            echo success > "$FLOWSPOOL_SPOOL/tmp/greet.$$" && mv "$FLOWSPOOL_SPOOL/tmp/greet.$$" status
            """
        try FileSystem.writeFile(runners.path + "/flowspool-task-GREET", Array(script.utf8), mode: 0o755)
        try test.startSupervisor(runnerPath: runners.path + ":" + TestEnvironment.binDirectory)
        let ended = try test.run("GREET", ["who": "world"])
        #expect(ended.status == .success)
        #expect(ended["greeting"] == "hello, world")
        #expect(try FileSystem.readText(test.execution(ended.id).path(.log)) == "greeting world\n")
        #expect(try test.run("REST", ["url": .string(http + "/echo")]).status == .success)
    }

    @Test("two job files that name the same id: one is admitted, the other goes to failed/, none is lost")
    func sameIDTwice() throws {
        try test.drop("twin", ["task": "REST", "inputs": ["url": .string(http + "/echo")]])
        try test.drop("twin.json", ["task": "REST", "inputs": ["url": .string(http + "/echo")]])
        try test.startSupervisor()
        // Waited for by its directory: failed/twin.json.why exists too, for the other file.
        try waitUntil("twin ends", timeout: 30, watching: [test.execution("twin").directory]) { test.execution("twin").status()?.isFinal == true }
        #expect(test.execution("twin").status() == .success)
        let failed = try FileSystem.listDirectory(test.spool.failed).sorted()
        #expect(failed.count == 2)
        let reason = try #require(failed.first { $0.hasSuffix(".why") }.flatMap { try FileSystem.readText(test.spool.failed + "/" + $0) })
        #expect(reason.contains("an execution with id 'twin' exists already") || reason.contains("another job with id 'twin' is being admitted"))
    }

    @Test("runners are found on a relative --runner-path too")
    func relativeRunnerPath() throws {
        let bin = TestEnvironment.binDirectory
        let parent = String(bin[..<bin.lastIndex(of: "/")!])
        let relative = String(bin[bin.index(after: bin.lastIndex(of: "/")!)...])
        try test.startSupervisor(runnerPath: relative, workingDirectory: parent)
        #expect(try test.run("REST", ["url": .string(http + "/echo")]).status == .success)
    }

    @Test("a runner that began and exits leaving a process that holds the lock: that process is killed and the execution ends fault once")
    func leftoverProcess() throws {
        let runners = try TemporaryDirectory()
        try FileSystem.writeFile(runners.path + "/flowspool-task-LEAVER", Array("#!/bin/sh\necho $$ >&3\nsleep 60 &\nexit 0\n".utf8), mode: 0o755)
        try test.startSupervisor(runnerPath: runners.path)
        let ended = try test.run("LEAVER", [:])
        #expect(ended.status == .fault)
        #expect(ended.message.contains("the runner exited with status 0 without ending the execution"))
        try waitUntil("the leftover process is gone", timeout: 10) { !test.execution(ended.id).isLockHeld() }
        #expect(test.execution(ended.id).history().filter { $0.status.isFinal }.count == 1)
    }

    @Test("a runner that began and exits without ending its execution leaves it fault")
    func runnerWithoutEnding() throws {
        let runners = try TemporaryDirectory()
        try FileSystem.writeFile(runners.path + "/flowspool-task-QUITTER", Array("#!/bin/sh\necho $$ >&3\nexit 3\n".utf8), mode: 0o755)
        try test.startSupervisor(runnerPath: runners.path)
        let ended = try test.run("QUITTER", [:])
        #expect(ended.status == .fault)
        #expect(ended.message.contains("the runner exited with status 3 without ending the execution"))
    }

    @Test("kill -9 of a runner ends its execution fault")
    func killedRunner() throws {
        try test.startSupervisor()
        let id = try runningSlowJob(seconds: 30)
        kill(try #require(runnerPID(id)), SIGKILL)
        let ended = try test.ended(id)
        #expect(ended.status == .fault)
        #expect(ended.message.contains("was killed by SIGKILL"))
    }

    @Test("kill -9 of the supervisor while runners are busy: after a restart every execution ends exactly once")
    func supervisorCrash() throws {
        try test.startSupervisor(["--max-running", "2"])
        let ids = try (0..<4).map { _ in try test.spool.submit(slowJob(seconds: 1.5)) }
        try waitUntil("two run and two wait", timeout: 10, watching: ids.map { test.execution($0).directory }) {
            statuses(ids).filter { $0 == .running }.count == 2 && statuses(ids).filter { $0 == .queued }.count == 2
        }
        try test.stopSupervisor(signal: SIGKILL)
        try test.startSupervisor(["--max-running", "2"])
        for id in ids {
            let ended = try test.ended(id)
            #expect(ended.status == .success, "\(id): \(ended.message)")
            // The history line follows the status; the runner is gone once its lock is free.
            try waitUntil("\(id)'s history is complete", timeout: 10) {
                !test.execution(id).isLockHeld() && test.execution(id).history().contains { $0.status.isFinal }
            }
            let finals = test.execution(id).history().filter { $0.status.isFinal }
            #expect(finals.count == 1, "\(id) ended \(finals.count) times: \(test.execution(id).history().map { "\($0.status) \($0.detail)" }) log: \(test.supervisorLogText)")
        }
    }

    @Test("at most --max-running runners run at once")
    func concurrencyLimit() throws {
        try test.startSupervisor(["--max-running", "2"])
        let ids = try (0..<5).map { _ in try test.spool.submit(slowJob(seconds: 0.3)) }
        var mostRunning = 0
        try waitUntil("all end", timeout: 30, watching: ids.map { test.execution($0).directory }) {
            mostRunning = max(mostRunning, statuses(ids).filter { $0 == .running }.count)
            return statuses(ids).allSatisfy { $0?.isFinal == true }
        }
        #expect(mostRunning == 2)
    }

    @Test("the overall task timeout stops a runner and ends the execution error")
    func taskTimeout() throws {
        try test.startSupervisor()
        var job = slowJob(seconds: 20)
        job.timeout = 0.5
        let ended = try test.ended(try test.spool.submit(job))
        #expect(ended.status == .error)
        #expect(ended.message.contains("task timeout: the runner was stopped after 500ms"))
    }

    @Test("flowspool cancel ends a running REST execution cancelled, long before the request would have ended")
    func cancelRunning() throws {
        try test.startSupervisor()
        let id = try runningSlowJob(seconds: 30)
        let result = try runProgram(TestEnvironment.program("flowspool"), ["cancel", id, "--spool", test.root], timeout: 20)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput == "cancelled\n")
        #expect(test.execution(id).status() == .cancelled)
    }

    @Test("cancelling a running execution listed among its own children, and in a cycle with another (jobs naming each other as parent), cancels each once, and flowspoold goes on")
    func cancelOwnChild() throws {
        try test.startSupervisor()
        let id = try runningSlowJob(seconds: 30)
        let other = try runningSlowJob(seconds: 30)
        // Its own child, and in a cycle with another.
        try FileSystem.writeFile(test.execution(id).path(.children), Array("\(id)\n\(other)\n".utf8), mode: 0o644)
        try FileSystem.writeFile(test.execution(other).path(.children), Array("\(id)\n".utf8), mode: 0o644)
        let result = try runProgram(TestEnvironment.program("flowspool"), ["cancel", id, "--spool", test.root], timeout: 20)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(test.execution(id).status() == .cancelled)
        #expect(try test.ended(other).message == "cancelled while running (its flow \(id) was cancelled)\n")
        #expect(test.supervisorIsRunning, "flowspoold died: \(test.supervisorLogText.suffix(2000))")
    }

    @Test("cancel of a queued execution ends it before it starts")
    func cancelQueued() throws {
        try test.startSupervisor(["--max-running", "1"])
        let blocker = try test.spool.submit(slowJob(seconds: 30))
        let waiting = try test.spool.submit(slowJob(seconds: 30))
        try waitUntil("the first runs", timeout: 10, watching: [blocker, waiting].map { test.execution($0).directory }) { runnerPID(blocker) != nil && test.execution(waiting).status() == .queued }
        #expect(try flowspool("cancel", waiting, spool: test).exitCode == 0)
        #expect(try test.ended(waiting).message.contains("cancelled before it started"))
        #expect(try flowspool("cancel", blocker, spool: test).exitCode == 0)
    }

    @Test("SIGTERM stops the supervisor; its running runner goes on and the next supervisor adopts it")
    func adoption() throws {
        try test.startSupervisor()
        let id = try runningSlowJob(seconds: 1.5)
        #expect(try test.stopSupervisor(signal: SIGTERM) == .exited(0))
        #expect(test.execution(id).status() == .running)
        #expect(test.execution(id).isLockHeld())
        try test.startSupervisor()
        #expect(try test.ended(id).status == .success)
        #expect(test.supervisorLogText.contains("adopted \(id)"))
    }

    @Test("startup repair: a running execution whose runner had begun and is gone becomes fault; an interrupted admission is finished")
    func startupRepair() throws {
        let orphan = test.execution("orphan")
        try FileSystem.makeDirectory(orphan.directory)
        try FileSystem.writeFile(orphan.path(.inputs), Array(#"{"task":"REST","inputs":{}}"#.utf8))
        try orphan.setStatus(.running, detail: "pid=999999")
        try FileSystem.writeFile(orphan.path(.lock), Array("999999\n".utf8))  // as the runner declared it
        let claim = test.spool.tmp + "/claimed.admit"
        try FileSystem.makeDirectory(claim)
        try FileSystem.writeFile(claim + "/job.json", Array(#"{"task":"REST","inputs":{"url":"\#(http)/echo"}}"#.utf8))
        try test.startSupervisor()
        let repaired = try test.ended("orphan")
        #expect(repaired.status == .fault)
        #expect(repaired.message.contains("the runner was gone when flowspoold started"))
        #expect(try test.ended("claimed").status == .success)
        #expect(!FileSystem.exists(claim))
    }

    @Test("one supervisor per spool: a second one says who holds the spool and exits 1")
    func singleSupervisor() throws {
        try test.startSupervisor()
        let second = try runProgram(TestEnvironment.program("flowspoold"), ["--spool", test.root])
        #expect(second.exitCode == 1)
        #expect(second.standardError.contains("another flowspoold is supervising \(test.root)"))
        #expect(test.supervisorIsRunning)
    }
}
