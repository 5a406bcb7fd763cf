import POSIX

/// flowspoold's own log: one stamped line per event on standard error.
struct SupervisorLog {
    func line(_ text: String) {
        try? FileDescriptor.standardError.write(Clock.iso8601(Clock.now()) + " flowspoold: " + text + "\n")
    }
}

/// Why the supervisor cannot run at all.
public struct SupervisorError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
