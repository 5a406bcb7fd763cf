import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// Issue 23, a full disk at the end: a runner that has done its task (the request made, the answer
/// in hand) and finds the disk full when it writes its end keeps its result and tries again. The
/// task is never made again, and the result is never lost: it is in the execution's log from the
/// first refusal (flowspool-spool(5), "The runner contract").
@Suite("a runner whose end the disk refuses")
struct UnwrittenEndTests {
    let http = TestEnvironment.httpURL

    /// A key of the HTTP server's /hold/KEY and /count/KEY that is this test's own.
    let key = "unwritten-\(UInt64.random(in: 0...UInt64.max))"

    /// Asks the test HTTP server for `path` and returns its answer; /arrived/KEY answers once the
    /// request for /hold/KEY has come.
    @discardableResult
    func ask(_ path: String) throws -> String {
        let result = try runProgram("/usr/bin/curl", ["-sS", "--fail", "--max-time", "90", http + path], timeout: 120)
        guard result.exitCode == 0 else { throw SpoolError("curl \(path): \(result.standardError)") }
        return result.standardOutput
    }

    /// How many requests the HTTP server saw for this test's key.
    func requestsMade() throws -> Int {
        try JSON(parsing: try ask("/counts")).objectValue?[key]?.intValue ?? 0
    }

    /// Submits a REST job whose request the server holds, and fills the disk while it holds it,
    /// once flowspoold has recorded the runner: the disk is full for the runner's end alone. One
    /// page stays free, room for the runner's lines in the log and not for the end's files.
    func submitAndFillDiskMidRequest(_ small: TestSpool, inputs: JSONObject = [:], timeout: Double? = nil) throws -> String {
        var inputs = inputs
        inputs["url"] = .string(http + "/hold/" + key)
        let id = try small.spool.submit(Job(task: "REST", inputs: inputs, timeout: timeout))
        try ask("/arrived/" + key)
        try waitUntil("flowspoold has recorded the runner", timeout: 30, watching: [small.execution(id).directory]) {
            small.execution(id).history().last { $0.status == .running }?.runnerPID != nil
        }
        try small.fillDisk(leaving: 4096)
        try ask("/release/" + key)
        return id
    }

    func log(of id: String, in small: TestSpool) -> String {
        ((try? FileSystem.readText(small.execution(id).path(.log))) ?? nil) ?? ""
    }

    /// Waits, without a supervisor's waiter (whose registration the full disk would refuse), until
    /// the execution's log holds `text`.
    func awaitLog(_ text: String, of id: String, in small: TestSpool, timeout: Double = 60) throws {
        try waitUntil("the log of \(id) says '\(text)'", timeout: timeout, watching: [small.execution(id).directory]) {
            log(of: id, in: small).contains(text)
        }
    }

    @Test("a REST call answered while the disk is full ends success with the server's answer once there is room, and the request is made once")
    func endsOnceThereIsRoom() throws {
        let small = try TestSpool(diskSize: 4 << 20)
        try small.startSupervisor()
        let id = try submitAndFillDiskMidRequest(small)
        try awaitLog("cannot end execution \(id)", of: id, in: small)
        #expect(log(of: id, in: small).contains("tried again"), "the runner gave up: \(log(of: id, in: small))")
        #expect(small.execution(id).status() == .running)
        try small.freeDisk()
        let ended = try small.ended(id, within: 120)
        #expect(ended.status == .success, "\(ended.message); the log: \(log(of: id, in: small))")
        #expect(ended["json"] == ["released": .string(key)])
        #expect(try requestsMade() == 1)
    }

    @Test("when the disk stays full past the task timeout and flowspoold --end-grace, the execution ends fault and its result, protected outputs masked, is in the log, written once")
    func givesUpWithTheResultInTheLog() throws {
        let small = try TestSpool(diskSize: 4 << 20)
        try small.startSupervisor(["--end-grace", "3"])
        // Ten seconds: the request is held and the disk filled well within it, however loaded the machine.
        let id = try submitAndFillDiskMidRequest(small, inputs: ["protect_outputs": ["headers"]], timeout: 10)
        try awaitLog("gives up ending execution \(id)", of: id, in: small, timeout: 90)
        let text = log(of: id, in: small)
        let refusals = text.split(separator: "\n").filter { $0.contains("cannot end execution \(id)") }
        #expect(refusals.count == 1, "\(text)")
        let result = try #require(refusals.first)
        #expect(result.contains("tried again"))
        #expect(result.contains(#""json":{"released":"\#(key)"}"#), "\(result)")
        #expect(result.contains(#""headers":"****""#) && !result.contains("Content-Length"), "\(result)")
        #expect(!text.contains("after 1 tries"), "\(text)")
        try small.freeDisk()
        let ended = try small.ended(id, within: 120)
        #expect(ended.status == .fault)
        #expect(ended.message.contains("its result is in its log"), "\(ended.message)")
        #expect(try requestsMade() == 1)
    }

    @Test("50 jobs queued behind the one slot, held by a runner that cannot write its end: flowspoold sleeps meanwhile, and all run once there is room")
    func noBusyWaitWhileTheEndWaits() throws {
        let small = try TestSpool(diskSize: 4 << 20)
        try small.startSupervisor(["--max-running", "1"])
        let held = try small.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/hold/" + key)]))
        try ask("/arrived/" + key)
        let queued = try (0..<50).map { _ in try small.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/echo")])) }
        try waitUntil("all 50 are queued", timeout: 30, watching: [small.spool.executions]) { queued.allSatisfy { small.execution($0).status() == .queued } }
        try small.fillDisk(leaving: 4096)
        try ask("/release/" + key)
        try awaitLog("cannot end execution \(held)", of: held, in: small)
        let before = try small.supervisorCPUSeconds()
        let since = Clock.monotonic()
        try waitUntil("5 s have passed", timeout: 20) { Clock.monotonic() - since >= 5 }
        let spent = try small.supervisorCPUSeconds() - before
        #expect(spent < 0.5, "flowspoold spent \(spent) s of CPU in 5 s while its slot's runner could not end")
        print("backlog: 50 jobs queued behind a runner that cannot write its end, 5 s: flowspoold used \(spent) s of CPU")
        try small.freeDisk()
        #expect(try small.ended(held, within: 120).status == .success)
        for id in queued { #expect(try small.ended(id, within: 120).status == .success) }
    }
}
