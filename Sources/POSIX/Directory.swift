#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// An open directory, worked on by the single names in it (openat, fstatat, unlinkat, renameat),
/// never by paths: where others can write, a path resolved twice can lead somewhere else the
/// second time (a directory swapped for a symbolic link mid-walk), a descriptor cannot. Every
/// directory it opens below it is opened with O_NOFOLLOW, so a link is removed or refused, never
/// followed (flowspool-spool(5), SECURITY).
public final class Directory {
    public let descriptor: FileDescriptor
    /// The path it was opened by, for messages only.
    public let path: String

    /// Opens a directory by path; the last name must not be a symbolic link. `searchOnly` opens
    /// it with O_PATH, for a directory one may pass through and write into but not list.
    public init(_ path: String, searchOnly: Bool = false) throws(SystemError) {
        let flags = Self.openFlags(searchOnly: searchOnly)
        descriptor = FileDescriptor(rawValue: try valueOrErrno("open", path: path) { flowspool_open(path, flags, 0) })
        self.path = path
    }

    /// A directory, never through a link; with O_PATH to pass through and write into, not to list.
    static func openFlags(searchOnly: Bool) -> Int32 {
        (searchOnly ? FLOWSPOOL_O_PATH : O_RDONLY) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
    }

    private init(descriptor: FileDescriptor, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { try? descriptor.close() }

    /// The path of `name` in it, as messages say it. A name is one component: a slash in it would
    /// be a path the *at calls resolve.
    public func path(of name: String) -> String {
        precondition(!name.isEmpty && name != ".." && !name.contains("/"), "'\(name)' is not a name in \(path) (a bug in flowspool)")
        return path + "/" + name
    }

    /// The directory `name` in this one, never through a symbolic link.
    public func subdirectory(_ name: String, searchOnly: Bool = false) throws(SystemError) -> Directory {
        let flags = Self.openFlags(searchOnly: searchOnly)
        let fd = try valueOrErrno("openat", path: path(of: name)) { flowspool_openat(descriptor.rawValue, name, flags, 0) }
        return Directory(descriptor: FileDescriptor(rawValue: fd), path: path(of: name))
    }

    /// Opens the file `name` in this directory without following a link, and without blocking on a
    /// FIFO; the caller checks what kind of file it got.
    public func openFile(
        _ name: String, _ access: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions = 0o600
    ) throws(SystemError) -> FileDescriptor {
        let flags = access.rawValue | options.union([.noFollow, .nonBlocking, .closeOnExec]).rawValue | O_NOCTTY
        return FileDescriptor(rawValue: try valueOrErrno("openat", path: path(of: name)) {
            flowspool_openat(descriptor.rawValue, name, flags, permissions.rawValue)
        })
    }

    /// fstatat(2) of `name`, not following a link; nil when there is no such name.
    public func status(of name: String) throws(SystemError) -> FileSystem.Status? {
        var info = stat()
        do {
            try valueOrErrno("fstatat", path: path(of: name)) { fstatat(descriptor.rawValue, name, &info, AT_SYMLINK_NOFOLLOW) }
        } catch where error.errno == .noSuchFileOrDirectory {
            return nil
        }
        return FileSystem.Status(Stat(rawValue: info))
    }

    /// The status of the directory itself.
    public func status() throws(SystemError) -> FileSystem.Status {
        do {
            return try descriptor.status()
        } catch {
            throw SystemError("fstat", path: path, errno: error.errno)
        }
    }

    /// The names in this directory, without "." and "..": read through a descriptor of its own,
    /// so the listing is of this directory whatever its path now leads to.
    public func entries() throws(SystemError) -> [FileSystem.DirectoryEntry] {
        let own = try valueOrErrno("openat", path: path) { flowspool_openat(descriptor.rawValue, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }
        guard let stream = fdopendir(own) else {
            let error = SystemError("fdopendir", path: path)
            Glibc.close(own)
            throw error
        }
        defer { closedir(stream) }
        return FileSystem.readEntries(stream) { name in ((try? status(of: name)) ?? nil)?.isDirectory ?? false }
    }

    /// unlinkat(2) of a name that is not a directory; nothing when it is gone already.
    public func removeFile(_ name: String) throws(SystemError) {
        do {
            try valueOrErrno("unlinkat", path: path(of: name)) { unlinkat(descriptor.rawValue, name, 0) }
        } catch where error.errno == .noSuchFileOrDirectory {}
    }

    /// Removes `name` whatever it is: a file, a link (never what it points at), or a directory
    /// with everything in it, each level opened with O_NOFOLLOW from the one above.
    public func removeTree(_ name: String) throws(SystemError) {
        guard let info = try status(of: name) else { return }
        guard info.isDirectory else { return try removeFile(name) }
        do {
            let inner = try subdirectory(name)
            for entry in try inner.entries() { try inner.removeTree(entry.name) }
        } catch where error.errno == .tooManySymbolicLinkLevels || error.errno == .notDirectory {
            // Swapped for a link or a file since it was looked at: removed as what it is now.
            return try removeFile(name)
        }
        do {
            try valueOrErrno("unlinkat", path: path(of: name)) { unlinkat(descriptor.rawValue, name, AT_REMOVEDIR) }
        } catch where error.errno == .noSuchFileOrDirectory {}
    }

    /// renameat2(2) of `name` to `newName` in `target`, failing with EEXIST rather than replacing.
    public func move(_ name: String, to target: Directory, as newName: String) throws(SystemError) {
        try valueOrErrno("renameat2", path: "\(path(of: name)) -> \(target.path(of: newName))") {
            flowspool_renameat2_noreplace(descriptor.rawValue, name, target.descriptor.rawValue, newName)
        }
    }

    /// mkdirat(2): a new directory `name` here.
    public func makeDirectory(_ name: String, mode: FilePermissions = 0o700) throws(SystemError) {
        try valueOrErrno("mkdirat", path: path(of: name)) { mkdirat(descriptor.rawValue, name, mode.rawValue) }
    }

    /// The path by which this process reaches the directory whatever it is named now.
    public var heldPath: String { descriptor.heldPath }

    /// A descriptor of the directory that outlives this value, for a directory the process keeps
    /// for its life (close-on-exec, numbered 10 or above).
    public func keepOpen() throws(SystemError) -> FileDescriptor {
        try descriptor.duplicatePrivately()
    }

    /// fsync(2) of the directory, making the renames and links done in it durable.
    public func sync() throws(SystemError) {
        try descriptor.sync()
    }
}
