import FlowspoolTestSupport
import JSON
import POSIX
import Spool

/// A spool in a temporary directory, its executions written as flowspoold and the runners would
/// leave them, with no supervisor: what the in-process tests list and wait on.
final class MadeSpool {
    let test: TestSpool
    var spool: Spool { test.spool }

    init() throws {
        test = try TestSpool()
    }

    /// An execution submitted at `submitted` (seconds since the epoch); ended ones ran a second
    /// after and took two more.
    @discardableResult
    func execution(_ id: String, _ task: String, at submitted: Double, _ status: ExecutionStatus, name: String? = nil, parent: String? = nil) throws -> Execution {
        let execution = spool.execution(id)
        try FileSystem.makeDirectory(execution.directory)
        let job = Job(task: task, inputs: ["password": "hunter2", "url": "http://x"], parent: parent, name: name)
        try spool.write(job.document().compactText, to: execution.path(.inputs))
        try execution.recordHistory(.queued, at: submitted)
        if status != .queued { try execution.recordHistory(.running, at: submitted + 1) }
        try spool.write(status.rawValue + "\n", to: execution.path(.status), mode: 0o644)
        if status.isFinal {
            try spool.write("it said so\n", to: execution.path(.message))
            try execution.recordHistory(status, at: submitted + 3)
        }
        return execution
    }

    var ids: [String] {
        ((try? FileSystem.listDirectory(spool.executions)) ?? []).filter { ExecutionID.isValid($0) }
    }
}

/// What a table writer writes, caught.
final class Caught {
    var bytes: [UInt8] = []
    var blocks = 0

    func sink(_ block: [UInt8]) {
        bytes += block
        if !block.isEmpty { blocks += 1 }
    }

    var lines: [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }
}
