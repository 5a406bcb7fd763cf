#if canImport(Glibc)
import Glibc
#endif
import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// Waiting without an inotify instance per waiter (flowspool-spool(5), "Waiting"): flowspoold wakes
/// every waiter through a FIFO of its own.
@Suite("waiting for executions")
struct WaitingTests {
    let test: TestSpool

    init() throws {
        test = try TestSpool()
    }

    /// The inotify instances a process holds.
    func inotifyInstances(of pid: ProcessID) -> Int {
        let fds = (try? FileSystem.listDirectory("/proc/\(pid)/fd")) ?? []
        return fds.filter { fd in
            var buffer = [CChar](repeating: 0, count: 256)
            let count = readlink("/proc/\(pid)/fd/\(fd)", &buffer, 255)
            return count > 0 && String(decoding: buffer.prefix(Int(count)).map { UInt8(bitPattern: $0) }, as: UTF8.self).contains("inotify")
        }.count
    }

    @Test("10,000 waiters, each with a FIFO of its own, are all woken when the request they wait for is answered; flowspoold holds one inotify instance")
    func tenThousandWaiters() throws {
        try test.startSupervisor()
        let id = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "wake them all"]))
        try waitUntil("it waits", timeout: 20, watching: [test.spool.requests]) { FileSystem.exists(test.spool.publishedRequestPath(id)) }
        // A waiter of its own: registers as flowspool-spool(5) says, holds every FIFO, and reports
        // how many were woken.
        let helper = #"""
            import os, selectors, sys, time
            waiters, wanted, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
            selector = selectors.DefaultSelector()
            for n in range(count):
                token = f"test.{n}"
                os.mkfifo(f"{waiters}/{token}", 0o600)
                fd = os.open(f"{waiters}/{token}", os.O_RDWR | os.O_NONBLOCK)
                selector.register(fd, selectors.EVENT_READ)
                with open(f"{waiters}/.{token}.tmp", "w") as f:
                    f.write(wanted + "\n")
                os.rename(f"{waiters}/.{token}.tmp", f"{waiters}/{token}.ids")
            print("ready", flush=True)
            woken, deadline = set(), time.monotonic() + 120
            while len(woken) < count and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=1):
                    woken.add(key.fd)
                    selector.unregister(key.fd)
            print(len(woken), flush=True)
            """#
        let scratch = try TemporaryDirectory()
        try FileSystem.writeFile(scratch.path + "/waiters.py", Array(helper.utf8))
        let output = scratch.path + "/out"
        let out = try FileDescriptor.open(output, .writeOnly, options: .create)
        var options = Spawn.Options(environment: Environment.current())
        options.newProcessGroup = false
        options.descriptors = [1: out]
        let pid = try Spawn.run("/usr/bin/env", arguments: ["python3", scratch.path + "/waiters.py", test.spool.waiters, id, "10000"], options: options)
        try? out.close()
        try waitUntil("the waiters are registered", timeout: 120, watching: [scratch.path]) { ((try? FileSystem.readText(output)) ?? nil)?.hasPrefix("ready") == true }
        let supervisor = try #require(test.supervisorPID)
        #expect(inotifyInstances(of: supervisor) == 1)
        #expect(try runProgram(TestEnvironment.program("respond"), ["--spool", test.root, id, "now"]).exitCode == 0)
        #expect(try Spawn.wait(for: pid) == .exited(0))
        #expect(try FileSystem.readText(output) == "ready\n10000\n")
    }

    @Test("flowspool wait holds no inotify instance; with no supervisor it says so, and sees the end once one runs")
    func waitWithoutSupervisor() throws {
        try test.startSupervisor()
        let id = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "later"]))
        try waitUntil("it waits", timeout: 20, watching: [test.spool.requests]) { FileSystem.exists(test.spool.publishedRequestPath(id)) }
        try test.stopSupervisor()
        let scratch = try TemporaryDirectory()
        let errors = try FileDescriptor.open(scratch.path + "/err", .writeOnly, options: .create)
        var options = Spawn.Options(environment: Environment.with(["FLOWSPOOL_SPOOL": test.root]))
        options.newProcessGroup = false
        options.descriptors = [2: errors]
        let waiter = try Spawn.run(TestEnvironment.program("flowspool"), arguments: ["wait", id, "--timeout", "60"], options: options)
        try? errors.close()
        try waitUntil("the waiter says no supervisor runs", timeout: 20, watching: [scratch.path]) {
            ((try? FileSystem.readText(scratch.path + "/err")) ?? nil)?.contains("no flowspoold supervises \(test.root); waiting by looking every 1 s") == true
        }
        #expect(inotifyInstances(of: waiter) == 0)
        try test.startSupervisor()
        #expect(try runProgram(TestEnvironment.program("respond"), ["--spool", test.root, id, "yes"]).exitCode == 0)
        #expect(try Spawn.wait(for: waiter) == .exited(0))
    }

    @Test("a shell flow that leaves flowspool run going in the background ends once: its final status is never replaced")
    func backgroundRunInShellFlow() throws {
        try test.startSupervisor()
        let script = test.directory.path + "/leaves.sh"
        try FileSystem.writeFile(script, Array("""
            #!/bin/sh
            ( \(TestEnvironment.program("flowspool")) run REST url=\(TestEnvironment.httpURL)/slow?seconds=2 >/dev/null 2>&1; touch \(test.directory.path)/background.done ) &
            exit 0
            """.utf8), mode: 0o755)
        let id = try test.spool.submit(Job(task: "FLOW", inputs: ["script": .string(script)]))
        #expect(try test.ended(id).status == .success)
        try waitUntil("its child is admitted", timeout: 20, watching: [test.execution(id).directory]) { !test.execution(id).children().isEmpty }
        let child = test.execution(id).children()[0]
        _ = try test.ended(child)
        // Whatever the background flowspool run writes, it has written once it has exited.
        try waitUntil("the background flowspool run exits", timeout: 30, watching: [test.directory.path]) {
            FileSystem.exists(test.directory.path + "/background.done")
        }
        #expect(test.execution(id).status() == .success)
        #expect(test.execution(id).history().filter { $0.status.isFinal }.count == 1)
    }
}
