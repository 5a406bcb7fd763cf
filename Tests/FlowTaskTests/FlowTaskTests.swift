#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// Flows end to end: scripts run through `flowspool run FLOW script=...`, their children through
/// flowspoold and the loopback HTTP server.
@Suite("FLOW task")
struct FlowTaskTests {
    let test: TestSpool
    let scripts: TemporaryDirectory
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
        scripts = try TemporaryDirectory()
        try test.startSupervisor()
    }

    /// Writes a flow script and returns its path.
    func script(_ name: String, _ source: String, executable: Bool = false) throws -> String {
        try scripts.file(name, source, mode: executable ? 0o755 : 0o644)
    }

    func runFlow(_ path: String, _ extra: String...) throws -> CommandResult {
        try runProgram(TestEnvironment.program("flowspool"), ["run", "--spool", test.root, "FLOW", "script=\(path)"] + extra)
    }

    func flowID(_ result: CommandResult) throws -> String {
        let flows = try JSON(parsing: try flowspool("list", "--task", "FLOW", "--json", spool: test).standardOutput).arrayValue ?? []
        return try #require(flows.last?["id"]?.stringValue)
    }

    @Test("the spec's first example runs unchanged: runAsync, wait, getOutputs, c.log")
    func specRunAsyncExample() throws {
        let path = try script("example.py", """
            def handler(c):
                inputs = {
                    'url': '\(http)/echo',
                    'method': 'post',
                    'data': 'payload',
                }
                task = c.task('REST', inputs)
                task.runAsync()
                # do other stuff
                task.wait()
                outputs = task.getOutputs()
                c.log(outputs)
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 0, "\(result.standardError)")
        let flow = test.execution(try flowID(result))
        #expect(flow.status() == .success)
        let log = try FileSystem.readText(flow.path(.log)) ?? ""
        #expect(log.contains("'status_code': 200"))
        #expect(log.contains("'body': 'payload'"))
        let children = flow.children()
        #expect(children.count == 1)
        #expect(try test.execution(children[0]).job().parent == flow.id)
    }

    @Test("the spec's REST example runs unchanged: run(), json output, c.end with the joke")
    func specRESTExample() throws {
        let path = try script("joke.py", """
            def handler(c):
                # create a REST task and run it
                task = c.task('REST', url='\(http)/jokes/random').run()
                # access a field of the JSON response
                joke = task.getOutputs()['json']['value']['joke']
                # end with a joke
                c.end('success', message=joke)
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(test.execution(try flowID(result)).message() == "Chuck Norris counts to infinity. Twice.\n")
    }

    @Test("20 children started with runAsync all end; waitForAll waits for all of them")
    func manyChildren() throws {
        let path = try script("many.py", """
            def handler(c):
                children = [c.task('REST', url='\(http)/echo?n=%d' % n).runAsync() for n in range(20)]
                c.waitForAll(*children)
                c.setOutput('statuses', sorted(set(child.getStatus() for child in children)))
                c.setOutput('count', len(children))
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 0, "\(result.standardError)")
        let outputs = try JSON(parsing: result.standardOutput)
        #expect(outputs["statuses"] == ["success"])
        #expect(outputs["count"] == 20)
        let flow = try flowID(result)
        #expect(test.execution(flow).children().count == 20)
        let shown = try flowspool("show", flow, spool: test).standardOutput
        #expect(shown.contains("children:"))
        #expect(shown.split(separator: "\n").filter { $0.hasSuffix("REST  success") }.count == 20)
    }

    @Test("waitFor returns the child that ends first")
    func waitFor() throws {
        let path = try script("first.py", """
            def handler(c):
                slow = c.task('REST', url='\(http)/slow?seconds=3').runAsync()
                fast = c.task('REST', url='\(http)/echo').runAsync()
                first = c.waitFor(slow, fast)
                c.setOutput('first', 'fast' if first is fast else 'slow')
                c.setOutput('slow_status_then', slow.getStatus())
            """)
        let outputs = try JSON(parsing: try runFlow(path).standardOutput)
        #expect(outputs["first"] == "fast")
        #expect(outputs["slow_status_then"] != "success")
    }

    @Test("a child that ends in error ends the flow in error by default")
    func unexpectedError() throws {
        let path = try script("unexpected.py", """
            def handler(c):
                c.task('REST', url='\(http)/status/500').run()
                c.setOutput('reached', True)
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("(REST) ended error: unexpected status code 500"))
        #expect(!result.standardOutput.contains("reached"))
    }

    @Test("unexpected='raise' raises an exception the script can catch; 'ignore' returns")
    func unexpectedRaiseAndIgnore() throws {
        let path = try script("raise.py", """
            def handler(c):
                try:
                    c.task('REST', url='\(http)/status/404').run(unexpected='raise')
                    c.setOutput('raised', False)
                except Exception as error:
                    c.setOutput('raised', type(error).__name__)
                ignored = c.task('REST', url='\(http)/status/404').run(unexpected='ignore')
                c.setOutput('ignored_status', ignored.getStatus())
                accepted = c.task('REST', url='\(http)/status/404').run(expected=['success', 'error'])
                c.setOutput('accepted_status', accepted.getStatus())
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 0, "\(result.standardError)")
        let outputs = try JSON(parsing: result.standardOutput)
        #expect(outputs["raised"] == "FlowError")
        #expect(outputs["ignored_status"] == "error")
        #expect(outputs["accepted_status"] == "error")
    }

    @Test("c.end('error', ...) reaches flowspool run's stderr and exit code; outputs set before stay")
    func endWithError() throws {
        let path = try script("end.py", """
            def handler(c):
                c.setOutputs({'a': 1, 'b': [2]})
                c.setOutput('c', 'three')
                c.end('error', 'you did not enter a number')
                c.setOutput('never', True)
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("ended error: you did not enter a number"))
        let outputs = test.execution(try flowID(result)).outputs() ?? [:]
        #expect(outputs == ["a": 1, "b": [2], "c": "three"])
    }

    @Test("a flow script's faults end the flow error with a clear message, and other flows go on", arguments: [
        ("syntax.py", "def handler(c)\n    pass\n", "SyntaxError: expected ':' (line 1 of"),
        ("raises.py", "def handler(c):\n    x = 1\n    raise ValueError('bad value')\n", "ValueError: bad value (line 3 of"),
        ("garbage.py", "import os\nos.write(3, b'this is not json\\n')\nimport time\ntime.sleep(5)\n", "the flow script was stopped: it sent a line of 16 bytes that is not a flowspool request"),
        ("silent.py", "import os\nos._exit(3)\n", "the flow script exited with status 3 without ending the flow"),
        ("nohandler.py", "x = 1\n", "defines no handler(c) function"),
    ])
    func brokenScripts(name: String, source: String, message: String) throws {
        let result = try runFlow(try script(name, source))
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains(message), "\(result.standardError)")
        let good = try runFlow(try script("good-\(name)", "def handler(c):\n    c.end('success', message='fine')\n"))
        #expect(good.exitCode == 0)
        #expect(test.supervisorIsRunning)
    }

    @Test("c.end is final: a bare except around it does not undo it")
    func endIsFinal() throws {
        let path = try script("bare.py", """
            def handler(c):
                try:
                    c.end('error', 'stop here')
                except:
                    pass
                c.setOutput('after', True)
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("ended error: stop here"))
        #expect(test.execution(try flowID(result)).outputs()?["after"] == nil)
    }

    @Test("getOutputs on a task not yet run runs it; waitFor with nothing returns None")
    func lazyOutputs() throws {
        let path = try script("lazy.py", """
            def handler(c):
                task = c.task('REST', url='\(http)/echo')
                c.setOutput('before', task.getStatus())
                c.setOutput('method', task.getOutputs()['json']['method'])
                c.setOutput('none', c.waitFor() is None)
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 0, "\(result.standardError)")
        let outputs = try JSON(parsing: result.standardOutput)
        #expect(outputs["before"] == "not started")
        #expect(outputs["method"] == "GET")
        #expect(outputs["none"] == true)
    }

    @Test("a flow's task timeout does not run while it waits on a child")
    func timeoutPausedWhileWaiting() throws {
        // Time enough for the flow's own work (python's start, the child's submission) on a loaded
        // machine, and a child that waits longer than that: a timeout that ran while it waited would fire.
        let timeout = (2 * TestEnvironment.loadFactor()).rounded(.up)
        let path = try script("patient.py", "def handler(c):\n    c.task('REST', url='\(http)/slow?seconds=\(Int(timeout) + 3)').run()\n")
        let flow = try test.spool.submit(Job(task: "FLOW", inputs: ["script": .string(path)], timeout: timeout))
        let ended = try test.ended(flow)
        #expect(ended.status == .success, "\(ended.message)")
    }

    @Test("secrets inside a flow's inputs are masked too")
    func nestedSecrets() throws {
        let path = try script("secret.py", "def handler(c):\n    c.setOutput('ok', c.getInputs()['password'] == 'hunter2')\n")
        let result = try runFlow(path, #"inputs:={"password": "hunter2"}"#)
        #expect(try JSON(parsing: result.standardOutput)["ok"] == true)
        let shown = try flowspool("show", try flowID(result), spool: test).standardOutput
        #expect(!shown.contains("hunter2"))
    }

    @Test("a shell flow waiting with flowspool run holds no slot: with --max-running 1 its child still runs")
    func shellFlowWaits() throws {
        let limited = try TestSpool()
        try limited.startSupervisor(["--max-running", "1"])
        let path = try script("waiting.sh", """
            #!/bin/sh
            exec \(TestEnvironment.program("flowspool")) run --quiet REST url=\(http)/echo
            """, executable: true)
        let flow = try limited.spool.submit(Job(task: "FLOW", inputs: ["script": .string(path)]))
        #expect(try limited.ended(flow, within: 30).status == .success)
    }

    @Test("a script that does not exist is named")
    func missingScript() throws {
        let result = try runFlow("/nonexistent/flow.py")
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("flow script /nonexistent/flow.py does not exist"))
    }

    @Test("the later style, handler(system, this), runs too")
    func laterStyle() throws {
        try #require(try flowspool("settings", "set", "greeting", #"{"value": "ignored", "text": "hi"}"#, spool: test).exitCode == 0)
        let path = try script("later.py", """
            def handler(system, this):
                greeting = system.setting('greeting').get('value')
                child = this.task('REST', url='\(http)/echo', method='put').run_async()
                child.run()
                outputs = child.get('output_value')
                this.log('finished', method=outputs['json']['method'])
                this.success(greeting['text'] + ' ' + outputs['json']['method'])
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 0, "\(result.standardError)")
        let flow = test.execution(try flowID(result))
        #expect(flow.message() == "hi PUT\n")
        #expect(try FileSystem.readText(flow.path(.log))?.contains("finished method=PUT") == true)
    }

    @Test("c.setting reads what flowspool settings set wrote, and writes settings too")
    func settings() throws {
        try #require(try flowspool("settings", "set", "aws creds", #"{"aws_access_key_id": "AKIA", "aws_secret_access_key": "s3cret"}"#, spool: test).exitCode == 0)
        let path = try script("settings.py", """
            def handler(c):
                creds = c.setting('aws creds')
                c.setting('seen', {'key': creds['aws_access_key_id']})
                c.setOutput('key', creds['aws_access_key_id'])
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(try JSON(parsing: result.standardOutput)["key"] == "AKIA")
        #expect(try flowspool("settings", "get", "seen", spool: test).standardOutput.contains("\"key\": \"AKIA\""))
        #expect(try FileSystem.status(test.spool.settings + "/aws creds.json")?.permissions == 0o600)
    }

    @Test("flows waiting on children hold no runner slot: 3 x max-running flows, each waiting on a child, all finish")
    func noStarvation() throws {
        let limited = try TestSpool()
        try limited.startSupervisor(["--max-running", "2"])
        let path = try script("parent.py", """
            def handler(c):
                c.task('REST', url='\(http)/slow?seconds=0.2').run()
            """)
        let flows = try (0..<6).map { _ in
            try limited.spool.submit(Job(task: "FLOW", inputs: ["script": .string(path)]))
        }
        for id in flows {
            let ended = try limited.ended(id, within: 60)
            #expect(ended.status == .success, "\(id): \(ended.message)")
        }
    }

    @Test("a shell flow is any executable; flowspool run inside it records its jobs as children")
    func shellFlow() throws {
        let path = try script("flow.sh", """
            #!/bin/sh
            set -e
            \(TestEnvironment.program("flowspool")) run --quiet REST url=\(http)/echo
            echo "child done"
            """, executable: true)
        let result = try runFlow(path)
        #expect(result.exitCode == 0, "\(result.standardError)")
        let flow = test.execution(try flowID(result))
        #expect(flow.children().count == 1)
        let listed = try flowspool("list", "--parent", flow.id, spool: test).standardOutput
        #expect(listed.contains(flow.children()[0]))
        #expect(try FileSystem.readText(flow.path(.log))?.contains("child done") == true)
        let failing = try runFlow(try script("fail.sh", "#!/bin/sh\nexit 4\n", executable: true))
        #expect(failing.standardError.contains("exited with status 4"))
    }

    @Test("cancelling a flow cancels the children it is waiting on")
    func cancelFlow() throws {
        let path = try script("waits.py", "def handler(c):\n    c.task('REST', url='\(http)/slow?seconds=30').run()\n")
        let flow = try test.spool.submit(Job(task: "FLOW", inputs: ["script": .string(path)]))
        try waitUntil("the child runs", timeout: 20) {
            test.execution(flow).children().first.map { test.execution($0).status() == .running } ?? false
        }
        #expect(try flowspool("cancel", flow, spool: test).standardOutput == "cancelled\n")
        let child = try #require(test.execution(flow).children().first)
        #expect(try test.ended(child).status == .cancelled)
    }

    @Test("c.flow starts a child flow with inputs the child reads with c.getInputs()")
    func childFlow() throws {
        _ = try script("child.py", """
            def handler(c):
                c.setOutput('doubled', c.getInputs()['n'] * 2)
            """)
        let path = try script("parent-flow.py", """
            def handler(c):
                child = c.flow('child.py', n=21).run()
                c.setOutput('answer', child.getOutputs()['doubled'])
            """)
        let result = try runFlow(path)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(try JSON(parsing: result.standardOutput)["answer"] == 42)
    }

    @Test("shell flows are chosen, never guessed: interpreter=sh or a #! line; other source is Python")
    func shellFlowSource() throws {
        func run(_ arguments: String...) throws -> CommandResult {
            try runProgram(TestEnvironment.program("flowspool"), ["run", "--spool", test.root, "FLOW"] + arguments)
        }
        let viaInterpreter = try run("script=echo \"from sh in $PWD\"", "interpreter=sh")
        #expect(viaInterpreter.exitCode == 0, "\(viaInterpreter.standardError)")
        let shID = try flowID(viaInterpreter)
        #expect(try FileSystem.readText(test.execution(shID).path(.log))?.contains("from sh in \(test.execution(shID).directory)") == true)
        #expect(try FileSystem.readText(test.execution(shID).directory + "/script")?.hasPrefix("#!/usr/bin/env sh\n") == true)
        let viaShebang = try run("script=#!/bin/sh\nexit 3")
        #expect(viaShebang.exitCode == 1)
        #expect(viaShebang.standardError.contains("exited with status 3"), "\(viaShebang.standardError)")
        let notGuessed = try run("script=echo hi")
        #expect(notGuessed.exitCode == 1)
        #expect(notGuessed.standardError.contains("SyntaxError"), "\(notGuessed.standardError)")
    }

    @Test("from cron: under env -i, run --quiet prints nothing on success and fails loudly on error")
    func cron() throws {
        let good = try script("cron-good.py", "def handler(c):\n    c.task('REST', url='\(http)/echo').run()\n")
        let bad = try script("cron-bad.py", "def handler(c):\n    c.end('error', 'disk full')\n")
        let flowspoolPath = TestEnvironment.program("flowspool")
        let quiet = try runProgram("/usr/bin/env", ["-i", flowspoolPath, "run", "--spool", test.root, "--quiet", "FLOW", "script=\(good)"])
        #expect(quiet.exitCode == 0, "\(quiet.standardError)")
        #expect(quiet.standardOutput.isEmpty && quiet.standardError.isEmpty)
        let failing = try runProgram("/usr/bin/env", ["-i", flowspoolPath, "run", "--spool", test.root, "--quiet", "FLOW", "script=\(bad)"])
        #expect(failing.exitCode == 1)
        #expect(failing.standardError.contains("ended error: disk full"))
    }

    @Test("run --unique skips while another execution with the key is still going: exit 75, and with --quiet not a word")
    func unique() throws {
        let slow = try script("slow.py", "def handler(c):\n    c.sleep(30)\n")
        let going = try test.spool.submit(Job(task: "FLOW", inputs: ["script": .string(slow)], unique: "nightly"))
        let skipped = try runFlow(slow, "--unique", "nightly")
        #expect(skipped.exitCode == 75)
        #expect(skipped.standardError.contains("skipped: \(going) with unique key 'nightly' has not ended yet"))
        // From cron: not a word, so that cron mails nothing; the exit status says it skipped.
        let quietlySkipped = try runFlow(slow, "--quiet", "--unique", "nightly")
        #expect(quietlySkipped.exitCode == 75)
        #expect(quietlySkipped.standardError.isEmpty)
        #expect(quietlySkipped.standardOutput.isEmpty)
        #expect(try flowspool("cancel", going, spool: test).exitCode == 0)
        let quick = try script("quick.py", "def handler(c):\n    pass\n")
        let ran = try runProgram(TestEnvironment.program("flowspool"), ["run", "--spool", test.root, "--unique", "nightly", "FLOW", "script=\(quick)"])
        #expect(ran.exitCode == 0)
        #expect(!ran.standardError.contains("skipped"))
    }
}
