#if canImport(Glibc)
import Glibc
#endif

/// poll(2): waiting until descriptors are ready.
public enum Poll {
    /// Which way a descriptor is to be ready.
    public struct Directions: OptionSet, Sendable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Directions(rawValue: Int16(POLLIN))
        public static let writable = Directions(rawValue: Int16(POLLOUT))
    }

    /// Waits until one of `descriptors` is readable or `timeout` seconds pass (nil: no limit).
    /// Returns the readable ones.
    public static func readable(_ descriptors: [FileDescriptor], timeout: Double?) throws(SystemError) -> Set<FileDescriptor> {
        Set(try ready(descriptors.map { ($0, .readable) }, timeout: timeout))
    }

    /// Waits until `descriptor` is ready in one of `directions` (or has failed or hung up), at most
    /// `timeout` seconds; false when the time ran out.
    public static func wait(for descriptor: FileDescriptor, _ directions: Directions, timeout: Double) throws(SystemError) -> Bool {
        try !ready([(descriptor, directions)], timeout: timeout).isEmpty
    }

    /// The descriptors that became ready (or failed or hung up) within `timeout` seconds (nil: no
    /// limit). Not retried on EINTR: a signal is an event of its own, ending the wait with none
    /// ready, and the caller looks again.
    private static func ready(_ entries: [(FileDescriptor, Directions)], timeout: Double?) throws(SystemError) -> [FileDescriptor] {
        var fds = entries.map { pollfd(fd: $0.0.rawValue, events: $0.1.rawValue, revents: 0) }
        let milliseconds: Int32 = timeout.map { Int32(min(max(($0 * 1000).rounded(.up), 0), 86_400_000)) } ?? -1
        let count = fds.count
        do {
            try valueOrErrno("poll", retryOnInterrupt: false) { poll(&fds, nfds_t(count), milliseconds) }
        } catch where error.errno == .interrupted {
            return []
        }
        return fds.filter { $0.revents != 0 }.map { FileDescriptor(rawValue: $0.fd) }
    }
}
