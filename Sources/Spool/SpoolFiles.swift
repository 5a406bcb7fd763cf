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
}
