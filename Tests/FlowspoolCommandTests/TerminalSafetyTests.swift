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

    /// No bidirectional control (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069)
    /// reaches the terminal: each would show the text around it in another order than it has.
    func expectNoBidirectionalControls(_ text: String, _ what: String) {
        let bidirectional: Set<UInt32> = [0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]
        // As hexadecimal numbers, so that a failure's report does not reorder itself.
        let found = text.unicodeScalars.filter { bidirectional.contains($0.value) }.map { String($0.value, radix: 16) }
        #expect(found.isEmpty, "\(what) prints \(found)")
    }

    @Test("bidirectional controls in an INPUT request are escaped in show, show --json, inputs and inputs --json; JSON keeps the value")
    func bidirectionalControls() throws {
        // Shown raw, "approve \u{202E}txt.exe" reads "approve exe.txt".
        let request = "approve \u{202E}txt.exe\u{2066}isolated\u{2069} \u{200E}\u{200F}\u{061C}\u{202A}\u{202B}\u{202C}\u{202D}\u{2067}\u{2068}"
        let id = try test.spool.submit(Job(task: "INPUT", inputs: ["request": .string(request), "reference": "ref\u{2067}"]))
        try waitUntil("it is published", timeout: 20, watching: [test.spool.requests]) { FileSystem.exists(test.spool.publishedRequestPath(id)) }
        let shown = try output("show", id)
        expectNoBidirectionalControls(shown, "show")
        #expect(shown.contains(#""request": "approve \u202etxt.exe\u2066isolated\u2069 \u200e\u200f\u061c"#), "\(shown)")
        let shownJSON = try output("show", id, "--json")
        expectNoBidirectionalControls(shownJSON, "show --json")
        #expect(try JSON(parsing: shownJSON)["inputs"]?["request"] == .string(request), "--json keeps the value, escaped as JSON")
        let listed = try output("inputs", "--json")
        expectNoBidirectionalControls(listed, "inputs --json")
        #expect(try JSON(parsing: listed).arrayValue?.first?["request"] == .string(request))
        let table = try output("inputs")
        expectNoBidirectionalControls(table, "inputs")
        #expect(table.contains(#"ref\u{2067}  approve \u{202e}txt.exe"#), "\(table)")
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
