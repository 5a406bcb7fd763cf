import JSON
import POSIX

/// One execution directory, executions/ID/, and the files in it.
public struct Execution: Sendable {
    public let spool: Spool
    public let id: String

    public var directory: String { spool.executions + "/" + id }
    public func path(_ file: File) -> String { directory + "/" + file.rawValue }

    /// The files of an execution directory (flowspool-spool(5)).
    public enum File: String, CaseIterable, Sendable {
        case inputs = "inputs.json"
        case status
        case outputs = "outputs.json"
        case message
        case log
        case lock
        case history
        /// The ids of the executions submitted with this one as parent, one a line.
        case children
        /// What wakes a parked execution (WakeCondition).
        case wake
        /// INPUT: the question, readable by the spool's group.
        case request = "request.json"
        /// INPUT: the answer, written once by respond(1).
        case response
    }

    /// The executions submitted with this one as their parent, in the order they were admitted.
    public func children() -> [String] {
        guard let text = (try? FileSystem.readText(path(.children), beneath: spool.root)) ?? nil else { return [] }
        return text.split(separator: "\n").map(String.init).filter { ExecutionID.isValid($0) }
    }

    /// Whether the execution directory is there: a real directory, never a link to one.
    public var exists: Bool { ((try? FileSystem.status(directory, followLinks: false)) ?? nil)?.isDirectory == true }

    /// The status word, or nil when the status file is missing, unreadable or not a status word.
    /// For display; decisions use `readStatus()`.
    public func status() -> ExecutionStatus? {
        (try? readStatus()) ?? nil
    }

    /// The status word; nil when the file is missing or holds no status word. Any other failure to
    /// read it throws, so that nobody acts on a status they could not see.
    public func readStatus() throws(SystemError) -> ExecutionStatus? {
        try FileSystem.readText(path(.status), beneath: spool.root).flatMap(ExecutionStatus.init(fileContent:))
    }

