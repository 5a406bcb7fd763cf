#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// A directory held open, in which files are made, looked at, renamed and removed by name relative
/// to its descriptor (the *at calls): whoever renames the directory's path or puts a link in its
/// place afterwards changes nothing of where they go. Each name is one component, never followed
/// when it is a symbolic link. Errors name the call and the file's path. Whoever opens it closes it.
public struct OpenDirectory {
    /// The path it was opened by: for messages only.
    public let path: String
    public let descriptor: FileDescriptor

    /// open(2) with O_DIRECTORY|O_NOFOLLOW: a symbolic link in the last component fails with ELOOP,
    /// anything but a directory with ENOTDIR.
    public static func open(_ path: String) throws(SystemError) -> OpenDirectory {
        OpenDirectory(path: path, descriptor: try FileDescriptor.open(path, .readOnly, options: [.directory, .noFollow]))
    }

    public func close() throws(SystemError) {
        try calling("close", path: path, untyped: { try descriptor.close() })
    }

    /// The path of `name` in it, as messages say it.
    public func path(of name: String) -> String { path + "/" + name }

    /// fstat(2) of the directory that is open, whatever its path names now.
    public func status() throws(SystemError) -> FileSystem.Status {
        do {
            return try descriptor.status()
        } catch {
            throw SystemError("fstat", path: path, errno: error.errno)
        }
    }

    /// fstatat(2) of one name, not following a symbolic link; nil when there is no such name.
    public func status(of name: String) throws(SystemError) -> FileSystem.Status? {
        checkComponent(name)
        do {
            return try calling("fstatat", path: path(of: name)) { () throws(Errno) in
                FileSystem.Status(try Stat(FilePath(name), relativeTo: descriptor, flags: .symlinkNoFollow))
            }
        } catch where error.errno == .noSuchFileOrDirectory {
            return nil
        }
    }

    /// openat(2) of one name with O_NOFOLLOW, close-on-exec. With `.create` and `.exclusiveCreate`
    /// it makes a new file or fails with EEXIST: a name that is there already, a symbolic link
    /// among them, is never written through.
    public func open(
        _ name: String, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions = .ownerReadWrite
    ) throws(SystemError) -> FileDescriptor {
        checkComponent(name)
        let flags = mode.rawValue | options.union([.noFollow, .closeOnExec]).rawValue | O_NOCTTY
        return FileDescriptor(rawValue: try valueOrErrno("openat", path: path(of: name)) {
            openat(descriptor.rawValue, name, flags, permissions.rawValue)
        })
    }

    /// unlinkat(2) of one name (a symbolic link itself, never what it points to).
    public func unlink(_ name: String) throws(SystemError) {
        checkComponent(name)
        try valueOrErrno("unlinkat", path: path(of: name)) { unlinkat(descriptor.rawValue, name, 0) }
    }

    /// renameat2(2) with RENAME_NOREPLACE within the directory: fails with EEXIST rather than
    /// replacing a file that has `to` for its name.
    public func renameNoReplace(_ from: String, to: String) throws(SystemError) {
        checkComponent(from)
        checkComponent(to)
        try valueOrErrno("renameat2", path: "\(path(of: from)) -> \(path(of: to))") {
            flowspool_renameat2_noreplace(descriptor.rawValue, from, descriptor.rawValue, to)
        }
    }

    /// fsync(2) of the directory: makes the names made, renamed and removed in it durable.
    public func sync() throws(SystemError) {
        try valueOrErrno("fsync", path: path) { fsync(descriptor.rawValue) }
    }

    /// A name here is one component: a slash in it would be a path the *at calls resolve.
    private func checkComponent(_ name: String) {
        precondition(!name.isEmpty && name != "." && name != ".." && !name.contains("/"), "'\(name)' is not a name in \(path) (a bug in flowspool)")
    }
}
