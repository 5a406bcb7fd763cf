#if canImport(Glibc)
import Glibc
#endif
@_exported import SystemPackage

/// An error that may have a failed system call behind it, kept so that a program can tell what
/// went wrong by its errno, not its words: a permission denial exits 77 wherever it was met.
public protocol SystemErrorCarrying: Error {
    var systemError: SystemError? { get }
}

/// A failed system call: the call's name, the path it worked on (if any) and its errno.
public struct SystemError: Error, CustomStringConvertible, Equatable, SystemErrorCarrying {
    public let call: String
    public let path: String?
    public let errno: Errno
    /// What went wrong, where strerror(3) would not say it well.
    public let reason: String?

    public var systemError: SystemError? { self }

    public init(_ call: String, path: String? = nil, errno: Errno = .current, reason: String? = nil) {
        self.call = call
        self.path = path
        self.errno = errno
        self.reason = reason
    }

    /// Something other than a regular file (a FIFO, a directory, a device, a symbolic link) where a
    /// regular file belongs: refused rather than opened, followed or read.
    public var isWrongFileKind: Bool {
        [Errno.wrongFileKind, .tooManySymbolicLinkLevels, .isDirectory, .improperLink].contains(errno)
    }

    /// A failure that time may mend: a full disk or quota, no descriptors, processes or memory left.
    public var isShortOfResources: Bool {
        [Errno.noSpace, .diskQuotaExceeded, .tooManyOpenFiles, .tooManyOpenFilesInSystem, .noMemory,
         .resourceTemporarilyUnavailable].contains(errno)
    }

    /// Refused for want of permission (EACCES, EPERM): this user may not do it, which no retry mends.
    public var isPermissionDenied: Bool { errno == .permissionDenied || errno == .notPermitted }

    public var description: String {
        let reason = self.reason ?? errno.description
        if let path { return "\(call) \(path): \(reason)" }
        return "\(call): \(reason)"
    }
}

extension Errno {
    /// The errno of the call that has just failed in this thread.
    public static var current: Errno { Errno(rawValue: Glibc.errno) }

    /// A file of the wrong kind. Linux has no EFTYPE of its own, so flowspool uses EMEDIUMTYPE.
    public static var wrongFileKind: Errno { Errno(rawValue: EMEDIUMTYPE) }
}

/// Runs a system call that returns -1 and sets errno on failure, again while it fails with EINTR
/// (unless `retryOnInterrupt` is false), as swift-system's `valueOrErrno(retryOnInterrupt:)` does.
/// EBADF and EFAULT are mistakes in flowspool, not conditions of the system: they trap, as
/// swift-nio's `syscall(blocking:)` does, instead of passing for an error an operator could mend.
@discardableResult
@inline(__always)
func valueOrErrno<T: FixedWidthInteger>(
    _ call: String, path: String? = nil, retryOnInterrupt: Bool = true, on descriptor: FileDescriptor? = nil,
    _ body: () -> T
) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let errno = Errno.current
        if errno == .interrupted && retryOnInterrupt { continue }
        throw SystemError(call, path: path, errno: trappingProgrammerErrors(errno, call, on: descriptor))
    }
}

/// Runs a call that returns an error number (0 for success) instead of setting errno, as
/// posix_spawn and the pthread calls do.
@inline(__always)
func returnedErrno(_ call: String, path: String? = nil, _ body: () -> Int32) throws(SystemError) {
    let result = body()
    if result != 0 { throw SystemError(call, path: path, errno: trappingProgrammerErrors(Errno(rawValue: result), call)) }
}

/// Runs one of swift-system's calls, naming the call and the path in the error it throws.
@inline(__always)
func calling<T>(_ call: String, path: String? = nil, _ body: () throws(Errno) -> T) throws(SystemError) -> T {
    do {
        return try body()
    } catch {
        throw SystemError(call, path: path, errno: trappingProgrammerErrors(error, call))
    }
}

/// Runs one of swift-system's calls that throw untyped errors (always an Errno).
@inline(__always)
func calling<T>(_ call: String, path: String? = nil, on descriptor: FileDescriptor? = nil, untyped body: () throws -> T) throws(SystemError) -> T {
    do {
        return try body()
    } catch {
        throw SystemError(call, path: path, errno: trappingProgrammerErrors(error as? Errno ?? .ioError, call, on: descriptor))
    }
}

/// EBADF on a standard descriptor is not flowspool's mistake: whoever started the program gave it
/// that descriptor closed, or open the other way (see `CurrentProcess.openStandardDescriptors`).
private func trappingProgrammerErrors(_ errno: Errno, _ call: String, on descriptor: FileDescriptor? = nil) -> Errno {
    let inherited = descriptor.map { (0...2).contains($0.rawValue) } ?? false
    precondition(errno != .badAddress && (errno != .badFileDescriptor || inherited), "\(call): \(errno) (a bug in flowspool)")
    return errno
}
