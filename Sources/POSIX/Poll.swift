#if canImport(Glibc)
import Glibc
#endif

/// poll(2) for readability of several descriptors.
public enum Poll {
    /// Waits until one of `descriptors` is readable or `timeout` seconds pass (nil: no limit).
    /// Returns the readable ones.
    public static func readable(_ descriptors: [FileDescriptor], timeout: Double?) throws(SystemError) -> Set<FileDescriptor> {
        var fds = descriptors.map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
        let milliseconds: Int32 = timeout.map { Int32(min(max(($0 * 1000).rounded(.up), 0), 86_400_000)) } ?? -1
        let count = fds.count
        // Not retried on EINTR: a signal is an event of its own, and the caller looks again.
        do {
            try valueOrErrno("poll", retryOnInterrupt: false) { poll(&fds, nfds_t(count), milliseconds) }
        } catch where error.errno == .interrupted {
            return []
        }
        var result: Set<FileDescriptor> = []
        for entry in fds where entry.revents != 0 {
            result.insert(FileDescriptor(rawValue: entry.fd))
        }
        return result
    }
}

extension Poll {
    /// Which way a descriptor is to be ready.
    public struct Directions: OptionSet, Sendable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Directions(rawValue: Int16(POLLIN))
        public static let writable = Directions(rawValue: Int16(POLLOUT))
    }

    /// Waits until `descriptor` is ready in one of `directions` (or has failed or hung up), at most
    /// `timeout` seconds; false when the time ran out. A signal ends the wait early, as an event would.
    public static func wait(for descriptor: FileDescriptor, _ directions: Directions, timeout: Double) throws(SystemError) -> Bool {
        var entry = pollfd(fd: descriptor.rawValue, events: directions.rawValue, revents: 0)
        let milliseconds = Int32(min(max((timeout * 1000).rounded(.up), 0), 86_400_000))
        do {
            return try valueOrErrno("poll", retryOnInterrupt: false) { poll(&entry, 1, milliseconds) } > 0
        } catch where error.errno == .interrupted {
            return false
        }
    }
}
