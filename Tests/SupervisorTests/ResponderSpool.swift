#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// What the suites where the owner and the responders' group meet share: a spool open to the
/// responders' group, its supervisor running, and the moves of each side.
protocol ResponderSpool {
    var test: TestSpool { get }
}

extension ResponderSpool {
    var responder: String { TestEnvironment.responder }
    var outsider: String { TestEnvironment.outsider }

    /// A spool in a private temporary directory that others may pass through, so that only the
    /// spool's own modes stand between them and it, supervised with the test responders' group.
    static func openToResponders() throws -> TestSpool {
        let test = try TestSpool()
        chmod(test.directory.path, 0o711)
        try test.startSupervisor(["--responders", TestEnvironment.respondersGroup])
        return test
    }

    func respond(as user: String, _ arguments: String..., input: String = "") throws -> CommandResult {
        try runProgram(as: user, TestEnvironment.program("respond"), ["--spool", test.root] + arguments, input: input)
    }

    func flowspool(as user: String, _ arguments: String...) throws -> CommandResult {
        try flowspool(as: user, arguments)
    }

    func flowspool(as user: String, _ arguments: [String]) throws -> CommandResult {
        try runProgram(as: user, TestEnvironment.program("flowspool"), arguments + ["--spool", test.root])
    }

    /// An INPUT request, once flowspoold has published it.
    func openRequest(_ question: String = "approve?") throws -> String {
        let id = try test.spool.submit(Job(task: "INPUT", inputs: ["request": .string(question)]))
        try waitUntil("\(id) is published", timeout: 20, watching: [test.spool.requests]) { FileSystem.exists(test.spool.publishedRequestPath(id)) }
        return id
    }

    /// flowspoold still admits and runs a job, and still stops promptly on SIGTERM.
    func expectSupervisorStillServes() throws {
        let next = try test.run("REST", ["url": .string(TestEnvironment.httpURL + "/echo")])
        #expect(next.status == .success)
        let pid = try #require(test.supervisorPID)
        kill(pid, SIGTERM)
        try waitForExit(of: pid, within: 5, what: "flowspoold after SIGTERM")
        try test.stopSupervisor()
    }
}
