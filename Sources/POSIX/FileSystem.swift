#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// File system calls that name their path in the errors they throw.
public enum FileSystem {
    /// Reads a file whole, failing beyond `limit` bytes. With `beneath`, it is opened as everything
    /// in a spool is (Beneath): below that root, with no symbolic link on the way, never blocking,
    /// and only a regular file is read; without, as open(2) opens it.
    public static func readFile(_ path: String, limit: Int = 64 << 20, beneath root: String? = nil) throws(SystemError) -> [UInt8] {
        let fd: FileDescriptor
        if let root {
            fd = try Beneath.open(path, in: root, .readOnly)
        } else {
            fd = try FileDescriptor.open(path, .readOnly)
        }
        defer { try? fd.close() }
        do {
            return try fd.readAll(limit: limit)
        } catch {
            throw SystemError(error.call, path: path, errno: error.errno)
        }
    }

    /// Reads a small text file, opened as `readFile` opens it; nil when it does not exist.
    public static func readText(_ path: String, beneath root: String? = nil) throws(SystemError) -> String? {
        do {
            return String(decoding: try readFile(path, beneath: root), as: UTF8.self)
        } catch where error.errno == .noSuchFileOrDirectory {
            return nil
        }
    }

    /// Writes a file in place, fsynced. Callers that need atomicity write under tmp/ and rename.
    /// With `sync: false` the caller makes the data durable itself, e.g. with `syncFileSystem` for a batch.
    /// With `exactMode`, the file gets `mode` whatever the umask (fchmod on the descriptor).
    public static func writeFile(_ path: String, _ bytes: some Collection<UInt8>, mode: FilePermissions = 0o600,
                                 exclusive: Bool = false, sync: Bool = true, exactMode: Bool = false) throws(SystemError) {
        let fd = try FileDescriptor.open(
            path, .writeOnly, options: [.create, exclusive ? .exclusiveCreate : .truncate], permissions: mode)
        defer { try? fd.close() }
        do {
            if exactMode { try fd.changeMode(mode) }
            try fd.write(bytes)
            if sync { try fd.sync() }
        } catch {
            throw SystemError(error.call, path: path, errno: error.errno)
        }
    }

    public static func rename(_ from: String, _ to: String) throws(SystemError) {
        try valueOrErrno("rename", path: "\(from) -> \(to)") { Glibc.rename(from, to) }
    }

    /// Renames, failing with EEXIST instead of replacing an existing target.
    public static func renameNoReplace(_ from: String, _ to: String) throws(SystemError) {
        try valueOrErrno("renameat2", path: "\(from) -> \(to)") {
            flowspool_renameat2_noreplace(AT_FDCWD, from, AT_FDCWD, to)
        }
    }


    /// link(2): the second name for a file; fails with EEXIST when `to` exists, which makes it the
    /// "first one wins" of flowspool-spool(5).
    public static func link(_ from: String, _ to: String) throws(SystemError) {
        try valueOrErrno("link", path: to) { Glibc.link(from, to) }
    }

    public static func changeMode(_ path: String, _ mode: FilePermissions) throws(SystemError) {
        try valueOrErrno("chmod", path: path) { chmod(path, mode.rawValue) }
    }

    /// lchown(2): gives a file (never the target of a link, unless `followLinks`) to a group,
    /// keeping its owner.
    public static func changeGroup(_ path: String, _ group: GroupID, followLinks: Bool = false) throws(SystemError) {
        if followLinks {
            try valueOrErrno("chown", path: path) { chown(path, uid_t.max, group.rawValue) }
        } else {
            try valueOrErrno("lchown", path: path) { lchown(path, uid_t.max, group.rawValue) }
        }
    }

    public static func unlink(_ path: String) throws(SystemError) {
        try valueOrErrno("unlink", path: path) { Glibc.unlink(path) }
    }

    /// Unlinks, doing nothing when the file is already gone.
    public static func removeIfPresent(_ path: String) throws(SystemError) {
        do { try unlink(path) } catch where error.errno == .noSuchFileOrDirectory {}
    }

    public static func makeDirectory(_ path: String, mode: FilePermissions = 0o700) throws(SystemError) {
        try valueOrErrno("mkdir", path: path) { mkdir(path, mode.rawValue) }
    }

