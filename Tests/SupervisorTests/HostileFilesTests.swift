#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// Everything in the spool may be hostile (flowspool-spool(5), SECURITY): a FIFO, a symbolic link or
/// a directory standing where an execution's file belongs is refused, never waited on or followed,
/// and the execution is still accounted for.
@Suite("hostile files in the spool")
struct HostileFilesTests {
    let test: TestSpool

    init() throws {
        test = try TestSpool()
        try test.startSupervisor()
    }

    enum Kind: String, CaseIterable {
        case fifo, symlink, directory

        func plant(at path: String) {
            try? FileSystem.removeIfPresent(path)
            switch self {
            case .fifo: mkfifo(path, 0o600)
            case .symlink: Glibc.symlink("/etc/passwd", path)
            case .directory: mkdir(path, 0o700)
            }
        }
    }

    static let files: [Execution.File] = [.children, .outputs, .status, .log, .response, .lock]

    @Test("a FIFO, link or directory planted as any file of a waiting INPUT: show, log and cancel return, the execution ends, flowspoold goes on")
    func plantedInWaitingExecutions() throws {
        var planted: [(id: String, file: Execution.File, kind: Kind)] = []
        for file in Self.files {
            for kind in Kind.allCases {
                let id = try test.spool.submit(Job(task: "INPUT", inputs: ["request": .string("\(kind) as \(file.rawValue)")]))
                planted.append((id, file, kind))
            }
        }
        try waitUntil("all wait", timeout: 60, watching: planted.map { test.execution($0.id).directory }) {
            // Parked: `wake` first, then the status (flowspool-spool(5)).
            planted.allSatisfy { test.execution($0.id).wakeCondition() != nil && test.execution($0.id).status() == .waiting }
        }
        for (id, file, kind) in planted { kind.plant(at: test.execution(id).path(file)) }
        for (id, file, kind) in planted {
            for command in [["show", id], ["show", "--json", id], ["log", id], ["list"], ["cancel", id]] {
                _ = try runProgram(
                    TestEnvironment.program("flowspool"), command + ["--spool", test.root], timeout: 20)
            }
            let state = try test.waitForEnd(of: id, timeout: 20)
            guard case .ended = state else {
                Issue.record("\(kind) as \(file.rawValue): \(id) is \(state), not ended")
                continue
            }
        }
        let next = try test.run("REST", ["url": .string(TestEnvironment.httpURL + "/echo")])
        #expect(next.status == .success)
        let pid = try #require(test.supervisorPID)
        kill(pid, SIGTERM)
        try waitForExit(of: pid, within: 5, what: "flowspoold after SIGTERM")
    }

    @Test("a FIFO planted as children of a waiting INPUT no longer freezes flowspoold on cancel")
    func fifoChildrenOnCancel() throws {
        let id = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "freeze?"]))
        try waitUntil("it waits", timeout: 20, watching: [test.execution(id).directory]) { test.execution(id).wakeCondition() != nil && test.execution(id).status() == .waiting }
        mkfifo(test.execution(id).path(.children), 0o600)
        let cancelled = try runProgram(TestEnvironment.program("flowspool"), ["cancel", id, "--spool", test.root], timeout: 20)
        #expect(cancelled.standardOutput == "cancelled\n", "\(cancelled.standardError)")
        #expect(try test.run("REST", ["url": .string(TestEnvironment.httpURL + "/echo")]).status == .success)
    }

    @Test("a status that is a link to elsewhere is not followed: the execution ends fault at the next start, the link moved aside")
    func linkedStatusAtStartup() throws {
        let id = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "linked?"]))
        try waitUntil("it waits", timeout: 20, watching: [test.execution(id).directory]) { test.execution(id).wakeCondition() != nil && test.execution(id).status() == .waiting }
        try test.stopSupervisor(signal: SIGKILL)
        let target = test.directory.path + "/elsewhere"
        try FileSystem.writeFile(target, Array("success\n".utf8))
        try FileSystem.unlink(test.execution(id).path(.status))
        symlink(target, test.execution(id).path(.status))
        try test.startSupervisor()
        let ended = try test.ended(id)
        #expect(ended.status == .fault)
        #expect(try FileSystem.readText(target) == "success\n", "the link's target was written")
        #expect(test.supervisorLogText.contains("status was a symbolic link, not a regular file; moved aside"))
    }
}
