#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// Signals taken as events on a descriptor (signalfd), so that a poll loop handles them in order
/// with everything else, and no handler ever runs in the middle of other work.
public final class SignalDescriptor {
    public let descriptor: FileDescriptor

    /// Blocks `signals` for the whole process and returns a descriptor that reads them.
    public init(_ signals: [Signal]) throws(SystemError) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal.rawValue) }
        try returnedErrno("pthread_sigmask") { pthread_sigmask(SIG_BLOCK, &mask, nil) }
        let fd = try valueOrErrno("signalfd") { flowspool_signalfd(&mask) }
        descriptor = FileDescriptor(rawValue: fd)
    }

    deinit { try? descriptor.close() }

    /// The signals that arrived; empty when none did.
    public func take() throws(SystemError) -> [Signal] {
        let size = MemoryLayout<signalfd_siginfo>.size
        let bytes = try descriptor.readAvailable(limit: size * 64)
        return stride(from: 0, to: bytes.count - size + 1, by: size).map { offset in
            Signal(rawValue: Int32(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: signalfd_siginfo.self) }.ssi_signo))
        }
    }
}

/// A signal, named as people know it.
public struct Signal: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let hangUp = Signal(rawValue: SIGHUP)
    public static let interrupt = Signal(rawValue: SIGINT)
    public static let kill = Signal(rawValue: SIGKILL)
    public static let terminate = Signal(rawValue: SIGTERM)
    public static let childEnded = Signal(rawValue: SIGCHLD)
    public static let brokenPipe = Signal(rawValue: SIGPIPE)
    public static let windowChanged = Signal(rawValue: SIGWINCH)

    public func ignore() {
        Glibc.signal(rawValue, SIG_IGN)
    }

    /// Sends the signal to a process; false when it is gone already.
    @discardableResult
    public func send(to process: ProcessID) -> Bool {
        Glibc.kill(process, rawValue) == 0
    }

    /// Sends the signal to a process group; false when the group is gone already.
    @discardableResult
    public func send(toGroup group: ProcessID) -> Bool {
        Glibc.kill(-group, rawValue) == 0
    }

    /// The signal's name as people know it: SIGKILL.
    public var description: String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
            SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
        ]
        return names[rawValue] ?? "signal \(rawValue)"
    }
}
