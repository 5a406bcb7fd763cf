#if canImport(Glibc)
import Glibc
#endif

/// An inotify instance. Its events are hints to look again, never the truth (flowspool-spool(5),
/// Writing files), so they are drained rather than read one by one.
public final class Inotify {
    public let descriptor: FileDescriptor

    /// A new instance; when none is to be had, the error says which limit ran out and how to raise
    /// it (`exhaustion`), as "Too many open files" does not.
    public init() throws(SystemError) {
        do {
            let fd = try valueOrErrno("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
            descriptor = FileDescriptor(rawValue: fd)
        } catch where error.errno == .tooManyOpenFiles {
            throw SystemError(error.call, errno: error.errno, reason: Self.exhaustion())
        }
    }

    deinit { try? descriptor.close() }

    /// A kernel limit of inotify, /proc/sys/fs/inotify/NAME, for messages that say which to raise.
    public static func limit(_ name: String) -> String? {
        ((try? FileSystem.readText("/proc/sys/fs/inotify/" + name)) ?? nil)?.split(separator: "\n").first.map(String.init)
    }

    /// Why inotify_init1 failed with EMFILE, and the remedy. EMFILE means either that this user
    /// holds as many instances as the kernel allows or that this process has no descriptor left;
    /// which of the two is told by opening something else.
    static func exhaustion() -> String {
        processHasDescriptorLeft() ? instancesExhausted() : descriptorsExhausted()
    }

    /// "no inotify instance is left for this user: raise ...", naming the limit of the user
    /// namespace too when it is lower than the kernel's (in a container, it may be the one reached).
    static func instancesExhausted() -> String {
        let kernel = limit("max_user_instances") ?? "unknown"
        let namespace = ((try? FileSystem.readText("/proc/sys/user/max_inotify_instances")) ?? nil)?
            .split(separator: "\n").first.map(String.init)
        let inNamespace = namespace.flatMap { $0 != kernel ? ", or this user namespace's user.max_inotify_instances (now \($0))" : nil } ?? ""
        return "no inotify instance is left for this user: raise the kernel's limit fs.inotify.max_user_instances (now \(kernel))\(inNamespace), e.g. sysctl -w fs.inotify.max_user_instances=1024"
    }

    static func descriptorsExhausted() -> String {
        var limit = rlimit()
        let soft = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? String(limit.rlim_cur) : "unknown"
        return "this process has no file descriptor left (its limit RLIMIT_NOFILE is \(soft)): raise it with ulimit -n, or LimitNOFILE= in a systemd unit"
    }

    /// Whether this process may still open a descriptor: "/" is opened, and closed again.
    static func processHasDescriptorLeft() -> Bool {
        let fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return Errno.current != .tooManyOpenFiles }
        close(fd)
        return true
    }

    /// What a watch reports.
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// A name made in the directory (a file, a FIFO, a link).
        public static let created = Events(rawValue: UInt32(IN_CREATE))
        /// A name renamed into the directory.
        public static let movedIn = Events(rawValue: UInt32(IN_MOVED_TO))
        /// A name renamed out of the directory.
        public static let movedOut = Events(rawValue: UInt32(IN_MOVED_FROM))
        public static let deleted = Events(rawValue: UInt32(IN_DELETE))
        public static let modified = Events(rawValue: UInt32(IN_MODIFY))
        /// A file opened for writing was closed.
        public static let closedAfterWriting = Events(rawValue: UInt32(IN_CLOSE_WRITE))
    }

    @discardableResult
    public func watch(_ path: String, for events: Events) throws(SystemError) -> Int32 {
        try valueOrErrno("inotify_add_watch", path: path) {
            inotify_add_watch(descriptor.rawValue, path, events.rawValue)
        }
    }

    public func unwatch(_ watch: Int32) {
        _ = inotify_rm_watch(descriptor.rawValue, watch)
    }

    /// Discards the queued events: to the caller, any event (an overflow too) means "look again".
    public func drain() {
        _ = try? descriptor.readAvailable()
    }

    /// Sleeps until an event comes or `timeout` seconds pass (nil: no limit), then discards the
    /// events: the caller looks again at what it watches.
    public func awaitEvents(timeout: Double?) throws(SystemError) {
        _ = try Poll.readable([descriptor], timeout: timeout)
        drain()
    }

    /// One event: the watch, what happened, and the name in the watched directory it concerns.
    public struct Event: Sendable {
        public let watch: Int32
        public let mask: UInt32
        public let name: String
    }

    /// The events since the last call; nil when the queue overflowed, so that anything may have
    /// happened. The name after an event is read at its header's end (inotify(7)).
    public func events() -> [Event]? {
        guard let bytes = try? descriptor.readAvailable() else { return [] }
        var events: [Event] = []
        var offset = 0
        let headerSize = MemoryLayout<inotify_event>.size
        while offset + headerSize <= bytes.count {
            let event = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: inotify_event.self) }
            if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { return nil }
            let nameBytes = bytes[(offset + headerSize)..<min(bytes.count, offset + headerSize + Int(event.len))]
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
            events.append(Event(watch: event.wd, mask: event.mask, name: name))
            offset += headerSize + Int(event.len)
        }
        return events
    }
}
