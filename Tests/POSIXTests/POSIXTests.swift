#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import POSIX
import Testing

@Suite("System calls")
struct POSIXTests {
    @Test("a failed call names the call, the path and the reason")
    func errorMessage() {
        #expect {
            try FileSystem.readFile("/nonexistent/flowspool")
        } throws: { error in
            "\(error)" == "open /nonexistent/flowspool: No such file or directory"
        }
    }

    @Test("a back-off waits 1 s after the first failure, twice as long after each next one, and a minute at most")
    func backoff() {
        var backoff = Backoff()
        var delays: [Double] = []
        for now in stride(from: 0.0, to: 900, by: 100) {
            backoff.fail(at: now)
            delays.append(backoff.nextTry - now)
        }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60])
    }

    @Test("renameNoReplace refuses to replace an existing file")
    func renameNoReplace() throws {
        let directory = try TemporaryDirectory()
        try FileSystem.writeFile(directory.path + "/a", Array("a".utf8))
        try FileSystem.writeFile(directory.path + "/b", Array("b".utf8))
        #expect(throws: SystemError("renameat2", path: "\(directory.path)/a -> \(directory.path)/b", errno: .fileExists)) {
            try FileSystem.renameNoReplace(directory.path + "/a", directory.path + "/b")
        }
        #expect(try FileSystem.readText(directory.path + "/b") == "b")
    }

    @Test("poking a FIFO nobody reads is not an error, only a false")
    func fifoWithoutReader() throws {
        let directory = try TemporaryDirectory()
        try FileSystem.makeFIFO(directory.path + "/fifo")
        #expect(try FIFO.poke(directory.path + "/fifo") == false)
        #expect(try FIFO.poke(directory.path + "/missing") == false)
    }

    @Test("an flock held through one descriptor excludes another, and is released on close")
    func locks() throws {
        let directory = try TemporaryDirectory()
        let first = try FileDescriptor.open(directory.path + "/lock", .readWrite, options: .create)
        let second = try FileDescriptor.open(directory.path + "/lock", .readWrite)
        defer { try? second.close() }
        #expect(try first.lockExclusively(wait: false))
        #expect(try second.lockExclusively(wait: false) == false)
        try? first.close()
        #expect(try second.lockExclusively(wait: false))
    }

    @Test("a descriptor sent over a socket pair refers to the same open file")
    func passDescriptors() throws {
        let directory = try TemporaryDirectory()
        let sockets = try SocketPair()
        defer { try? sockets.first.close(); try? sockets.second.close() }
        let file = try FileDescriptor.open(directory.path + "/file", .writeOnly, options: [.create, .append])
        try sockets.first.send(Array("hello".utf8), passing: [file])
        try? file.close()
        let (message, descriptors) = try sockets.second.receiveWithDescriptors(upTo: 64)
        #expect(String(decoding: message, as: UTF8.self) == "hello")
        let received = try #require(descriptors.first)
        try received.write("through the passed descriptor\n")
        try? received.close()
        #expect(try FileSystem.readText(directory.path + "/file") == "through the passed descriptor\n")
    }

    @Test("timestamps are UTC ISO 8601 with milliseconds, and read back")
    func timestamps() {
        #expect(Clock.iso8601(1_800_000_000.25) == "2027-01-15T08:00:00.250Z")
        #expect(Clock.parseISO8601("2027-01-15T08:00:00.250Z") == 1_800_000_000.25)
        #expect(Clock.describeDuration(0.5) == "500ms")
        #expect(Clock.describeDuration(125) == "2m05s")
    }

    @Test("a spawned program gets its working directory and descriptors, and its exit status is reported")
    func spawn() throws {
        let directory = try TemporaryDirectory()
        let output = try FileDescriptor.open(directory.path + "/out", .writeOnly, options: .create)
        var options = Spawn.Options(directory: directory.path, environment: ["GREETING=hi"])
        options.descriptors = [1: output]
        let pid = try Spawn.run("/bin/sh", arguments: ["-c", "echo $GREETING $(pwd); exit 7"], options: options)
        try? output.close()
        #expect(try Spawn.wait(for: pid) == .exited(7))
        #expect(try FileSystem.readText(directory.path + "/out") == "hi \(directory.path)\n")
    }

    @Test("a file in memory is read from its first byte, by this process and by a program given it as standard input")
    func inMemory() throws {
        let text = Array("print('from memory')\n".utf8)
        let file = try FileDescriptor.inMemory(named: "test", holding: text)
        defer { try? file.close() }
        #expect(try file.readAll() == text)
        try file.rewind()
        let output = try FileDescriptor.closeOnExecPipe()
        var options = Spawn.Options(environment: Environment.current())
        options.descriptors = [0: file, 1: output.writeEnd]
        let pid = try Spawn.run("/bin/cat", arguments: [], options: options)
        try output.writeEnd.close()
        #expect(try output.readEnd.readAll() == text)
        try output.readEnd.close()
        #expect(try Spawn.wait(for: pid) == .exited(0))
    }

    @Test("descriptors given to a spawned program may swap numbers: each target gets its own source")
    func spawnSwap() throws {
        let directory = try TemporaryDirectory()
        let first = try FileDescriptor.open(directory.path + "/first", .writeOnly, options: .create)
        let second = try FileDescriptor.open(directory.path + "/second", .writeOnly, options: .create)
        defer { [first, second].forEach { try? $0.close() } }
        // first goes to second's number and second to first's: applied in target order, the
        // earlier target would overwrite the later one's source.
        var options = Spawn.Options(environment: Environment.current())
        options.newProcessGroup = false
        options.descriptors = [first.rawValue: second, second.rawValue: first]
        let pid = try Spawn.run(
            "/usr/bin/env", arguments: ["python3", "-c", "import os, sys; os.write(int(sys.argv[1]), b'to second'); os.write(int(sys.argv[2]), b'to first')",
                                        String(first.rawValue), String(second.rawValue)], options: options)
        #expect(try Spawn.wait(for: pid) == .exited(0))
        #expect(try FileSystem.readText(directory.path + "/second") == "to second")
        #expect(try FileSystem.readText(directory.path + "/first") == "to first")
    }
}

@Suite("Programs started with standard descriptors closed")
struct ClosedDescriptorTests {
    /// Runs `command` in sh, the way cron or a careless script may start a program.
    func shell(_ command: String) throws -> CommandResult {
        try runProgram("/bin/sh", ["-c", command])
    }

    @Test("flowspool and respond with standard output or error closed fail as they would with them open, not by a trap")
    func closedOutput() throws {
        let flowspool = TestEnvironment.program("flowspool"), respond = TestEnvironment.program("respond")
        #expect(try shell("'\(flowspool)' --spool /nonexistent list 2>&-; echo $?").standardOutput == "1\n")
        #expect(try shell("'\(flowspool)' --spool /nonexistent list >&- 2>/dev/null; echo $? >&2").standardError == "1\n")
        #expect(try shell("'\(respond)' --spool /nonexistent some-id yes 2>&-; echo $?").standardOutput == "1\n")
    }

    @Test("a runner started without its lock on descriptor 3 says so and exits 2")
    func runnerWithoutLock() throws {
        let result = try shell("'\(TestEnvironment.program("flowspool-task-REST"))' 3>&-")
        #expect(result.exitCode == 2)
        #expect(result.standardError.hasSuffix(" flowspool-task-REST: cannot declare the run begun (the lock on descriptor 3): fcntl: descriptor 3 is not open\n"))
    }
}
