import POSIX

/// The exit statuses of flowspool's programs: one table, the same in every man page's EXIT STATUS.
/// Usage errors are sysexits(3)'s EX_USAGE, as ArgumentParser reports its own.
public enum ProgramExit {
    /// Done: the execution ended `success`, the answer was taken, the command did what was asked.
    public static let success: Int32 = 0
    /// Not done: the execution ended otherwise, the job or the answer was refused, or the command
    /// could not do what was asked; the reason is on standard error.
    public static let failure: Int32 = 1
    /// respond(1): no verdict came in time; the answer stays in the drop box and is judged later.
    public static let noVerdict: Int32 = 3
    /// The command line is wrong: an unknown command or option, a missing argument, a bad input.
    public static let usage: Int32 = 64
    /// flowspool run --unique: skipped, as the last run with that key has not ended (EX_TEMPFAIL).
    public static let skipped: Int32 = 75
    /// The spool, or a part of it, may not be read or written by this user (EX_NOPERM).
    public static let permissionDenied: Int32 = 77
    /// --timeout passed before the execution ended, as timeout(1) reports it.
    public static let timedOut: Int32 = 124
    /// flowspool run was interrupted (Ctrl-C) and detached: the execution goes on (128 + SIGINT).
    public static let detached: Int32 = 130

    /// Every status of the table, in order.
    public static let all = [success, failure, noVerdict, usage, skipped, permissionDenied, timedOut, detached]
}

/// A refusal for want of permission (EACCES, EPERM), wherever a program met it: the one rule by
/// which every command says "permission denied: PATH (owned by ..., mode ...)" and exits
/// `ProgramExit.permissionDenied`, rather than each call site telling its errors apart.
public struct PermissionDenial: Sendable {
    /// Where the refusal lies, as far as this user can see: the path of the failed call, or the
    /// nearest directory above it that this user may look at (a file in a directory they may not
    /// enter cannot be looked at itself); nil when the call named no path.
    public let path: String?

    /// The denial behind `error`, or nil when it is something else.
    public init?(_ error: any Error) {
        guard let system = (error as? SystemErrorCarrying)?.systemError, system.isPermissionDenied else { return nil }
        path = system.path.map(Self.nearestVisible)
    }

    /// "permission denied: PATH (owned by alice, group responders, mode 710)".
    public var description: String {
        guard let path else { return "permission denied" }
        return "permission denied: \(path)\(FileSystem.ownershipNote(path))"
    }

    static func nearestVisible(_ path: String) -> String {
        var candidate = path
        while ((try? FileSystem.status(candidate)) ?? nil) == nil {
            guard let slash = candidate.lastIndex(of: "/"), slash != candidate.startIndex else { return path }
            candidate = String(candidate[..<slash])
        }
        return candidate
    }
}
