#if canImport(Glibc)
import Glibc
#endif

/// An inotify instance. Its events are hints to look again, never the truth (DESIGN rule 6), so they
/// are drained rather than read one by one.
public final class Inotify {
    public let descriptor: FileDescriptor

    public init() throws(SystemError) {
        let fd = try check("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        descriptor = FileDescriptor(rawValue: fd)
    }

    deinit { descriptor.close() }

    @discardableResult
    public func watch(_ path: String, for mask: Int32) throws(SystemError) -> Int32 {
        try check("inotify_add_watch", path: path) {
            inotify_add_watch(descriptor.rawValue, path, UInt32(bitPattern: mask))
        }
    }

    public func unwatch(_ watch: Int32) {
        _ = inotify_rm_watch(descriptor.rawValue, watch)
    }

    /// Discards the queued events: to the caller, any event (an overflow too) means "look again".
    public func drain() {
        _ = try? descriptor.readAvailable()
    }

    /// The watches that had events since the last call; nil when the queue overflowed, so that any
    /// watch may have had one.
    public func watchesWithEvents() -> Set<Int32>? {
        guard let bytes = try? descriptor.readAvailable() else { return [] }
        var watches: Set<Int32> = []
        var offset = 0
        let headerSize = MemoryLayout<inotify_event>.size
        while offset + headerSize <= bytes.count {
            let event = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: inotify_event.self) }
            if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { return nil }
            watches.insert(event.wd)
            offset += headerSize + Int(event.len)
        }
        return watches
    }
}
