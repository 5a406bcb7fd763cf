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
