import POSIX

/// Reading and appending the files of a spool, as everything in it may be hostile (flowspool-spool(5),
/// SECURITY): each file is opened below the spool's root with no symbolic link on the way, never
/// blocking, and only a regular file is read. A FIFO planted as `children` or a link planted as
/// `status` is refused with an error that says so (`SystemError.isWrongFileKind`), not waited on or
/// followed.
extension Spool {
    public func open(
        _ path: String, _ access: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions = 0o600, fifo: Bool = false
    ) throws(SystemError) -> FileDescriptor {
        try Beneath.open(path, in: root, access, options: options, permissions: permissions, fifo: fifo)
    }

    public func readFile(_ path: String, limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        let fd = try open(path, .readOnly)
        defer { try? fd.close() }
        do {
            return try fd.readAll(limit: limit)
        } catch {
            throw SystemError(error.call, path: path, errno: error.errno)
        }
    }

    /// A small text file; nil when it does not exist.
    public func readText(_ path: String) throws(SystemError) -> String? {
        do {
            return String(decoding: try readFile(path), as: UTF8.self)
        } catch where error.errno == .noSuchFileOrDirectory {
            return nil
        }
    }

    /// Appends one record with a single write(2) on an O_APPEND descriptor, so that the records of
    /// several writers never interleave.
    public func append(_ path: String, _ text: String, mode: FilePermissions = 0o600) throws(SystemError) {
        let fd = try open(path, .writeOnly, options: [.create, .append], permissions: mode)
        defer { try? fd.close() }
        try fd.write(text)
    }

    /// Writes a file that the responders' group reads. Not fsynced: what is published is made again
    /// from the executions after a crash.
    public func publish(_ text: String, to path: String, replacing: Bool = true) throws(SystemError) {
        try placeInItsDirectory(Array(text.utf8), at: path, mode: 0o640, replacing: replacing, sync: false)
    }

    /// Writes a file whole under a dot name in its own directory (whose set-group-ID bit, if any,
    /// gives it the directory's group; tmp/ would give it ours), with `mode` whatever the umask,
    /// then renames it into place.
    public func placeInItsDirectory(_ bytes: [UInt8], at path: String, mode: FilePermissions, replacing: Bool, sync: Bool) throws(SystemError) {
        let slash = path.lastIndex(of: "/")!
        let name = path[path.index(after: slash)...]
        let temporary = "\(path[..<slash])/.\(name).\(Spool.randomToken())"
        do {
            // The mode is set on the descriptor: in a directory another user owns (answers/, as root),
            // a chmod by path could be made to follow a link put in the file's place.
            try FileSystem.writeFile(temporary, bytes, mode: mode, exclusive: true, sync: sync, exactMode: true)
            if replacing {
                try FileSystem.rename(temporary, path)
            } else {
                try FileSystem.renameNoReplace(temporary, path)
            }
        } catch {
            try? FileSystem.removeIfPresent(temporary)
            throw error
        }
    }

    /// 16 random hex digits: a name nobody can guess.
    public static func randomToken() -> String {
        let value = UInt64.random(in: 0...UInt64.max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
