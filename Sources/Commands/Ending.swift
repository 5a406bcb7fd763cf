import Basics
import JSON
import POSIX
import Spool

/// How a wait for an execution came out, on either back-end: what `wait`, `run` and `cancel`
/// decide from.
public enum Ending: Equatable, Sendable {
    /// It ended with this status word.
    case ended(String)
    /// The wait's bound passed first.
    case timedOut
    /// The job was set aside instead of admitted, for this reason.
    case notAdmitted(String)
    /// Its directory was removed before it ended.
    case vanished

    public init(_ state: JobState) {
        switch state {
        case .pending: self = .timedOut
        case .rejected(let why): self = .notAdmitted(why)
        case .vanished: self = .vanished
        case .ended(let status): self = .ended(status.rawValue)
        }
    }

    /// What `wait` makes of it: the status word to print, if any, and the failure to exit with,
    /// if any (1 unless it ended success, 124 when the bound passed).
    public func verdict(of id: String, after timeout: Double?) -> (line: String?, failure: CommandFailure?) {
        switch self {
        case .ended(let status):
            return (status, status == ExecutionStatus.success.rawValue ? nil : .exit(ProgramExit.failure))
        case .timedOut:
            return (nil, CommandFailure("\(id) has not ended after \(Clock.describeDuration(timeout ?? 0))", exitCode: ProgramExit.timedOut))
        case .notAdmitted(let why):
            return (nil, CommandFailure("job \(id) was not admitted: \(why)"))
        case .vanished:
            return (nil, CommandFailure(JobState.vanishedMessage(id)))
        }
    }

    /// Prints the status word, if any, and throws the failure, if any.
    public func report(of id: String, after timeout: Double?) throws {
        let (line, failure) = verdict(of: id, after: timeout)
        if let line { printLine(line) }
        if let failure { throw failure }
    }
}

/// How `run` reports an end, of a local execution or of a cluster's: on success the outputs, and
/// the message on stderr; otherwise any outputs, then the status and message on stderr and exit 1.
public func reportEnd(of id: String, _ status: String, outputs: JSONObject, message: String, quiet: Bool) throws {
    if status == ExecutionStatus.success.rawValue {
        guard !quiet else { return }
        printLine(JSON.object(outputs).prettyText)
        if !message.isEmpty { printError(message) }
        return
    }
    if !outputs.isEmpty && !quiet { printLine(JSON.object(outputs).prettyText) }
    throw CommandFailure("\(id) ended \(status)" + (message.isEmpty ? "" : ": " + message))
}
