#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// A connected pair of Unix sockets that keeps message boundaries (SOCK_SEQPACKET) and can carry
/// open descriptors from one process to another.
public struct SocketPair: Sendable {
    public let first: FileDescriptor
    public let second: FileDescriptor

    public init() throws(SystemError) {
        var fds: [Int32] = [0, 0]
        try valueOrErrno("socketpair") {
            socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        }
        first = FileDescriptor(rawValue: fds[0])
        second = FileDescriptor(rawValue: fds[1])
    }
}

extension FileDescriptor {
    /// Sends one message with `descriptors` attached (at most 4); the receiver gets its own copies.
    public func send(_ message: [UInt8], passing descriptors: [FileDescriptor]) throws(SystemError) {
        let fds = descriptors.map(\.rawValue)
        try valueOrErrno("sendmsg") {
            message.withUnsafeBytes { bytes in
                flowspool_send_with_fds(rawValue, bytes.baseAddress, bytes.count, fds, Int32(fds.count))
            }
        }
    }

    /// Receives one message and the descriptors attached to it (close-on-exec); an empty message
    /// with no descriptors means the other end closed.
    public func receiveWithDescriptors(upTo capacity: Int) throws(SystemError) -> (message: [UInt8], descriptors: [FileDescriptor]) {
        var buffer = [UInt8](repeating: 0, count: capacity)
        var fds = [Int32](repeating: -1, count: 4)
        var count: Int32 = 0
        let received = try valueOrErrno("recvmsg", on: self) {
            buffer.withUnsafeMutableBytes { bytes in
                flowspool_receive_with_fds(rawValue, bytes.baseAddress, capacity, &fds, &count)
            }
        }
        return (Array(buffer.prefix(received)), fds.prefix(Int(count)).map(FileDescriptor.init(rawValue:)))
    }
}

extension FileDescriptor {
    /// Ends a connected socket's connection in both directions (shutdown(2)); the descriptor stays
    /// open, and what reads it next finds end of file.
    public func shutDown() throws(SystemError) {
        try valueOrErrno("shutdown", on: self) { Glibc.shutdown(rawValue, Int32(SHUT_RDWR)) }
    }
}
