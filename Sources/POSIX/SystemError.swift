#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the call's name, the path it worked on (if any) and errno.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let path: String?
    public let errno: Int32
    /// What went wrong, where strerror(3) would not say it well.
    public let reason: String?

    public init(_ call: String, path: String? = nil, errno: Int32 = Glibc.errno, reason: String? = nil) {
        self.call = call
        self.path = path
        self.errno = errno
        self.reason = reason
    }

    /// Something other than a regular file (a FIFO, a directory, a device, a symbolic link) where a
    /// regular file belongs: refused rather than opened, followed or read.
    public var isWrongFileKind: Bool {
        errno == Self.EFTYPE || errno == ELOOP || errno == EISDIR || errno == EXDEV
    }

    /// A failure that time may mend: a full disk or quota, no descriptors, processes or memory left.
    public var isShortOfResources: Bool {
        [ENOSPC, EDQUOT, EMFILE, ENFILE, ENOMEM, EAGAIN].contains(errno)
    }

    /// The errno for a file of the wrong kind; Linux has no EFTYPE of its own.
    public static let EFTYPE: Int32 = EMEDIUMTYPE

    public var description: String {
        let reason = self.reason ?? String(cString: strerror(errno))
        if let path { return "\(call) \(path): \(reason)" }
        return "\(call): \(reason)"
    }
}

/// Runs a system call that returns -1 and sets errno on failure, again while it fails with EINTR.
@discardableResult
@inline(__always)
func check<T: BinaryInteger>(_ call: String, path: String? = nil, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        if errno == EINTR { continue }
        throw SystemError(call, path: path)
    }
}

/// Runs a call that returns an error number (0 for success) instead of setting errno, as posix_spawn does.
@inline(__always)
func checkReturnedError(_ call: String, path: String? = nil, _ body: () -> Int32) throws(SystemError) {
    let result = body()
    if result != 0 { throw SystemError(call, path: path, errno: result) }
}
