import ArgumentParser
import POSIX
import Spool

struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until an execution ends and print its status.",
        discussion: "Exits 0 when it ended success, 1 when it ended otherwise, 124 when --timeout passed first.")

    @OptionGroup var spoolOption: SpoolOption
    @Argument(help: "The execution id.") var id: String
    @Option(help: "Give up after this many seconds.") var timeout: Double?

    func validate() throws {
        if let timeout, !Seconds.isPositive(timeout) { throw ValidationError("--timeout must be \(Seconds.positiveRange), not \(timeout)") }
    }

    func run() throws {
        try reportingFailures {
            if let cluster = try ClusterClient.store() {
                guard let record = try ClusterClient.awaitEnd(of: id, in: cluster, timeout: timeout) else {
                    throw CommandFailure("\(id) has not ended after \(Clock.describeDuration(timeout ?? 0))", exitCode: ProgramExit.timedOut)
                }
                printLine(record.status ?? "?")
                if record.status != "success" { throw ExitCode(ProgramExit.failure) }
                return
            }
            let spool = try spoolOption.open()
            guard ExecutionID.isValid(id) else { throw CommandFailure("'\(id)' is not an execution id") }
            // Asked first, as a look this user may not take would pass for "no such execution".
            try requireOwnersAccess(to: spool)
            guard spool.knows(id) else { throw CommandFailure("no execution \(id) in \(spool.root)") }
            let state = try awaitEnd(of: id, in: spool, timeout: timeout)
            switch state {
            case .pending:
                throw CommandFailure("\(id) has not ended after \(Clock.describeDuration(timeout ?? 0))", exitCode: ProgramExit.timedOut)
            case .rejected(let why):
                throw CommandFailure("job \(id) was not admitted: \(why)")
            case .vanished:
                throw CommandFailure(JobState.vanishedMessage(id))
            case .ended(let status):
                printLine(status.rawValue)
                if status != .success { throw ExitCode(ProgramExit.failure) }
            }
        }
    }
}

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Print an execution's log.")

    @OptionGroup var spoolOption: SpoolOption
    @Argument(help: "The execution id.") var id: String
    @Flag(name: .shortAndLong, help: "Follow the log until the execution ends.") var follow = false

    func run() throws {
        try reportingFailures {
            let spool = try spoolOption.open()
            if follow, ExecutionID.isValid(id), spool.knows(id) {
                // A job just submitted may still wait to be admitted: follow it from there.
                _ = try? JobWatcher(spool: spool).waitForExecution(id)
            }
            let execution = try checkedID(id, in: spool)
            do {
                try copyLog(of: execution)
            } catch {
                throw CommandFailure("cannot \(follow ? "follow" : "read") the log of \(id)", cause: error)
            }
        }
    }

    /// Copies the log to standard output a whole line at a time, its control characters escaped
    /// but for newlines and tabs; with --follow, keeps copying as inotify reports writes, until the
    /// status is final. Only following takes an inotify instance, so that reading a log never
    /// fails for want of one.
    func copyLog(of execution: Execution) throws(SystemError) {
        let inotify = follow ? try Inotify() : nil
        try inotify?.watch(execution.directory, for: [.modified, .movedIn, .closedAfterWriting])
        var log: FileDescriptor?
        defer { try? log?.close() }
        var partialLine: [UInt8] = []
        while true {
            let ended = execution.status()?.isFinal ?? true
            if log == nil { log = try? execution.spool.open(execution.path(.log), .readOnly) }
            if let log {
                while true {
                    let chunk = try log.read(upTo: 65536)
                    if chunk.isEmpty { break }
                    partialLine += chunk
                    guard let lastNewline = partialLine.lastIndex(of: 0x0a) else { continue }
                    try writeSafely(partialLine[...lastNewline])
                    partialLine.removeSubrange(...lastNewline)
                }
            }
            if !follow || ended {
                if !partialLine.isEmpty { try writeSafely(partialLine[...] + [0x0a]) }
                return
            }
            try inotify?.awaitEvents(timeout: nil)
        }
    }

    func writeSafely(_ lines: ArraySlice<UInt8>) throws(SystemError) {
        try FileDescriptor.standardOutput.write(String(decoding: lines, as: UTF8.self).escapingControlCharacters(keeping: "\n\t"))
    }
}

struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a queued or running execution and print how it ended.",
        discussion: "Exits 0 when the execution ended cancelled, 1 when it had ended otherwise.")

    @OptionGroup var spoolOption: SpoolOption
    @Argument(help: "The execution id.") var id: String

    func run() throws {
        try reportingFailures {
            if let cluster = try ClusterClient.store() {
                guard ExecutionID.isValid(id) else { throw CommandFailure("'\(id)' is not an execution id") }
                return try ClusterClient.cancel(id, in: cluster)
            }
            let spool = try spoolOption.open()
            if ExecutionID.isValid(id), spool.knows(id), spool.hasSupervisor {
                // A job just submitted may still wait to be admitted: cancel it once it is.
                _ = try? JobWatcher(spool: spool).waitForExecution(id)
            }
            let execution = try checkedID(id, in: spool)
            if let status = execution.status(), status.isFinal {
                throw CommandFailure("\(id) has ended already: \(status.rawValue)")
            }
            let delivered: Bool
            do {
                delivered = try spool.sendControl("cancel \(id)")
            } catch {
                throw CommandFailure("cannot reach flowspoold", cause: error)
            }
            guard delivered else {
                throw CommandFailure("no flowspoold supervises \(spool.root); start it to cancel \(id)")
            }
            let state = try awaitEnd(of: id, in: spool, timeout: 30)
            if state == .vanished { throw CommandFailure(JobState.vanishedMessage(id)) }
            guard case .ended(let status) = state else { throw CommandFailure("\(id) has not ended 30 s after the cancel") }
            printLine(status.rawValue)
            if status != .cancelled { throw ExitCode(ProgramExit.failure) }
        }
    }
}