    /// Creates a directory unless it exists already.
    public static func ensureDirectory(_ path: String, mode: FilePermissions = 0o700) throws(SystemError) {
        do { try makeDirectory(path, mode: mode) } catch where error.errno == .fileExists {}
    }

    public static func makeFIFO(_ path: String, mode: FilePermissions = 0o600) throws(SystemError) {
        do {
            try valueOrErrno("mkfifo", path: path) { mkfifo(path, mode.rawValue) }
        } catch where error.errno == .fileExists {}
    }

    /// Removes a file or a whole directory tree, by descriptors (Directory.removeTree): a link met on
    /// the way is removed, never followed, even one swapped in while the tree is being removed.
    public static func removeTree(_ path: String) throws(SystemError) {
        let (parent, name) = split(path)
        try Directory(parent).removeTree(name)
    }

    /// A path's directory and last name: "a/b/c" is ("a/b", "c"), "c" is (".", "c").
    public static func split(_ path: String) -> (directory: String, name: String) {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", trimmed) }
        let directory = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        return (directory, String(trimmed[trimmed.index(after: slash)...]))
    }

    /// fsyncs a directory, making the renames and links done in it durable.
    public static func syncDirectory(_ path: String) throws(SystemError) {
        let fd = try FileDescriptor.open(path, .readOnly, options: .directory)
        defer { try? fd.close() }
        try fd.sync()
    }

    /// syncfs(2): makes everything written to the file system holding `path` durable, with one call
    /// for a whole batch of files.
    public static func syncFileSystem(_ path: String) throws(SystemError) {
        let fd = try FileDescriptor.open(path, .readOnly, options: .directory)
        defer { try? fd.close() }
        try valueOrErrno("syncfs", path: path) { flowspool_syncfs(fd.rawValue) }
    }

