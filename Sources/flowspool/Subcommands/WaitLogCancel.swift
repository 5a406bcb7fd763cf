import ArgumentParser
import Basics
import Commands
import POSIX
import Spool

struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until an execution ends and print its status.",
        discussion: "Exits 0 when it ended success, 1 when it ended otherwise, 124 when --timeout passed first.")

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions
    @Argument(help: "The execution id.") var id: String
    @Option(help: "Give up after this many seconds.") var timeout: Double?

    func validate() throws {
        try checkSeconds(timeout, "--timeout")
    }

    func run() throws {
        try reportingFailures {
            try place.backend().wait(for: id, timeout: timeout).report(of: id, after: timeout)
        }
    }
}

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Print an execution's log.")

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions
    @Argument(help: "The execution id.") var id: String
    @Flag(name: .shortAndLong, help: "Follow the log until the execution ends.") var follow = false

    func run() throws {
        try reportingFailures {
            let spool = try place.localSpool(for: "log")
            if follow, ExecutionID.isValid(id), spool.knows(id) {
                // A job just submitted may still wait to be admitted: follow it from there.
                _ = try? JobWatcher(spool: spool).waitForExecution(id)
            }
            let execution = try spool.checkedExecution(id)
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

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions
    @Argument(help: "The execution id.") var id: String

    func run() throws {
        try reportingFailures {
            try place.backend().cancel(id)
        }
    }
}
