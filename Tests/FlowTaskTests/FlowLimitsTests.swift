#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// Flows at their limits: threads, sizes, numbers, and children left behind.
@Suite("FLOW task at its limits")
struct FlowLimitsTests {
    let test: TestSpool
    let scripts: TemporaryDirectory

    init() throws {
        test = try TestSpool()
        scripts = try TemporaryDirectory()
        try test.startSupervisor()
    }

    /// Submits a Python flow and waits for it to end.
    func flow(_ name: String, _ source: String, timeout: Double = 60) throws -> Ended {
        let path = scripts.path + "/" + name
        try FileSystem.writeFile(path, Array(source.utf8))
        let id = try test.spool.submit(Job(task: "FLOW", inputs: ["script": .string(path)], timeout: timeout))
        return try test.ended(id, within: timeout + 10)
    }

    @Test("Python threads may call c.getInputs and c.log at once: every call is answered")
    func threads() throws {
        let ended = try flow("threads.py", """
            import threading
            def handler(c):
                def work(n):
                    for i in range(200):
                        c.getInputs()
                        c.log(f'thread {n} line {i}')
                threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
                [t.start() for t in threads]
                [t.join() for t in threads]
                c.setOutput('done', True)
            """)
        #expect(ended.status == .success, "\(ended.message)")
        #expect(ended["done"] == true)
        let log = try #require(try FileSystem.readText(test.execution(ended.id).path(.log)))
        #expect(log.split(separator: "\n").filter { $0.contains(" line ") }.count == 800)
    }

    @Test("a thread still logging after handler returns does not hold the flow")
    func threadAfterReturn() throws {
        let started = Clock.monotonic()
        let ended = try flow("chatty.py", """
            import threading, time
            def handler(c):
                def chatter():
                    while True:
                        c.log('still here')
                        time.sleep(0.01)
                threading.Thread(target=chatter).start()
                time.sleep(0.2)
            """, timeout: 60)
        #expect(ended.status == .success, "\(ended.message)")
        #expect(Clock.monotonic() - started < 30, "the flow was held until its timeout")
    }

    @Test("a lone surrogate in c.log is logged as U+FFFD, not taken for garbage")
    func loneSurrogate() throws {
        let ended = try flow("surrogate.py", "def handler(c):\n    c.log('broken \\udcff text')\n")
        #expect(ended.status == .success, "\(ended.message)")
        #expect(try FileSystem.readText(test.execution(ended.id).path(.log))?.contains("broken \u{FFFD} text") == true)
    }

    @Test("a value over 16 MiB given to c.setOutput ends the flow error naming the limit")
    func requestLimit() throws {
        let ended = try flow("big.py", "def handler(c):\n    c.setOutput('x', 'a' * (20 << 20))\n")
        #expect(ended.status == .error)
        #expect(ended.message.contains("it sent a request over 16 MiB; the values given to c.setOutput"), "\(ended.message)")
    }

    @Test("outputs over 64 MiB end the execution error naming the limit, never a silent {}")
    func outputsLimit() throws {
        let ended = try flow("huge.py", "def handler(c):\n    for n in range(5):\n        c.setOutput(f'x{n}', 'a' * (15 << 20))\n")
        #expect(ended.status == .error)
        #expect(ended.message.contains("outputs are limited to 64 MiB"), "\(ended.message)")
        let shown = try flowspool("show", "--json", ended.id, spool: test)
        #expect(try JSON(parsing: shown.standardOutput)["message"]?.stringValue?.contains("limited to 64 MiB") == true)
    }

    @Test("durations out of range are input errors, never traps: c.sleep(1e300), an INPUT timeout of 1e300 or 3e15 minutes, a job timeout of 1e300")
    func durations() throws {
        let sleep = try flow("sleep.py", "def handler(c):\n    c.sleep(1e300)\n")
        #expect(sleep.status == .error)
        #expect(sleep.message.contains("c.sleep takes a number of seconds from 0 to 3155760000 (a hundred years), not 1e+300"), "\(sleep.message)")
        for minutes in [1e300, 3e15] {
            let input = try test.run("INPUT", ["request": "when?", "timeout": .double(minutes)])
            #expect(input.status == .error)
            #expect(input.message.contains("input 'timeout' must be a number of minutes from 0 to 52596000 (a hundred years)"), "\(input.message)")
        }
        let id = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(TestEnvironment.httpURL + "/echo")], timeout: 1e300))
        guard case .rejected(let why) = try test.waitForEnd(of: id) else {
            Issue.record("a job timeout of 1e300 was admitted")
            return
        }
        #expect(why.contains("'timeout' must be a positive number of seconds up to 3155760000"))
    }

    @Test("children do not outlive their flow: a flow that raised while its INPUT child waited closes the request")
    func orphans() throws {
        let ended = try flow("raises.py", """
            def handler(c):
                c.task('INPUT', request='will anyone answer?').runAsync()
                c.task('INPUT', request='this one goes on').runAsync(detach=True)
                raise RuntimeError('gave up')
            """)
        #expect(ended.status == .error)
        // Children may still wait to be admitted when their flow has ended.
        try waitUntil("both children are admitted", timeout: 20, watching: [test.execution(ended.id).directory]) { test.execution(ended.id).children().count == 2 }
        // Told apart by their jobs: two ids made in the same millisecond sort by their random ends.
        let children = test.execution(ended.id).children()
        let attached = try #require(children.first { try test.execution($0).job().detached == false })
        let detached = try #require(children.first { $0 != attached })
        let cancelled = try test.ended(attached)
        #expect(cancelled.status == .cancelled)
        try waitUntil("the detached child waits", timeout: 20, watching: [test.spool.requests]) { FileSystem.exists(test.spool.publishedRequestPath(detached)) }
        #expect(test.execution(detached).status() == .waiting)
        #expect(try JSON(parsing: flowspool("inputs", "--json", spool: test).standardOutput).arrayValue?.map { $0["id"] } == [.string(detached)])
    }
}
