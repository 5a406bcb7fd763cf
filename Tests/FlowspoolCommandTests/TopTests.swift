import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// `flowspool top` in a real terminal: tmux, 80 columns by 24 rows, read with capture-pane and
/// driven with send-keys.
@Suite("flowspool top")
struct TopTests {
    let test: TestSpool
    let http = TestEnvironment.httpURL
    /// A tmux server of this test's own.
    let server = "flowspool-top-\(CurrentProcess.id)-\(UInt32.random(in: 0...UInt32.max))"

    init() throws {
        test = try TestSpool()
        try test.startSupervisor(["--max-running", "1"])
    }

    func tmux(_ arguments: String...) throws -> CommandResult {
        try runProgram("/usr/bin/tmux", ["-L", server] + arguments, environment: ["TMUX": ""], timeout: 20)
    }

    func screen() throws -> [Substring] {
        Array(try tmux("capture-pane", "-p").standardOutput.split(separator: "\n", omittingEmptySubsequences: false).dropLast())
    }

    @Test("top shows running, waiting with its question, queued and recent ends in 80x24, redraws when the spool changes, and quits on q")
    func liveView() throws {
        let ended = try test.run("REST", ["url": .string(http + "/echo")])
        let question = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "deploy to production?"]))
        try waitUntil("the question waits", timeout: 20) { test.execution(question).status() == .waiting }
        let running = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=60"), "timeout": 120]))
        try waitUntil("the slow request runs", timeout: 20) { test.execution(running).status() == .running }
        let queued = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/echo")], name: "behind the slow one"))
        try waitUntil("the last one is queued", timeout: 20) { test.execution(queued).status() == .queued }
        defer {
            _ = try? tmux("kill-server")
            _ = try? flowspool("cancel", running, spool: test)
        }

        let started = try tmux("new-session", "-d", "-x", "80", "-y", "24", "\(TestEnvironment.program("flowspool")) top --spool \(test.root)")
        #expect(started.exitCode == 0, "\(started.standardError)")
        try waitUntil("top draws its view", timeout: 20) { (try? screen())?.contains { $0.hasPrefix("RECENT ENDS") } == true }
        let view = try screen()
        #expect(view.count <= 24 && view.allSatisfy { $0.count <= 80 }, "\(view)")
        let text = view.joined(separator: "\n")
        #expect(view.first?.hasPrefix("flowspool top  ") == true && view.first?.contains("  flowspoold running  q quits  ") == true, "\(text)")
        #expect(text.contains("running 1  waiting 1  queued 1"), "\(text)")
        #expect(view.contains { $0.hasPrefix("  \(running) REST ") }, "\(text)")
        #expect(view.contains { $0.hasPrefix("  \(question) INPUT ") && $0.hasSuffix("? deploy to production?") }, "\(text)")
        #expect(view.contains { $0.hasPrefix("  \(queued) REST ") && $0.hasSuffix("behind the slow one") }, "\(text)")
        #expect(view.contains { $0.hasPrefix("  \(ended.id) success   REST ") }, "\(text)")

        // The slow request cancelled, its slot goes to the queued one: both end, and top shows it.
        #expect(try flowspool("cancel", running, spool: test).exitCode == 0)
        try waitUntil("top shows both ended", timeout: 20) {
            let view = (try? screen()) ?? []
            return view.contains { $0.hasPrefix("  \(running) cancelled REST ") } && view.contains { $0.hasPrefix("  \(queued) success   REST ") }
        }
        #expect(try screen().joined(separator: "\n").contains("running 0  waiting 1  queued 0"))

        _ = try tmux("send-keys", "q")
        try waitUntil("top quits on q", timeout: 10) { (try? tmux("has-session"))?.exitCode != 0 }
    }

    @Test("without a terminal, top prints one view and exits")
    func once() throws {
        let ended = try test.run("REST", ["url": .string(http + "/echo")])
        let result = try flowspool("top", spool: test)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("flowspool top  ") && result.standardOutput.contains("q quits  \(test.root)\n"))
        #expect(result.standardOutput.contains("  \(ended.id) success   REST "))
    }
}
