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
