#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// An inotify instance. Its events are hints to look again, never the truth (DESIGN rule 6).
public final class Inotify {
    public let descriptor: FileDescriptor

    public struct Event: Sendable {
        public let watch: Int32
        public let mask: UInt32
        public let name: String
        public var overflowed: Bool { mask & UInt32(IN_Q_OVERFLOW) != 0 }
    }

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

    /// The events queued now; empty when there are none.
    public func readEvents() throws(SystemError) -> [Event] {
        let bytes = try descriptor.read(upTo: 64 * 1024)
        var events: [Event] = []
        var offset = 0
        let headerSize = MemoryLayout<inotify_event>.size
        while offset + headerSize <= bytes.count {
            let (header, name) = bytes.withUnsafeBytes { raw -> (inotify_event, String) in
                let header = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                let nameBytes = raw[(offset + headerSize)..<(offset + headerSize + Int(header.len))]
                let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                return (header, name)
            }
            events.append(Event(watch: header.wd, mask: header.mask, name: name))
            offset += headerSize + Int(header.len)
        }
        return events
    }
}
