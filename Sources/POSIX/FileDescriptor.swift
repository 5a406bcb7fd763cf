#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// The two ends of a pipe.
public typealias Pipe = (readEnd: FileDescriptor, writeEnd: FileDescriptor)

/// What flowspool adds to swift-system's FileDescriptor: errors that name the call and the path,
/// reads that return bytes, and the calls swift-system lacks (fsync, flock, pipe2, dup2 onto a number).
/// Whoever opens a descriptor closes it.
extension FileDescriptor {
    /// open(2), always close-on-exec, so that no child spawned meanwhile inherits it.
    public static func open(
        _ path: String, _ mode: AccessMode, options: OpenOptions = [],
        permissions: FilePermissions = .ownerReadWrite
    ) throws(SystemError) -> FileDescriptor {
        try calling("open", path: path, untyped: {
            try FileDescriptor.open(FilePath(path), mode, options: options.union(.closeOnExec), permissions: permissions)
        })
    }

    /// Reads once; returns an empty array at end of file.
    public func read(upTo count: Int) throws(SystemError) -> [UInt8] {
        try calling("read", on: self, untyped: {
            try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                initialized = try read(into: UnsafeMutableRawBufferPointer(buffer))
            }
        })
    }

    /// Reads what a non-blocking descriptor has now (a FIFO, a pipe, inotify, a signalfd), up to
    /// `limit` bytes; empty when nothing is waiting or at end of file.
    public func readAvailable(limit: Int = 1 << 20) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        while result.count < limit {
            let wanted = min(65536, limit - result.count)
            let chunk: [UInt8]
            do {
                chunk = try read(upTo: wanted)
            } catch where error.errno == .wouldBlock {
                break
            }
            result += chunk
            // A short read took all there was: asking again would only say EAGAIN.
            if chunk.count < wanted { break }
        }
        return result
    }

    /// Reads until end of file, failing once more than `limit` bytes have arrived.
    public func readAll(limit: Int = .max) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        while true {
            // Reads grow with what has come, so that a large file takes few reads and copies.
            let chunk = try read(upTo: max(65536, min(result.count, limit)))
            if chunk.isEmpty { return result }
            result += chunk
            if result.count > limit { throw SystemError("read", errno: .fileTooLarge) }
        }
    }

    /// Writes all of `bytes` (swift-system's `writeAll`, which retries EINTR and short writes).
    public func write(_ bytes: some Collection<UInt8>) throws(SystemError) {
        _ = try calling("write", on: self, untyped: { try writeAll(bytes) })
    }

    public func write(_ string: String) throws(SystemError) {
        try write(Array(string.utf8))
    }

    /// Whether the descriptor is open: for those a program inherits, such as a runner's lock on 3.
    public var isOpen: Bool { fcntl(rawValue, F_GETFD) != -1 }

    /// Replaces the whole content of a regular file with `bytes`: ftruncate(2), then pwrite(2) at 0.
    public func replaceContent(with bytes: [UInt8]) throws(SystemError) {
        try calling("ftruncate", untyped: { try resize(to: 0) })
        _ = try calling("pwrite", untyped: { try writeAll(toAbsoluteOffset: 0, bytes) })
    }

    /// fstat(2): what the open file is, whoever has renamed or replaced its name since.
    public func status() throws(SystemError) -> FileSystem.Status {
        FileSystem.Status(try calling("fstat") { () throws(Errno) in try stat() })
    }

    /// lseek(2) to the start: a file just written is read again from its first byte, by this
    /// process or by a program that is handed the descriptor.
    public func rewind() throws(SystemError) {
        _ = try calling("lseek", untyped: { try seek(offset: 0, from: .start) })
    }

    public func sync() throws(SystemError) {
        try valueOrErrno("fsync") { fsync(rawValue) }
    }

    /// Takes an exclusive `flock`; with `wait: false` returns false at once when another process holds it.
    public func lockExclusively(wait: Bool) throws(SystemError) -> Bool {
        do {
            try valueOrErrno("flock") { flock(rawValue, LOCK_EX | (wait ? 0 : LOCK_NB)) }
            return true
        } catch where error.errno == .wouldBlock {
            return false
        }
    }

    /// dup2(2) onto a fixed number, for a program's own standard descriptors: `target` is not
    /// close-on-exec. When this descriptor is `target` already, only that flag is cleared.
    public func duplicate(onto target: Int32) throws(SystemError) {
        if rawValue == target {
            try valueOrErrno("fcntl") { fcntl(rawValue, F_SETFD, 0) }
        } else {
            try valueOrErrno("dup2") { Glibc.dup2(rawValue, target) }
        }
    }

    /// A close-on-exec copy numbered `lowest` or above (fcntl F_DUPFD_CLOEXEC): a program keeps its
    /// original standard error there while descriptor 2 points elsewhere for a while.
    public func duplicatePrivately(atLeast lowest: Int32 = 10) throws(SystemError) -> FileDescriptor {
        FileDescriptor(rawValue: try valueOrErrno("fcntl") { fcntl(rawValue, F_DUPFD_CLOEXEC, lowest) })
    }

    /// fchmod(2): the mode of the open file, whatever the umask made of it.
    public func changeMode(_ mode: FilePermissions) throws(SystemError) {
        try valueOrErrno("fchmod") { fchmod(rawValue, mode.rawValue) }
    }

    /// syncfs(2) of the file system the descriptor is on.
    public func syncFileSystem() throws(SystemError) {
        try valueOrErrno("syncfs") { flowspool_syncfs(rawValue) }
    }

    /// The path by which this process reaches what the descriptor is open on, whatever it is named
    /// now: the kernel resolves /proc/self/fd/N to the open file itself, not to a path.
    public var heldPath: String { "/proc/self/fd/\(rawValue)" }

    /// A file in memory holding `bytes`, read from its start (memfd_create(2), close-on-exec): what
    /// a child reads as its standard input without the bytes showing in its command line.
    public static func inMemory(named name: String, holding bytes: [UInt8]) throws(SystemError) -> FileDescriptor {
        let file = FileDescriptor(rawValue: try valueOrErrno("memfd_create") { memfd_create(name, FLOWSPOOL_MFD_CLOEXEC) })
        do {
            try file.write(bytes)
            try file.rewind()
        } catch {
            try? file.close()
            throw error
        }
        return file
    }

    /// pipe2(2), both ends close-on-exec (swift-system's `pipe()` leaves them inheritable).
    public static func closeOnExecPipe(nonBlocking: Bool = false) throws(SystemError) -> Pipe {
        try calling("pipe2") { () throws(Errno) in
            try FileDescriptor.pipe(options: nonBlocking ? [.closeOnExec, .nonBlocking] : [.closeOnExec])
        }
    }
}
