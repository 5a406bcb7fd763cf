#if canImport(Glibc)
import Glibc
#endif
import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// flowspoold under a service manager: systemd's readiness protocol, and a log that journald and
/// grep read alike.
@Suite("flowspoold as a service")
struct ServiceTests {
    let test: TestSpool
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
    }

    /// A Unix datagram socket that writes what it receives to a file, a datagram a line, as
    /// systemd's notify socket receives them (systemd itself cannot run as PID 1 in the tests).
    final class NotifySocket {
        let directory: TemporaryDirectory
        let listener: StartedProgram
        var path: String { directory.path + "/notify" }
        var received: String { (try? FileSystem.readText(directory.path + "/received")) ?? "" }

        init() throws {
            directory = try TemporaryDirectory()
            let script = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                s.bind(sys.argv[1])
                open(sys.argv[2], "w").close()
                while True:
                    data = s.recv(4096).decode().replace("\\n", " ")
                    with open(sys.argv[2], "a") as out:
                        out.write(data + "\\n")
                """
            listener = try StartedProgram("/usr/bin/python3", ["-c", script, directory.path + "/notify", directory.path + "/received"])
            let received = directory.path + "/received"
            try waitUntil("the notify socket listens", timeout: 10) { FileSystem.exists(received) }
        }

        deinit {
            kill(listener.pid, SIGKILL)
            _ = try? listener.finish(within: 5)
        }
    }

    @Test("with $NOTIFY_SOCKET, flowspoold says READY=1 once it supervises and STOPPING=1 when it stops; its runners do not see the socket")
    func readiness() throws {
        let socket = try NotifySocket()
        try test.startSupervisor(environment: ["NOTIFY_SOCKET": socket.path])
        try waitUntil("READY=1 arrives", timeout: 10) { socket.received.contains("READY=1") }
        #expect(socket.received == "READY=1 STATUS=supervising \(test.root)\n")
        let flow = try test.run("FLOW", ["script": "echo \"notify=${NOTIFY_SOCKET:-unset}\"", "interpreter": "sh"])
        #expect(flow.status == .success)
        #expect(try FileSystem.readText(test.execution(flow.id).path(.log))?.contains("notify=unset\n") == true)
        try test.stopSupervisor()
        // The listener writes what it receives to a file in its own time: wait for it.
        try waitUntil("STOPPING=1 arrives", timeout: 10) { socket.received.hasSuffix("STOPPING=1\n") }
    }

    @Test("each end is one log line: id, task type, status and duration, and the reason when flowspoold ended it")
    func endLines() throws {
        try test.startSupervisor()
        let ok = try test.run("REST", ["url": .string(http + "/echo")])
        let late = try test.run("REST", ["url": .string(http + "/slow?seconds=30"), "timeout": 120], timeout: 1)
        try waitUntil("the log has both ends", timeout: 10, watching: [test.directory.path]) {
            test.supervisorLogText.contains(" \(late.id) REST error in ")
        }
        let lines = test.supervisorLogText.split(separator: "\n")
        let okLine = try #require(lines.first { $0.contains(" \(ok.id) ") })
        #expect(okLine.contains("flowspoold: \(ok.id) REST success in "), "\(okLine)")
        let lateLine = try #require(lines.first { $0.contains(" \(late.id) ") })
        #expect(lateLine.hasSuffix(": \(late.message.trimming("\n"))"), "\(lateLine)")
    }
}
