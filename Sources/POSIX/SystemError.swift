#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the call's name, the path it worked on (if any) and errno.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let path: String?
    public let errno: Int32

    public init(_ call: String, path: String? = nil, errno: Int32 = Glibc.errno) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
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
