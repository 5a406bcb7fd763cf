#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// A pipe(2), both ends close-on-exec.
public struct Pipe: Sendable {
    public let readEnd: FileDescriptor
    public let writeEnd: FileDescriptor

    public init(nonBlocking: Bool = false) throws(SystemError) {
        var fds: [Int32] = [0, 0]
        let flags = O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0)
        try check("pipe2") { flowspool_pipe2(&fds, flags) }
        readEnd = FileDescriptor(rawValue: fds[0])
        writeEnd = FileDescriptor(rawValue: fds[1])
    }
}

/// Writes to a FIFO without blocking, doing nothing when no process reads it (ENXIO):
/// the pokes of DESIGN.md are hints.
public enum FIFO {
    /// Returns false when nobody has the FIFO open for reading.
    @discardableResult
    public static func poke(_ path: String, _ message: String = "\n") throws(SystemError) -> Bool {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, O_WRONLY | O_NONBLOCK)
        } catch where error.errno == ENXIO || error.errno == ENOENT {
            return false
        }
        defer { fd.close() }
        do {
            try fd.write(message)
        } catch where error.errno == EAGAIN || error.errno == EPIPE {
            return error.errno == EAGAIN  // full: the reader is awake anyway
        }
        return true
    }
}
