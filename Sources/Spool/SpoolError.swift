import POSIX

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
