#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor. It is a value: whoever opened it closes it.
public struct FileDescriptor: Hashable, Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let standardInput = FileDescriptor(rawValue: 0)
    public static let standardOutput = FileDescriptor(rawValue: 1)
    public static let standardError = FileDescriptor(rawValue: 2)

    public static func open(
        _ path: String, _ flags: Int32, mode: mode_t = 0o600
    ) throws(SystemError) -> FileDescriptor {
        let fd = try check("open", path: path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(rawValue: fd)
    }

    public func close() {
        _ = Glibc.close(rawValue)
    }

    /// Reads once; returns an empty array at end of file.
    public func read(upTo count: Int) throws(SystemError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try check("read") { buffer.withUnsafeMutableBytes { Glibc.read(rawValue, $0.baseAddress, count) } }
        buffer.removeLast(count - got)
        return buffer
    }

    /// Reads what a non-blocking descriptor has now (a FIFO, a pipe, inotify, a signalfd), up to
    /// `limit` bytes; empty when nothing is waiting or at end of file.
    public func readAvailable(limit: Int = 1 << 20) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        while result.count < limit {
            let chunk: [UInt8]
            do {
                chunk = try read(upTo: min(65536, limit - result.count))
            } catch where error.errno == EAGAIN {
                break
            }
            if chunk.isEmpty { break }
            result += chunk
        }
        return result
    }

    /// Reads until end of file, failing once more than `limit` bytes have arrived.
    public func readAll(limit: Int = .max) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        while true {
            let chunk = try read(upTo: 65536)
            if chunk.isEmpty { return result }
            result += chunk
            if result.count > limit { throw SystemError("read", errno: EFBIG) }
        }
    }

    public func write(_ bytes: some Collection<UInt8>) throws(SystemError) {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let written = array.withUnsafeBytes { Glibc.write(rawValue, $0.baseAddress! + offset, $0.count - offset) }
            if written >= 0 {
                offset += written
            } else if errno != EINTR {
                throw SystemError("write")
            }
        }
    }

    /// Replaces the whole content of a regular file with `bytes`: ftruncate(2), then pwrite(2) at 0.
    public func replaceContent(with bytes: [UInt8]) throws(SystemError) {
        try check("ftruncate") { ftruncate(rawValue, 0) }
        var offset = 0
        while offset < bytes.count {
            offset += try check("pwrite") {
                bytes.withUnsafeBytes { pwrite(rawValue, $0.baseAddress! + offset, $0.count - offset, off_t(offset)) }
            }
        }
    }

    public func write(_ string: String) throws(SystemError) {
        try write(Array(string.utf8))
    }

    /// fstat(2): what the open file is, whoever has renamed or replaced its name since.
    public func status() throws(SystemError) -> FileSystem.Status {
        var info = stat()
        try check("fstat") { fstat(rawValue, &info) }
        return FileSystem.Status(info)
    }

    public func sync() throws(SystemError) {
        try check("fsync") { fsync(rawValue) }
    }

    /// Takes an exclusive `flock`; with `wait: false` returns false at once when another process holds it.
    public func lockExclusively(wait: Bool) throws(SystemError) -> Bool {
        let operation = LOCK_EX | (wait ? 0 : LOCK_NB)
        while true {
            if flock(rawValue, operation) == 0 { return true }
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw SystemError("flock")
        }
    }
}
