/// Writes to a FIFO without blocking, doing nothing when no process reads it (ENXIO):
/// a poke through one is a hint, and the files are the truth (flowspool-spool(5), Writing files).
public enum FIFO {
    /// Returns false when nobody has the FIFO open for reading.
    @discardableResult
    public static func poke(_ path: String, _ message: String = "\n") throws(SystemError) -> Bool {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .writeOnly, options: .nonBlocking)
        } catch where error.errno == .noSuchAddressOrDevice || error.errno == .noSuchFileOrDirectory {
            return false
        }
        defer { try? fd.close() }
        do {
            try fd.write(message)
        } catch where error.errno == .wouldBlock || error.errno == .brokenPipe {
            return error.errno == .wouldBlock  // full: the reader is awake anyway
        }
        return true
    }
}
