import POSIX

/// Opening and appending the files of a spool, as everything in it may be hostile (flowspool-spool(5),
/// SECURITY): each file is opened below the spool's root with no symbolic link on the way, never
/// blocking, and only a regular file is read. A FIFO planted as `children` or a link planted as
/// `status` is refused with an error that says so (`SystemError.isWrongFileKind`), not waited on or
/// followed. Files are read so with `FileSystem.readFile(path, beneath: root)` and `readText`.
extension Spool {
    public func open(
        _ path: String, _ access: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
        permissions: FilePermissions = 0o600, fifo: Bool = false
    ) throws(SystemError) -> FileDescriptor {
        try Beneath.open(path, in: root, access, options: options, permissions: permissions, fifo: fifo)
    }

    /// Appends one record with a single write(2) on an O_APPEND descriptor, so that the records of
    /// several writers never interleave.
    public func append(_ path: String, _ text: String, mode: FilePermissions = 0o600) throws(SystemError) {
        let fd = try open(path, .writeOnly, options: [.create, .append], permissions: mode)
        defer { try? fd.close() }
        try fd.write(text)
    }
}