    /// The job as admitted: task type, inputs, parent, name, timeout.
    public func job() throws(SpoolError) -> Job {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path(.inputs), beneath: spool.root)
        } catch {
            throw SpoolError("cannot read inputs of execution \(id)", cause: error)
        }
        do {
            return try Job(parsing: bytes, record: true)
        } catch {
            throw SpoolError("inputs.json of execution \(id) is damaged: \(error)")
        }
    }

    /// The most outputs.json may hold: what is written is always read back whole.
    public static let outputsLimit = 64 << 20

    static func describeSize(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? "\((Double(bytes) / 1048576 * 10).rounded() / 10) MiB" : "\(bytes) bytes"
    }

    public func outputs() -> JSONObject? {
        guard let bytes = try? FileSystem.readFile(path(.outputs), limit: Self.outputsLimit, beneath: spool.root) else { return nil }
        return (try? JSON(parsing: bytes))?.objectValue
    }

    public func message() -> String? {
        (try? FileSystem.readText(path(.message), beneath: spool.root)) ?? nil
    }

    /// Moves the execution to a status that is not final (queued, running, waiting), and notes it
    /// in history. Only the holder of the execution's lock writes its status and history.
    public func setStatus(_ status: ExecutionStatus, detail: String = "") throws(SystemError) {
        try refuseIfEnded()
        try spool.write(status.rawValue + "\n", to: path(.status), mode: 0o644)
        try recordHistory(status, detail: detail)
    }

    /// Shows a running flow as waiting on its children (or a pause), or as running again: for
    /// people, as the supervisor learns of waits from the waiters' registrations (WaitRegistration).
    /// The history keeps each spell, so that a supervisor started meanwhile counts the flow's task
    /// timeout as its predecessor did (`timeRunning`). Not fsynced: after a crash of the machine,
    /// waiting and running are repaired alike. The runner, which holds the lock, calls it.
    public func showWaiting(_ waiting: Bool) throws(SystemError) {
        try refuseIfEnded()
        let status: ExecutionStatus = waiting ? .waiting : .running
        try spool.write(status.rawValue + "\n", to: path(.status), mode: 0o644, .volatile)
        try recordHistory(status)
    }

    /// A final status is never replaced (flowspool-spool(5)): every writer of a status asks here first,
    /// holding the lock, so that nobody else can end the execution meanwhile.
    func refuseIfEnded() throws(SystemError) {
        if let current = try readStatus(), current.isFinal {
            throw SystemError("commit", path: path(.status), errno: .fileExists, reason: "the execution has ended already (\(current.rawValue)); a final status is never replaced")
        }
    }

    /// Ends the execution: outputs and message first, the status last, so that whoever sees the final
    /// status also finds the rest.
    /// Outputs over `outputsLimit` are not written: the execution ends `error` saying so, for
    /// outputs that could not be read back would be lost in silence.
    public func end(_ status: ExecutionStatus, message: String?, outputs: JSONObject? = nil) throws(SystemError) {
        precondition(status.isFinal, "end(\(status)) needs a final status")
        try refuseIfEnded()
        var (status, message) = (status, message)
        var files: [Spool.FileContent] = []
        if let outputs {
            let text = JSON.object(outputs).prettyText + "\n"
            if text.utf8.count > Self.outputsLimit {
                (status, message) = (.error, "the outputs are \(Self.describeSize(text.utf8.count)); outputs are limited to \(Self.outputsLimit >> 20) MiB" + (message.map { " (the task said: \($0))" } ?? ""))
                files.append(.init(path(.outputs), "{}\n"))
            } else {
                files.append(.init(path(.outputs), text))
            }
        }
        if let message {
            files.append(.init(path(.message), message.hasSuffix("\n") ? message : message + "\n"))
        }
        files.append(.init(path(.status), status.rawValue + "\n", mode: 0o644))
        try spool.write(files)
        try recordHistory(status)
    }

    /// Appends "TIME STATUS [detail]" to the history file: when each status began, for `show` and people.
    public func recordHistory(_ status: ExecutionStatus, detail: String = "", at time: Double = Clock.now()) throws(SystemError) {
        let line = "\(Clock.iso8601(time)) \(status.rawValue)" + (detail.isEmpty ? "" : " " + detail) + "\n"
        try spool.append(path(.history), line, mode: 0o644)
    }

    public struct HistoryEntry: Sendable {
        public let time: Double
        public let status: ExecutionStatus
        public let detail: String

        public init(time: Double, status: ExecutionStatus, detail: String = "") {
            (self.time, self.status, self.detail) = (time, status, detail)
        }

        /// A `NAME=value` word of the detail, as flowspoold writes on a `running` line
        /// ("pid=1234 use=3"); nil when there is none.
        public func detailValue(_ name: String) -> Substring? {
            detail.split(separator: " ").first { $0.hasPrefix(name + "=") }?.dropFirst(name.count + 1)
        }

        /// The runner's pid on a `running` line.
        public var runnerPID: ProcessID? { detailValue("pid").flatMap { ProcessID($0) } }
    }

    /// How long the current run has spent running, by its history: from its start (the last
    /// `running` line that names a runner's pid, else the first `running` after the last `queued`)
    /// to `now`, less the spells its runner showed it waiting. A task timeout counts only this time
    /// (flowspool-spool(5), "Timeouts").
    public static func timeRunning(_ history: [HistoryEntry], until now: Double) -> Double {
        let queued = history.lastIndex { $0.status == .queued } ?? history.startIndex
        guard let start = history.lastIndex(where: { $0.status == .running && $0.runnerPID != nil })
            ?? history[queued...].firstIndex(where: { $0.status == .running }) else { return 0 }
        var running = 0.0
        var runningSince: Double? = history[start].time
        for entry in history[(start + 1)...] {
            if entry.status == .waiting, let since = runningSince {
                running += entry.time - since
                runningSince = nil
            } else if entry.status == .running, runningSince == nil {
                runningSince = entry.time
            }
        }
        if let since = runningSince { running += now - since }
        return max(0, running)
    }

    public func history() -> [HistoryEntry] {
        guard let text = try? FileSystem.readText(path(.history), beneath: spool.root) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, let time = Clock.parseISO8601(parts[0]),
                  let status = ExecutionStatus(rawValue: String(parts[1])) else { return nil }
            return HistoryEntry(time: time, status: status, detail: parts.count > 2 ? String(parts[2]) : "")
        }
    }

    /// Takes the execution's lock if no live process holds it (flowspool-spool(5)): a held lock is a live
    /// runner. Returns the descriptor that holds it now (close it to release), or nil when it is held.
    public func tryLock() throws(SystemError) -> FileDescriptor? {
        let fd = try spool.open(path(.lock), .readWrite, options: .create)
        do {
            if try fd.lockExclusively(wait: false) { return fd }
        } catch {
            try? fd.close()
            throw error
        }
        try? fd.close()
        return nil
    }

    /// Whether a live process holds the execution's lock; false when it cannot tell.
    public func isLockHeld() -> Bool {
        do {
            guard let fd = try tryLock() else { return true }
            try? fd.close()
            return false
        } catch {
            return false
        }
    }
}
