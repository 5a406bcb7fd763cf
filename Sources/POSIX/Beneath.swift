#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// Opening files inside a tree that may hold hostile entries: a spool, where a FIFO, a symbolic
/// link or a directory can stand where a regular file belongs (flowspool-spool(5), SECURITY).
///
/// A file is opened relative to the tree's root with openat2(2): no symbolic link is followed on the
/// way and nothing outside the root is reached. It is opened with O_NONBLOCK, so that a FIFO never
/// blocks the caller, and anything but a regular file (or, with O_DIRECTORY, a directory) is
/// refused by fstat(2) before a byte is read.
public enum Beneath {
    public static func open(
        _ path: String, in root: String, _ access: FileDescriptor.AccessMode,
        options: FileDescriptor.OpenOptions = [], permissions: FilePermissions = 0o600, fifo: Bool = false
    ) throws(SystemError) -> FileDescriptor {
        guard path.hasPrefix(root + "/"), path.utf8.count > root.utf8.count + 1 else {
            throw SystemError("openat2", path: path, errno: .improperLink, reason: "not inside \(root)")
        }
        let relative = String(path.dropFirst(root.utf8.count + 1))
        let rootDescriptor = FileDescriptor(rawValue: try valueOrErrno("open", path: root) { flowspool_open_path(root) })
        defer { try? rootDescriptor.close() }
        let flags = access.rawValue | options.union([.noFollow, .nonBlocking, .closeOnExec]).rawValue | O_NOCTTY
        let descriptor: FileDescriptor
        do {
            descriptor = FileDescriptor(rawValue: try valueOrErrno("openat2", path: path) {
                flowspool_openat_beneath(rootDescriptor.rawValue, relative, flags, UInt32(permissions.rawValue))
            })
        } catch where error.errno == .tooManySymbolicLinkLevels {
            throw SystemError("openat2", path: path, errno: error.errno, reason: "a symbolic link on the way (refused: nothing in the spool is followed)")
        } catch where error.errno == .improperLink {
            throw SystemError("openat2", path: path, errno: error.errno, reason: "it leads outside \(root)")
        }
        let wantsDirectory = options.contains(.directory)
        let wanted = wantsDirectory ? "a directory" : fifo ? "a FIFO" : "a regular file"
        let info: FileSystem.Status
        do {
            info = try descriptor.status()
        } catch {
            try? descriptor.close()
            throw SystemError("fstat", path: path, errno: error.errno)
        }
        guard wantsDirectory ? info.isDirectory : fifo ? info.isFIFO : info.isRegularFile else {
            try? descriptor.close()
            throw SystemError(
                "open", path: path, errno: .wrongFileKind, reason: "\(info.kind) where \(wanted) belongs (refused)")
        }
        return descriptor
    }
}
