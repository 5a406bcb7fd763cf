#if canImport(Glibc)
import Glibc
#endif
import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// Nothing stuck, nothing spinning: what broke when flowspoold was tried from outside, each as a
/// user would check it.
@Suite("flowspoold under bad conditions")
struct RobustnessTests {
    let test: TestSpool
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
    }

    var supervisorLog: String { test.supervisorLogText }

    func lines(containing text: String) -> Int {
        supervisorLog.split(separator: "\n").filter { $0.contains(text) }.count
    }

    @Test("50 jobs queued behind a busy slot cost flowspoold next to no CPU: it waits for the slot to free, it does not poll")
    func noBusyWaitBehindBusySlots() throws {
        try test.startSupervisor(["--max-running", "1"])
        let busy = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=4"), "timeout": 60]))
        try waitUntil("the only slot is busy", timeout: 20, watching: [test.execution(busy).directory]) { test.execution(busy).status() == .running }
        let queued = try (0..<50).map { _ in try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/echo")])) }
        try waitUntil("all 50 are queued", timeout: 20, watching: [test.spool.executions]) { queued.allSatisfy { test.execution($0).status() == .queued } }
        let before = try test.supervisorCPUSeconds()
        _ = try test.ended(busy, within: 60)
        let spent = try test.supervisorCPUSeconds() - before
        // Polling without a timeout burns the core for the seconds the slot stays busy.
        #expect(spent < 0.5, "flowspoold spent \(spent) s of CPU while 50 jobs waited for a slot")
        print("backlog: 50 jobs queued behind a slot busy for 4 s: flowspoold used \(spent) s of CPU meanwhile")
        for id in queued { #expect(try test.ended(id).status == .success) }
    }

    @Test("the control FIFO takes neither a 64 MiB line nor 70,000 junk lines as memory or log: each is logged once, and flowspoold still obeys")
    func controlFIFOFlood() throws {
        try test.startSupervisor()
        let pid = try #require(test.supervisorPID)
        let fifo = try FileDescriptor.open(test.spool.control, .writeOnly)
        let chunk = [UInt8](repeating: UInt8(ascii: "A"), count: 1 << 20)
        for _ in 0..<64 { try fifo.write(chunk) }
        try fifo.write("\n")
        try fifo.write((0..<70_000).map { "junk \($0)\n" }.joined())
        try fifo.close()
        try waitUntil("flowspoold read the junk", timeout: 30, watching: [test.directory.path]) { lines(containing: "unknown control command") > 0 }
        let status = try #require(try FileSystem.readText("/proc/\(pid)/status"))
        let residentKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        #expect(residentKiB > 0 && residentKiB < 48 * 1024, "flowspoold holds \(residentKiB) KiB after the flood")
        #expect(lines(containing: "dropped a line longer than 4096 bytes") == 1, "\(supervisorLog)")
        #expect(lines(containing: "unknown control command") == 1)
        #expect(try test.run("REST", ["url": .string(http + "/echo")]).status == .success)
        let id = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "cancel me"]))
        try waitUntil("it waits", timeout: 20, watching: [test.spool.requests]) { FileSystem.exists(test.spool.publishedRequestPath(id)) }
        _ = try test.spool.sendControl("cancel \(id)")
        #expect(try test.ended(id).status == .cancelled)
    }

    @Test("an execution directory removed while its runner works is logged once and forgotten; flowspoold goes on")
    func vanishedExecution() throws {
        try test.startSupervisor()
        // Running for 5 s: long enough to be seen running on a loaded machine, short enough to end soon.
        let id = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=5"), "timeout": 60]))
        try waitUntil("it runs", timeout: 20, watching: [test.execution(id).directory]) { test.execution(id).status() == .running }
        try FileSystem.rename(test.execution(id).directory, test.directory.path + "/removed")  // as rm -r does, at once
        do {
            try waitUntil("flowspoold notices", timeout: 20, watching: [test.directory.path]) { lines(containing: "executions/\(id) vanished") > 0 }
        } catch {
            Issue.record("\(error); flowspoold's log:\n\(supervisorLog)")
            throw error
        }
        #expect(try test.run("REST", ["url": .string(http + "/echo")]).status == .success)
        #expect(lines(containing: id) == 1, "\(supervisorLog)")
    }

    @Test("whatever sits in incoming/ is accounted for: 255-byte dangling links, hidden names; valid jobs are not starved")
    func oddNamesInIncoming() throws {
        try test.startSupervisor()
        let longNames = (0..<130).map { n in String(repeating: "x", count: 250) + String(n + 10000) }
        for name in longNames { symlink("/nonexistent/\(name)", test.spool.incoming + "/" + name) }
        let hidden = [".hidden.json", "..json", "...json"]
        for name in hidden { try FileSystem.writeFile(test.spool.incoming + "/" + name, Array(#"{"task":"REST"}"#.utf8)) }
        let good = try test.run("REST", ["url": .string(http + "/echo")])
        #expect(good.status == .success)
        try waitUntil("incoming/ is empty", timeout: 30, watching: [test.spool.incoming]) { (try? FileSystem.listDirectory(test.spool.incoming))?.isEmpty == true }
        let reasons = try FileSystem.listDirectory(test.spool.failed).filter { $0.hasSuffix(".why") }
            .compactMap { try FileSystem.readText(test.spool.failed + "/" + $0) }
        #expect(reasons.count == longNames.count + hidden.count)
        #expect(reasons.filter { $0.contains("it is not a regular file") && $0.contains("(the file was named 'xxxx") }.count == longNames.count)
        for name in hidden {
            #expect(reasons.contains { $0.contains("a name starting with '.' is hidden") && $0.contains("(the file was named '\(name)')") }, "\(name)")
        }
        #expect(supervisorLog.utf8.count < 200_000, "the log grew to \(supervisorLog.utf8.count) bytes")
    }

    @Test("a full disk: jobs wait in incoming/, queued executions wait, the log stays short, and all run once there is room")
    func fullDisk() throws {
        let small = try TestSpool(diskSize: 4 << 20)
        try small.startSupervisor(["--rescan-interval", "1"])
        #expect(try small.run("REST", ["url": .string(http + "/echo")]).status == .success)
        // Written before the disk filled, as by writers that got their files out in time.
        let names = (0..<20).map { "full\($0)" }
        for name in names {
            try FileSystem.writeFile(small.spool.tmp + "/" + name, Array(#"{"task":"REST","inputs":{"url":"\#(http)/echo"}}"#.utf8))
        }
        try small.fillDisk()
        for name in names { try FileSystem.rename(small.spool.tmp + "/" + name, small.spool.incoming + "/" + name + ".json") }
        try waitUntil("flowspoold tries to admit them and says it cannot", timeout: 30) {
            small.supervisorLogText.contains("cannot admit jobs now; they wait in tmp/ and the next rescan tries again")
        }
        #expect(names.allSatisfy { small.execution($0).status()?.isFinal != true }, "a job ran or failed on a full disk")
        try small.freeDisk()
        for name in names {
            #expect(try small.ended(name, within: 60).status == .success)
        }
        let log = small.supervisorLogText
        #expect(log.utf8.count < 20_000, "flowspoold logged \(log.utf8.count) bytes while the disk was full")
    }

    @Test("a submit refused by a full disk leaves nothing behind in tmp/, however often it is tried")
    func failedSubmitsLeaveNothing() throws {
        let small = try TestSpool(diskSize: 4 << 20)
        try small.fillDisk()
        for _ in 0..<50 {
            let result = try flowspool("submit", "REST", "url=\(http)/echo", spool: small)
            #expect(result.exitCode == ProgramExit.failure)
            #expect(result.standardError.contains("No space left on device"), "\(result.standardError)")
        }
        let left = try FileSystem.listDirectory(small.spool.tmp)
        #expect(left.isEmpty, "\(left.count) files left in tmp/")
        #expect(try FileSystem.listDirectory(small.spool.incoming).isEmpty)
    }

    @Test("after a crash, an execution marked running that no runner had begun is run, not ended")
    func neverBegunIsRun() throws {
        let execution = test.execution("unbegun")
        try FileSystem.makeDirectory(execution.directory)
        try FileSystem.writeFile(execution.path(.inputs), Array(#"{"task":"REST","inputs":{"url":"\#(http)/echo"}}"#.utf8))
        try execution.setStatus(.queued)
        try execution.setStatus(.running)  // what a supervisor killed before its runner began leaves
        try FileSystem.writeFile(execution.path(.lock), [])
        try test.startSupervisor()
        let ended = try test.ended("unbegun")
        #expect(ended.status == .success)
        #expect(execution.history().contains { $0.status == .queued && $0.detail.contains("no runner had begun") })
    }

    @Test("after a power failure, an execution still queued whose lock file names a runner (the unsynced mark running was lost) ends fault, not run again")
    func begunButShownQueuedIsNotRun() throws {
        let execution = test.execution("begun")
        try FileSystem.makeDirectory(execution.directory)
        try FileSystem.writeFile(execution.path(.inputs), Array(#"{"task":"REST","inputs":{"url":"\#(http)/echo"}}"#.utf8))
        try execution.setStatus(.queued)
        try FileSystem.writeFile(execution.path(.lock), Array("4242\n".utf8))  // the runner's synced first act
        try test.startSupervisor()
        let ended = try test.ended("begun")
        #expect(ended.status == .fault)
        #expect(ended.message.contains("a runner had begun it when the machine stopped"))
    }

    @Test("a runner adopted with no pid in its history is still stopped by its timeout and by cancel")
    func adoptedWithoutPID() throws {
        try test.startSupervisor()
        let timed = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=60"), "timeout": 120], timeout: 3))
        let cancelled = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=60"), "timeout": 120]))
        try waitUntil("both run", timeout: 10, watching: [timed, cancelled].map { test.execution($0).directory }) { [timed, cancelled].allSatisfy { test.execution($0).runnerPID() != nil } }
        try test.stopSupervisor(signal: SIGKILL)
        for id in [timed, cancelled] {
            // As a supervisor killed between the spawn and the history line leaves it.
            let history = try #require(try FileSystem.readText(test.execution(id).path(.history)))
            try FileSystem.writeFile(test.execution(id).path(.history), Array(history.replacingPIDs.utf8), mode: 0o644)
        }
        try test.startSupervisor()
        #expect(try flowspool("cancel", cancelled, spool: test).standardOutput == "cancelled\n")
        let ended = try test.ended(timed, within: 30)
        #expect(ended.status == .error)
        #expect(ended.message.contains("task timeout"))
    }
}

extension String {
    fileprivate var replacingPIDs: String {
        split(separator: "\n").map { $0.split(separator: " ").filter { !$0.hasPrefix("pid=") }.joined(separator: " ") }.joined(separator: "\n") + "\n"
    }
}