    /// The names in a directory, without "." and "..", in no particular order.
    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        try listDirectoryEntries(path).map(\.name)
    }

    /// One name in a directory and whether it is a directory itself (not a link to one).
    public struct DirectoryEntry: Sendable {
        public let name: String
        public let isDirectory: Bool
    }

    /// The entries of a directory, without "." and "..", in no particular order. The kind comes with
    /// the listing (d_type), so telling directories from the rest costs no extra call.
    public static func listDirectoryEntries(_ path: String) throws(SystemError) -> [DirectoryEntry] {
        guard let dir = opendir(path) else { throw SystemError("opendir", path: path) }
        defer { closedir(dir) }
        return readEntries(dir) { name in ((try? status(path + "/" + name, followLinks: false)) ?? nil)?.isDirectory ?? false }
    }

    /// Reads a directory stream to its end; `isDirectory` asks about a name whose kind the listing
    /// does not tell (DT_UNKNOWN).
    static func readEntries(_ stream: OpaquePointer, isDirectory: (String) -> Bool) -> [DirectoryEntry] {
        var entries: [DirectoryEntry] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            guard name != "." && name != ".." else { continue }
            let type = entry.pointee.d_type
            entries.append(DirectoryEntry(name: name, isDirectory: type == UInt8(DT_UNKNOWN) ? isDirectory(name) : type == UInt8(DT_DIR)))
        }
        return entries
    }

    /// What stat(2) tells of a file, in the terms flowspool asks about.
    public struct Status: Sendable {
        public let type: FileType
        public let permissions: FilePermissions
        public let owner: UserID
        public let group: GroupID
        public let size: Int
        /// How many names the file has (hard links).
        public let linkCount: Int
        /// The file's identity: the device it is on and its inode number there.
        public let device: UInt64
        public let inode: UInt64
        /// Seconds since the epoch, with fractions.
        public let modificationTime: Double

        init(_ info: Stat) {
            type = info.type
            permissions = info.permissions
            owner = info.userID
            group = info.groupID
            size = Int(info.size)
            linkCount = info.linkCount
            device = UInt64(info.rawValue.st_dev)
            inode = UInt64(info.rawValue.st_ino)
            modificationTime = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        }

        public var isDirectory: Bool { type == .directory }
        public var isRegularFile: Bool { type == .regular }
        public var isFIFO: Bool { type == .fifo }
        /// "owned by alice, group responders, mode 2750", as an operator reads it.
        public var ownership: String {
            "owned by \(User.name(of: owner)), group \(Group.name(of: group)), mode \(permissions.octal)"
        }
        /// What kind of file it is, as an operator reads it: "a FIFO", "a directory", ...
        public var kind: String {
            switch type {
            case .regular: "a regular file"
            case .directory: "a directory"
            case .symbolicLink: "a symbolic link"
            case .fifo: "a FIFO"
            case .socket: "a socket"
            case .characterSpecial: "a character device"
            case .blockSpecial: "a block device"
            default: "a file of unknown kind"
            }
        }
    }

    /// " (owned by alice, group responders, mode 710)" for a path whose permissions refused
    /// someone, or nothing when it cannot be looked at: for messages that say why.
    public static func ownershipNote(_ path: String) -> String {
        ((try? status(path)) ?? nil).map { " (\($0.ownership))" } ?? ""
    }

    /// stat(2), or nil when the path does not exist.
    public static func status(_ path: String, followLinks: Bool = true) throws(SystemError) -> Status? {
        do {
            return try calling(followLinks ? "stat" : "lstat", path: path) { () throws(Errno) in
                Status(try FilePath(path).stat(followTargetSymlink: followLinks))
            }
        } catch where error.errno == .noSuchFileOrDirectory || error.errno == .notDirectory {
            return nil
        }
    }

    /// How full the file system holding `path` is (statvfs(2)), as an unprivileged user sees it.
    public struct Space: Sendable {
        public let availableBytes: UInt64
        public let totalBytes: UInt64
        public let availableFiles: UInt64
        public let totalFiles: UInt64
    }

    public static func space(_ path: String) throws(SystemError) -> Space {
        var info = statvfs()
        try valueOrErrno("statvfs", path: path) { statvfs(path, &info) }
        let block = UInt64(info.f_frsize)
        return Space(
            availableBytes: UInt64(info.f_bavail) * block, totalBytes: UInt64(info.f_blocks) * block,
            availableFiles: UInt64(info.f_favail), totalFiles: UInt64(info.f_files))
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// What access(2) checks for.
    public struct AccessRights: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let read = AccessRights(rawValue: R_OK)
        public static let write = AccessRights(rawValue: W_OK)
        /// Executing a file, or passing through a directory.
        public static let execute = AccessRights(rawValue: X_OK)
    }

    /// access(2): fails, saying why, unless the real user has `rights` to `path`.
    public static func checkAccess(_ path: String, for rights: AccessRights) throws(SystemError) {
        try valueOrErrno("access", path: path) { access(path, rights.rawValue) }
    }

    /// Whether this user may pass through a directory (search permission), by access(2).
    public static func mayEnter(_ directory: String) -> Bool {
        access(directory, X_OK) == 0
    }

    public static func isExecutableFile(_ path: String) -> Bool {
        guard let info = try? status(path), info.isRegularFile else { return false }
        return access(path, X_OK) == 0
    }

    /// The absolute form of a path, resolving symbolic links.
    public static func realPath(_ path: String) throws(SystemError) -> String {
        guard let resolved = realpath(path, nil) else { throw SystemError("realpath", path: path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// What a symbolic link holds (readlink(2)), as it is: also what /proc shows for a descriptor.
    public static func readLink(_ path: String) throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = try valueOrErrno("readlink", path: path) { readlink(path, &buffer, buffer.count) }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func changeDirectory(to path: String) throws(SystemError) {
        try valueOrErrno("chdir", path: path) { chdir(path) }
    }

    public static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "." }
        defer { free(cwd) }
        return String(cString: cwd)
    }
}

/// Modes are written in octal, as chmod(1) takes them: `mode: 0o640`.
extension FilePermissions: @retroactive ExpressibleByIntegerLiteral {
    public init(integerLiteral value: CModeT) { self.init(rawValue: value) }

    /// The mode in octal, as ls(1) and chmod(1) speak of it: "2750".
    public var octal: String { String(rawValue, radix: 8) }
}
