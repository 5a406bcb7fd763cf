#if canImport(Glibc)
import Glibc
#endif

/// Reads a blocking descriptor line by line, for line-delimited protocols over pipes.
public final class LineReader {
    let descriptor: FileDescriptor
    var buffer: [UInt8] = []
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
            if let newline = buffer.firstIndex(of: 0x0a) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            if buffer.count > limit { throw SystemError("read", errno: EFBIG) }
            let chunk = try descriptor.read(upTo: 65536)
            if chunk.isEmpty {
                defer { buffer = [] }
                return buffer.isEmpty ? nil : buffer
            }
            buffer += chunk
        }
    }
}
