import InputTask
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// Values that came from a job, a server or a script are printed with their control characters
/// escaped, so that none can move the cursor, change colours or forge a row; --json is JSON.
@Suite("terminal output is safe")
struct TerminalSafetyTests {
    let test: TestSpool

    init() throws {
        test = try TestSpool()
        try test.startSupervisor()
    }

    func output(_ arguments: String...) throws -> String {
        let result = try runProgram(TestEnvironment.program("flowspool"), arguments + ["--spool", test.root])
        #expect(result.exitCode == 0, "\(arguments): \(result.standardError)")
        return result.standardOutput
    }

    /// No ESC, BEL, CR, DEL or C1 control (U+0080 to U+009F) reaches the terminal.
    func expectNoControls(_ text: String, _ what: String) {
        let controls = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7f...0x9f).contains($0.value) }
        #expect(controls.isEmpty, "\(what) prints \(controls.map { String($0.value, radix: 16) })")
    }

    @Test("a job name with escape sequences and a newline cannot forge a row in list or a field in show")
    func forgedRow() throws {
        let name = "\u{1b}[2J\u{1b}[32mok\nfake000001  success  REST  \u{9b}0m"
        let id = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(TestEnvironment.httpURL + "/echo")], name: name))
        _ = try test.ended(id)
        let listed = try output("list")
        expectNoControls(listed, "list")
        #expect(listed.split(separator: "\n").count == 2, "\(listed)")
        #expect(listed.contains(#"\x1b[2J\x1b[32mok\nfake000001  success  REST  \u{9b}0m"#))
        #expect(try output("list") == listed, "listed again, from spool/index")
        let shown = try output("show", id)
        expectNoControls(shown, "show")
        #expect(shown.contains(#"name:      \x1b[2J\x1b[32mok\nfake000001"#))
        let json = try output("list", "--json")
        expectNoControls(json, "list --json")
        #expect(try JSON(parsing: json).arrayValue?.first?["name"] == .string(name), "--json keeps the value, escaped as JSON")
    }

    @Test("a flow's log and end message carrying escape sequences are printed escaped; the message cannot pass for a field")
    func logAndMessage() throws {
        let script = test.directory.path + "/noisy.py"
        try FileSystem.writeFile(script, Array(#"""
            def handler(c):
                c.log('\x1b[31mred\x1b[0m and \x9b2J, a tab\there')
                c.end('success', message='line one\n\x1b[2Kstatus:    error')
            """#.utf8))
        let id = try test.spool.submit(Job(task: "FLOW", inputs: ["script": .string(script)]))
        #expect(try test.ended(id).status == .success)
        let log = try output("log", id)
        expectNoControls(log.replacingTabs, "log")
        #expect(log.contains(#"\x1b[31mred\x1b[0m and \u{9b}2J, a tab"# + "\there"))
        let shown = try output("show", id)
        expectNoControls(shown, "show")
        #expect(shown.contains("message:   line one\n           \\x1b[2Kstatus:    error\n"))
    }

    @Test("an INPUT request's text and reference are escaped in flowspool inputs")
    func inputsRow() throws {
        let id = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "\u{1b}]0;pwned\u{07}approve?", "reference": "ref\nFAKE"]))
        try waitUntil("it is published", timeout: 20, watching: [test.spool.requests]) { FileSystem.exists(test.spool.publishedRequestPath(id)) }
        let listed = try output("inputs")
        expectNoControls(listed, "inputs")
        #expect(listed.split(separator: "\n").count == 2)
        #expect(listed.contains(#"ref\nFAKE  \x1b]0;pwned\x07approve?"#), "\(listed)")
    }
}

extension String {
    /// Tabs are kept in a log; the check looks past them.
    fileprivate var replacingTabs: String { String(unicodeScalars.filter { $0 != "\t" }.map(Character.init)) }
}
