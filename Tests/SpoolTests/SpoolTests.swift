import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

@Suite("Execution ids")
struct ExecutionIDTests {
    @Test("refuses anything that could escape the spool as a path", arguments: [
        "../../etc/passwd", "..", ".", ".hidden", "-rf", "a/b", "", "a b", String(repeating: "x", count: 65), "é",
    ])
    func invalid(id: String) {
        #expect(!ExecutionID.isValid(id))
    }

    @Test("takes names people give", arguments: ["nightly-backup", "job_1", "0mz4k2hq7c", "v1.2"])
    func valid(id: String) {
        #expect(ExecutionID.isValid(id))
    }

    @Test("generated ids are short, valid, and sort by submission time")
    func generated() {
        let earlier = ExecutionID.generate(at: 1_800_000_000)
        let later = ExecutionID.generate(at: 1_800_000_000.002)
        #expect(earlier.count == 10)
        #expect(ExecutionID.isValid(earlier))
        #expect(earlier < later)
        #expect(!earlier.contains { "ilou".contains($0) })
    }
}

@Suite("Job files")
struct JobTests {
    @Test("a job is a task type with inputs, and optionally parent, name and timeout")
    func parse() throws {
        let job = try Job(parsing: Array(#"{"task":"REST","inputs":{"url":"http://x"},"name":"n","timeout":5}"#.utf8))
        #expect(job.task == "REST")
        #expect(job.inputs["url"] == "http://x")
        #expect(job.name == "n")
        #expect(job.timeout == 5)
    }

    @Test("a bad job names its problem", arguments: [
        ("not json", "not JSON"),
        ("[1]", "holds a list, not a dictionary"),
        (#"{"inputs":{}}"#, "has no 'task'"),
        (#"{"task":5}"#, "'task' must be a string"),
        (#"{"task":"../x"}"#, "is not a task type name"),
        (#"{"task":"REST","inputs":[]}"#, "'inputs' must be a dictionary"),
        (#"{"task":"REST","input":{}}"#, "unknown key 'input'"),
        (#"{"task":"REST","timeout":-1}"#, "'timeout' must be a positive number"),
        (#"{"task":"REST","parent":"../up"}"#, "'parent' is not an execution id"),
    ])
    func errors(text: String, reason: String) {
        #expect {
            try Job(parsing: Array(text.utf8))
        } throws: { error in
            "\(error)".contains(reason)
        }
    }
}

@Suite("Spool files")
struct SpoolFileTests {
    @Test("write replaces a file whole and leaves nothing in tmp/")
    func commit() throws {
        let test = try TestSpool()
        let path = test.root + "/settings/example.json"
        try test.spool.write("first\n", to: path)
        try test.spool.write("second\n", to: path)
        #expect(try FileSystem.readText(path) == "second\n")
        #expect(try FileSystem.listDirectory(test.spool.tmp).isEmpty)
        #expect(try FileSystem.status(path)?.permissions == 0o600)
    }

    @Test("status words: the last four are final")
    func statuses() {
        #expect(ExecutionStatus.allCases.filter(\.isFinal) == [.success, .error, .fault, .cancelled])
        #expect(ExecutionStatus(fileContent: "running\n") == .running)
        #expect(ExecutionStatus(fileContent: "bogus\n") == nil)
    }

    @Test("submit writes the job to incoming/ under the id it returns, and refuses a taken id")
    func submit() throws {
        let test = try TestSpool()
        let id = try test.spool.submit(Job(task: "REST", inputs: ["url": "http://127.0.0.1/"]))
        let bytes = try FileSystem.readFile(test.spool.incoming + "/" + id + ".json")
        #expect(try Job(parsing: bytes).inputs["url"] == "http://127.0.0.1/")
        #expect(throws: SpoolError.self) { try test.spool.submit(Job(task: "REST"), id: id) }
        #expect(throws: SpoolError.self) { try test.spool.submit(Job(task: "REST"), id: "../evil") }
    }

    @Test("protected inputs and outputs are masked")
    func protection() {
        let inputs: JSONObject = ["password": "hunter2", "url": "u", "token": "t", "protect_inputs": ["token"], "protect_outputs": ["secret"]]
        let masked = Protection.maskedInputs(inputs)
        #expect(masked["password"] == "****")
        #expect(masked["token"] == "****")
        #expect(masked["url"] == "u")
        #expect(Protection.maskedOutputs(["secret": "s", "plain": "p"], inputs: inputs) == ["secret": "****", "plain": "p"])
    }
}

@Suite("The time a run has run, by its history (flowspool-spool(5), Timeouts)")
struct TimeRunningTests {
    func entry(_ time: Double, _ status: ExecutionStatus, _ detail: String = "") -> Execution.HistoryEntry {
        Execution.HistoryEntry(time: time, status: status, detail: detail)
    }

    @Test("the spells a flow waited are not counted, the one going on now neither")
    func waitsAreNotCounted() {
        let history = [
            entry(0, .queued), entry(1, .running, "pid=10"),
            entry(3, .waiting), entry(40, .running),  // 2 s run, then 37 s waiting for a child
            entry(41, .waiting),  // 1 s more, and waiting since
        ]
        #expect(Execution.timeRunning(history, until: 100) == 3)
        #expect(Execution.timeRunning(history.dropLast(), until: 100) == 62)
    }

    @Test("only the current run counts: an earlier run that parked and was woken does not")
    func fromTheLastStart() {
        let history = [
            entry(0, .queued), entry(1, .running, "pid=10"), entry(2, .waiting, "parked"),
            entry(50, .queued, "woken"), entry(51, .running, "pid=11"),
        ]
        #expect(Execution.timeRunning(history, until: 60) == 9)
    }

    @Test("a start whose pid was never written counts from the first running after the last queued")
    func startWithoutPID() {
        let history = [entry(0, .queued), entry(5, .running), entry(6, .waiting), entry(9, .running)]
        #expect(Execution.timeRunning(history, until: 10) == 2)
    }
}
