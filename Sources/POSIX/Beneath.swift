#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// Opening files inside a tree that may hold hostile entries: a spool, where a FIFO, a symbolic
/// link or a directory can stand where a regular file belongs (flowspool-spool(5), SECURITY).
///
/// A file is opened relative to the tree's root with openat2(2): no symbolic link is followed on the
/// way and nothing outside the root is reached. It is opened with O_NONBLOCK, so that a FIFO never
/// blocks the caller, and anything but a regular file (or, with O_DIRECTORY, a directory) is
/// refused by fstat(2) before a byte is read.
public enum Beneath {
    public static func open(
        _ path: String, in root: String, _ flags: Int32, mode: mode_t = 0o600, fifo: Bool = false
    ) throws(SystemError) -> FileDescriptor {
        guard path.hasPrefix(root + "/"), path.utf8.count > root.utf8.count + 1 else {
            throw SystemError("openat2", path: path, errno: EXDEV, reason: "not inside \(root)")
        }
        let relative = String(path.dropFirst(root.utf8.count + 1))
        let rootFD = try check("open", path: root) { flowspool_open_path(root) }
        defer { _ = Glibc.close(rootFD) }
        let allFlags = flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC
        let fd: Int32
        do {
            fd = try check("openat2", path: path) { flowspool_openat_beneath(rootFD, relative, allFlags, UInt32(mode)) }
        } catch where error.errno == ELOOP {
            throw SystemError("openat2", path: path, errno: ELOOP, reason: "a symbolic link on the way (refused: nothing in the spool is followed)")
        } catch where error.errno == EXDEV {
            throw SystemError("openat2", path: path, errno: EXDEV, reason: "it leads outside \(root)")
        }
        let descriptor = FileDescriptor(rawValue: fd)
        let wantsDirectory = flags & O_DIRECTORY != 0
        let wanted = wantsDirectory ? "a directory" : fifo ? "a FIFO" : "a regular file"
        let info: FileSystem.Status
        do {
            info = try descriptor.status()
        } catch {
            descriptor.close()
            throw SystemError("fstat", path: path, errno: error.errno)
        }
        guard wantsDirectory ? info.isDirectory : fifo ? info.isFIFO : info.isRegularFile else {
            descriptor.close()
            throw SystemError(
                "open", path: path, errno: SystemError.EFTYPE,
                reason: "\(FileSystem.describeKind(info.mode)) where \(wanted) belongs (refused)")
        }
        return descriptor
    }
}

extension FileSystem {
    /// What kind of file a mode says, as an operator reads it: "a FIFO", "a directory", ...
    public static func describeKind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "a file of unknown kind"
        }
    }
}
