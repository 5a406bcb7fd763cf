import JSON
import POSIX

/// What wakes a parked execution: one of `files` appearing in its directory, or `deadline` passing.
///
/// A runner that has to wait for something outside (a person's answer) parks its execution instead
/// of keeping a process: it writes `wake`, sets the status `waiting` and exits. The supervisor watches
/// the directory and the deadline, and starts the runner again when either comes.
public struct WakeCondition: Equatable, Sendable {
    public var files: [String]
    /// Seconds since the epoch; nil for none.
    public var deadline: Double?

    public init(files: [String], deadline: Double?) {
        self.files = files
        self.deadline = deadline
    }

    var json: JSON {
        ["files": .array(files.map(JSON.string)), "deadline": deadline.map { .string(Clock.iso8601($0)) } ?? .null]
    }

    init?(_ json: JSON) {
        guard let files = json["files"]?.arrayValue?.compactMap(\.stringValue) else { return nil }
        self.files = files.filter { !$0.contains("/") && !$0.hasPrefix(".") }
        deadline = json["deadline"]?.stringValue.flatMap(Clock.parseISO8601)
    }

    /// Whether it is time to wake the execution.
    public func isMet(in execution: Execution, at time: Double = Clock.now()) -> Bool {
        if let deadline, time >= deadline { return true }
        return files.contains { FileSystem.exists(execution.directory + "/" + $0) }
    }
}

extension Execution {
    /// Parks the execution: `wake` first, then the status `waiting`, both durable.
    public func park(until condition: WakeCondition) throws(SystemError) {
        try spool.write([
            .init(path(.wake), condition.json.prettyText + "\n", mode: 0o644),
            .init(path(.status), ExecutionStatus.waiting.rawValue + "\n", mode: 0o644),
        ])
        try recordHistory(.waiting, detail: "parked")
    }

    /// Closes the files a parked execution waits for, each with `{"closed": reason}`, so that none can
    /// arrive after it was cancelled.
    public func closeWakeFiles(_ condition: WakeCondition, reason: String) {
        let text = JSON.object(["closed": .string(reason), "at": .string(Clock.iso8601(Clock.now()))]).prettyText + "\n"
        for file in condition.files {
            _ = try? spool.write(text, to: directory + "/" + file, mode: 0o600, .createOnce)
        }
    }

    /// The condition a parked execution waits for; nil when it is not parked.
    public func wakeCondition() -> WakeCondition? {
        guard let bytes = try? FileSystem.readFile(path(.wake), beneath: spool.root), let json = try? JSON(parsing: bytes) else { return nil }
        return WakeCondition(json)
    }
}
