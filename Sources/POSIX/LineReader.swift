#if canImport(Glibc)
import Glibc
#endif

/// Reads a blocking descriptor line by line, for line-delimited protocols over pipes.
public final class LineReader {
    let descriptor: FileDescriptor
    var buffer: [UInt8] = []
    /// How much of the buffer is known to hold no newline, so that a long line is scanned once.
    var scanned = 0
    let limit: Int

    /// Lines longer than `limit` bytes fail, so a peer sending garbage cannot fill memory.
    public init(_ descriptor: FileDescriptor, limit: Int = 64 << 20) {
        self.descriptor = descriptor
        self.limit = limit
    }

    /// The next line without its newline; nil at end of file (a last line without a newline is
    /// returned first).
    public func nextLine() throws(SystemError) -> [UInt8]? {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0a) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                scanned = 0
                return line
            }
            scanned = buffer.count
            if buffer.count > limit { throw SystemError("read", errno: .fileTooLarge) }
            let chunk = try descriptor.read(upTo: 65536)
            if chunk.isEmpty {
                defer { (buffer, scanned) = ([], 0) }
                return buffer.isEmpty ? nil : buffer
            }
            buffer += chunk
        }
    }
}
