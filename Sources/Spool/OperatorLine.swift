import POSIX

/// The one writer of lines for the operator on standard error, all in one format: `PROGRAM: message`,
/// and where standard error is a log kept in a file (flowspoold's, a runner's), the time first:
/// `2026-11-29T05:00:00.000Z flowspoold: message`. Control characters but tabs are escaped, so that no
/// message can move a terminal's cursor or forge a line of its own.
public enum OperatorLine {
    /// Writes the line; false when it could not be written whole (a full disk under a log file).
    @discardableResult
    public static func write(_ message: String, stamped: Bool = false) -> Bool {
        let line = program + ": " + message.escapingControlCharacters(keeping: "\t") + "\n"
        return (try? FileDescriptor.standardError.write(stamped ? Clock.iso8601(Clock.now()) + " " + line : line)) != nil
    }

    /// The program's name as it was started: flowspool, respond, flowspoold, flowspool-task-REST.
    static let program: String = {
        let path = CommandLine.arguments.first ?? "flowspool"
        return path.split(separator: "/").last.map(String.init) ?? path
    }()
}

/// A failure explained to the operator in one sentence, which names the problem and, where it can,
/// what to do about it: a job file that is not valid, a setting that cannot be read, a spool that
/// cannot be set up. `flowspool show`, failed/NAME.why and the programs' messages print it as it is.
public struct SpoolError: Error, CustomStringConvertible, Equatable, SystemErrorCarrying {
    public let description: String
    /// The failed system call behind it, if any: what a program's exit status is judged by.
    public let systemError: SystemError?

    public init(_ description: String) {
        self.description = description
        systemError = nil
    }

    /// "CONTEXT: ERROR", keeping the failed system call behind `cause`.
    public init(_ context: String, cause: any Error) {
        description = "\(context): \(cause)"
        systemError = (cause as? SystemErrorCarrying)?.systemError
    }
}
