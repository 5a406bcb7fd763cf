import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

@Suite("flowspool command line")
struct FlowspoolCommandTests {
    let test: TestSpool
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
        try test.startSupervisor()
    }

    @Test("submit prints the new id; status, wait and show tell how it went")
    func submitAndInspect() throws {
        let submitted = try flowspool("submit", "REST", "url=\(http)/echo", spool: test)
        #expect(submitted.exitCode == 0, "\(submitted.standardError)")
        let id = submitted.standardOutput.trimming("\n")
        #expect(ExecutionID.isValid(id))
        let waited = try flowspool("wait", id, "--timeout", "30", spool: test)
        #expect(waited.exitCode == 0)
        #expect(waited.standardOutput == "success\n")
        #expect(try flowspool("status", id, spool: test).standardOutput == "success\n")
        let shown = try flowspool("show", id, spool: test).standardOutput
        #expect(shown.contains("status:    success"))
        #expect(shown.contains("task:      REST"))
        #expect(shown.contains("\"status_code\": 200"))
        #expect(shown.contains("submitted: "))
        #expect(shown.contains("ended:     "))
    }

    @Test("run waits and prints the outputs as JSON, exiting 0 on success")
    func runSuccess() throws {
        let result = try flowspool("run", "REST", "url=\(http)/echo", "method=post", "data=payload", spool: test)
        #expect(result.exitCode == 0)
        let outputs = try JSON(parsing: result.standardOutput)
        #expect(outputs["json"]?["body"] == "payload")
    }

    @Test("run exits 1 with the status and message on stderr when the execution ends in error")
    func runError() throws {
        let result = try flowspool("run", "REST", "url=\(http)/status/503", spool: test)
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("ended error: unexpected status code 503"))
        let quiet = try flowspool("run", "--quiet", "REST", "url=\(http)/echo", spool: test)
        #expect(quiet.exitCode == 0)
        #expect(quiet.standardOutput.isEmpty)
    }

    @Test("key=value is always a string, key:=json raw JSON, key@file a file's text, key:=@file its JSON; --inputs reads a file or stdin")
    func inputs() throws {
        let scratch = try TemporaryDirectory()
        try scratch.file("body.txt", "from a file\n")
        try scratch.file("headers.json", #"{"X-From": "file"}"#)
        let sent = try flowspool(
            "run", "REST", "url=\(http)/echo", "method=post", "data=42", "headers:=@\(scratch.path)/headers.json", spool: test)
        #expect(sent.exitCode == 0, "\(sent.standardError)")
        #expect(try JSON(parsing: sent.standardOutput)["json"]?["body"] == "42")
        #expect(try JSON(parsing: sent.standardOutput)["json"]?["headers"]?["X-From"] == "file")
        let asJSON = try flowspool("run", "REST", "url=\(http)/status/404", "expected_status_code:=[404]", spool: test)
        #expect(asJSON.exitCode == 0, "\(asJSON.standardError)")
        let fromFile = try flowspool("run", "REST", "url=\(http)/echo", "method=post", "data@\(scratch.path)/body.txt", spool: test)
        #expect(try JSON(parsing: fromFile.standardOutput)["json"]?["body"] == "from a file\n")
        let fromStdin = try flowspool(
            "run", "REST", "--inputs", "-", "method=put", spool: test,
            input: #"{"url": "\#(http)/echo", "method": "post", "data": {"n": 1}}"#)
        #expect(fromStdin.exitCode == 0, "\(fromStdin.standardError)")
        let outputs = try JSON(parsing: fromStdin.standardOutput)
        #expect(outputs["json"]?["method"] == "PUT")
        #expect(outputs["json"]?["body"] == #"{"n": 1}"#, "the data dictionary as JSON, as requests' json= writes it")
    }

    @Test("a bad input argument is a usage error (64) naming it, and a secret in it is not repeated")
    func badInputs() throws {
        let noValue = try flowspool("submit", "REST", "novalue", spool: test)
        #expect(noValue.exitCode == 64)
        #expect(noValue.standardError.contains("input 'novalue' is not key=value, key:=json or key@file"))
        let badJSON = try flowspool("submit", "REST", "url=\(http)/echo", "password:=hunter2", spool: test)
        #expect(badJSON.exitCode == 64)
        #expect(badJSON.standardError.contains("input 'password': the value after := is not JSON"), "\(badJSON.standardError)")
        #expect(!badJSON.standardError.contains("hunter2"))
        let missing = try flowspool("submit", "REST", "data@/nonexistent/body", spool: test)
        #expect(missing.exitCode == 64)
        #expect(missing.standardError.contains("cannot read /nonexistent/body"))
        // A typed input given as a string is refused by the task, which says how to type it.
        let typed = try flowspool("run", "REST", "url=\(http)/echo", "timeout=5", spool: test)
        #expect(typed.exitCode == 1)
        #expect(typed.standardError.contains("on flowspool's command line, write timeout:=5"), "\(typed.standardError)")
    }

    @Test("a job that is not admitted: run and wait say why, and its id is not given out again")
    func rejected() throws {
        let result = try flowspool("run", "--id", "doomed", "NOSUCHTYPE", spool: test)
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("was not admitted: unknown task type 'NOSUCHTYPE'"))
        let again = try flowspool("submit", "--id", "doomed", "REST", "url=\(http)/echo", spool: test)
        #expect(again.exitCode == 1)
        #expect(again.standardError.contains("the id 'doomed' is taken"))
    }

    @Test("show masks protected inputs and outputs")
    func masking() throws {
        let id = try flowspool(
            "submit", "REST", "url=\(http)/echo", #"headers:={"Authorization": "Bearer s3cret"}"#,
            #"protect_inputs:=["headers"]"#, #"protect_outputs:=["json"]"#, spool: test
        ).standardOutput.trimming("\n")
        _ = try test.ended(id)
        for command in [["show", id], ["show", "--json", id], ["list", "--json"], ["list"]] {
            let output = try runProgram(TestEnvironment.program("flowspool"), command + ["--spool", test.root]).standardOutput
            #expect(!output.contains("s3cret"), "flowspool \(command.joined(separator: " ")) shows the secret")
        }
        let withPassword = try test.run("REST", ["url": .string("http://alice:hunter2@127.0.0.1:\(TestEnvironment.closedPort())/")])
        let shownURL = try flowspool("show", withPassword.id, spool: test).standardOutput
        #expect(!shownURL.contains("hunter2"))
        #expect(shownURL.contains("http://****@127.0.0.1:"))
        let shown = try JSON(parsing: try flowspool("show", "--json", id, spool: test).standardOutput)
        #expect(shown["inputs"]?["headers"] == "****")
        #expect(shown["outputs"]?["json"] == "****")
        #expect(shown["outputs"]?["status_code"] == 200)
    }

    @Test("list filters by status and task, as a table or JSON")
    func list() throws {
        let good = try test.run("REST", ["url": .string(http + "/echo")])
        let bad = try test.run("REST", ["url": .string(http + "/status/500")])
        let table = try flowspool("list", spool: test).standardOutput
        #expect(table.hasPrefix("ID"))
        #expect(table.contains(good.id) && table.contains(bad.id))
        let errors = try flowspool("list", "--status", "error", spool: test).standardOutput
        #expect(errors.contains(bad.id) && !errors.contains(good.id))
        let json = try JSON(parsing: try flowspool("list", "--json", "--task", "REST", spool: test).standardOutput)
        #expect(json.arrayValue?.compactMap { $0["id"]?.stringValue }.sorted() == [good.id, bad.id].sorted())
        #expect(try flowspool("list", "--status", "bogus", spool: test).exitCode != 0)
    }

    @Test("list --limit shows the most recent, --status may be given several times, --all adds the jobs in incoming/ and failed/")
    func listLimitStatusesAndAll() throws {
        let first = try test.run("REST", ["url": .string(http + "/echo")])
        let failing = try test.run("REST", ["url": .string(http + "/status/500")])
        let last = try test.run("REST", ["url": .string(http + "/echo")])
        func ids(_ arguments: String...) throws -> [String] {
            let result = try runProgram(TestEnvironment.program("flowspool"), ["list", "--spool", test.root] + arguments)
            #expect(result.exitCode == 0, "\(result.standardError)")
            return result.standardOutput.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != " " }) }
        }
        #expect(try ids("--limit", "2") == [failing.id, last.id])
        #expect(try ids("--status", "error", "--status", "success") == [first.id, failing.id, last.id])
        #expect(try ids("--status", "error") == [failing.id])
        try test.drop("broken.json", bytes: Array("{not json".utf8))
        try waitUntil("broken.json is set aside", timeout: 10) { test.failureReason("broken.json") != nil }
        try test.stopSupervisor()
        let waiting = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/echo")]))
        #expect(try ids() == [first.id, failing.id, last.id])
        let everything = try runProgram(TestEnvironment.program("flowspool"), ["list", "--spool", test.root, "--all"]).standardOutput
        let rows = everything.split(separator: "\n")
        #expect(rows.contains { $0.hasPrefix("broken  ") && $0.contains("rejected") && $0.contains("not JSON") }, "\(everything)")
        #expect(rows.contains { $0.hasPrefix(waiting + "  ") && $0.contains("incoming") && $0.contains("REST") }, "\(everything)")
        #expect(try ids("--all", "--status", "incoming") == [waiting])
    }

    @Test("list keeps what it read of ended executions in spool/index and shows the same from it; a waiting one is not kept")
    func listIndex() throws {
        let ended = try test.run("REST", ["url": .string(http + "/status/500")])
        let waiting = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "name?"]))
        try waitUntil("it waits", timeout: 10, watching: [test.execution(waiting).directory]) { test.execution(waiting).status() == .waiting }
        let fromFiles = try flowspool("list", spool: test).standardOutput
        let index = try #require(try FileSystem.readText(test.root + "/index"))
        #expect(index.split(separator: "\n").map { $0.split(separator: "\t").first } == [Substring(ended.id)])
        let fromIndex = try flowspool("list", spool: test).standardOutput
        func row(_ id: String, in table: String) -> Substring? { table.split(separator: "\n").first { $0.hasPrefix(id) } }
        #expect(row(ended.id, in: fromIndex) != nil && row(ended.id, in: fromIndex) == row(ended.id, in: fromFiles))
        #expect(row(waiting, in: fromIndex)?.contains("waiting") == true)
        _ = try flowspool("cancel", waiting, spool: test)
    }

    @Test("spool/index is a cache: a damaged line, or one with a terminal escape, is read from the files again, and an execution removed by hand is gone from list")
    func listIndexIsNotTheTruth() throws {
        let kept = try test.run("REST", ["url": .string(http + "/echo")])
        let escaped = try test.run("REST", ["url": .string(http + "/echo")])
        let removed = try test.run("REST", ["url": .string(http + "/echo")])
        let before = try flowspool("list", spool: test).standardOutput
        try FileSystem.writeFile(test.root + "/index", Array("""
            \(kept.id)\tsuccess\tREST\tgarbage
            \(escaped.id)\tsuccess\tREST\t1\t2\t3\t-\t\u{1b}[2Jforged
            \(removed.id)\tsuccess\tREST\t1\t2\t3\t-\tstale

            """.utf8))
        try FileSystem.removeTree(test.execution(removed.id).directory)
        let after = try flowspool("list", spool: test).standardOutput
        #expect(!after.contains(removed.id))
        #expect(!after.contains("\u{1b}") && !after.contains("forged"))
        func row(_ id: String, in table: String) -> Substring? { table.split(separator: "\n").first { $0.hasPrefix(id) } }
        for id in [kept.id, escaped.id] {
            #expect(row(id, in: after) != nil && row(id, in: after) == row(id, in: before))
        }
    }

    @Test("log prints the runner's log; -f follows it until the execution ends")
    func log() throws {
        let id = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=0.5")]))
        let followed = try flowspool("log", "-f", id, spool: test)
        #expect(followed.exitCode == 0)
        #expect(followed.standardOutput.contains("GET \(http)/slow?seconds=0.5 -> 200"))
        #expect(test.execution(id).status() == .success)
    }

    @Test("log -f, inputs -f and flowspoold, when the user has no inotify instance left, name the kernel's limit and how to raise it, and exit 1")
    func noInotifyInstanceLeft() throws {
        let asking = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "approve?"]))
        try waitUntil("\(asking) waits for its answer", timeout: 30) { test.execution(asking).status() == .waiting }
        let unsupervised = try TemporaryDirectory()
        let commands = [
            (TestEnvironment.program("flowspool"), ["log", "-f", asking, "--spool", test.root]),
            (TestEnvironment.program("flowspool"), ["inputs", "-f", "--spool", test.root]),
            (TestEnvironment.program("flowspoold"), ["--spool", unsupervised.path + "/spool"]),
        ]
        for (program, arguments) in commands {
            let result = try runWithoutInotifyInstances(program, arguments)
            #expect(result.exitCode == 1, "\(arguments): \(result)")
            #expect(result.standardError.contains("no inotify instance is left for this user: raise the kernel's limit fs.inotify.max_user_instances (now "), "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("e.g. sysctl -w fs.inotify.max_user_instances="), "\(arguments): \(result.standardError)")
        }
        let read = try runWithoutInotifyInstances(TestEnvironment.program("flowspool"), ["log", asking, "--spool", test.root])
        #expect(read.exitCode == 0, "reading a log, not following it, takes no inotify instance: \(read.standardError)")
    }

    /// Runs a program in a user namespace of its own whose inotify limit
    /// (user.max_inotify_instances) is 0, so that it gets none, as a user that has them all taken.
    /// The limit is the namespace's alone: lowering fs.inotify.max_user_instances instead would
    /// deny the suites running meanwhile too, their flowspoold among them. Root is mapped to root,
    /// so the program reads the spool as the test does.
    func runWithoutInotifyInstances(_ program: String, _ arguments: [String]) throws -> CommandResult {
        let script = #"echo 0 > /proc/sys/user/max_inotify_instances && exec "$@""#
        return try runProgram("/usr/bin/unshare", ["--user", "--map-root-user", "/bin/sh", "-c", script, "sh", program] + arguments, timeout: 30)
    }

    @Test("wait --timeout gives up with exit 124")
    func waitTimeout() throws {
        let id = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/slow?seconds=5")]))
        let result = try flowspool("wait", id, "--timeout", "0.2", spool: test)
        #expect(result.exitCode == 124)
        #expect(try flowspool("cancel", id, spool: test).exitCode == 0)
    }

    @Test("ids are checked, and unknown ones reported plainly")
    func unknownIDs() throws {
        let traversal = try flowspool("show", "../../etc/passwd", spool: test)
        #expect(traversal.exitCode == 1)
        #expect(traversal.standardError.contains("is not an execution id"))
        let missing = try flowspool("status", "nope", spool: test)
        #expect(missing.standardError.contains("no execution nope"))
        let waited = try flowspool("wait", "nope", spool: test)
        #expect(waited.exitCode == 1)
        #expect(waited.standardError.contains("no execution nope"))
    }

    @Test("settings: set (JSON or string, or from a file), get, list, rm; stored 0600 under settings/")
    func settings() throws {
        #expect(try flowspool("settings", "set", "aws creds", #"{"aws_access_key_id": "AKIA"}"#, spool: test).exitCode == 0)
        #expect(try flowspool("settings", "set", "motd", "hello there", spool: test).exitCode == 0)
        #expect(try flowspool("settings", "set", "limits", "--file", "-", spool: test, input: #"{"max": 3}"#).exitCode == 0)
        #expect(try JSON(parsing: try flowspool("settings", "get", "aws creds", spool: test).standardOutput) == ["aws_access_key_id": "AKIA"])
        #expect(try flowspool("settings", "get", "motd", spool: test).standardOutput == "\"hello there\"\n")
        #expect(try flowspool("settings", "list", spool: test).standardOutput == "aws creds\nlimits\nmotd\n")
        #expect(try FileSystem.status(test.spool.settings + "/aws creds.json")?.permissions == 0o600)
        #expect(try flowspool("settings", "rm", "motd", spool: test).exitCode == 0)
        let gone = try flowspool("settings", "get", "motd", spool: test)
        #expect(gone.exitCode == 1)
        #expect(gone.standardError.contains("there is no setting 'motd'"))
        let bad = try flowspool("settings", "set", "../escape", "x", spool: test)
        #expect(bad.exitCode == 1)
        #expect(bad.standardError.contains("is not a setting name"))
    }

    @Test("--spool may come before the command too")
    func leadingSpoolOption() throws {
        let id = try test.run("REST", ["url": .string(http + "/echo")]).id
        for arguments in [["--spool", test.root, "status", id], ["--spool=\(test.root)", "status", id]] {
            let result = try runProgram(TestEnvironment.program("flowspool"), arguments, environment: ["FLOWSPOOL_SPOOL": "/nonexistent"])
            #expect(result.standardOutput == "success\n", "\(arguments): \(result.standardError)")
        }
    }

    @Test("a directory that is not a spool is named as such")
    func notASpool() throws {
        let empty = try TemporaryDirectory()
        let result = try runProgram(TestEnvironment.program("flowspool"), ["list", "--spool", empty.path])
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("is not a flowspool spool"))
    }
}

