#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// Signals taken as events on a descriptor (signalfd), so that a poll loop handles them in order
/// with everything else, and no handler ever runs in the middle of other work.
public final class SignalDescriptor {
    public let descriptor: FileDescriptor

    /// Blocks `signals` for the whole process and returns a descriptor that reads them.
    public init(_ signals: [Int32]) throws(SystemError) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        try checkReturnedError("pthread_sigmask") { pthread_sigmask(SIG_BLOCK, &mask, nil) }
        let fd = try check("signalfd") { flowspool_signalfd(&mask) }
        descriptor = FileDescriptor(rawValue: fd)
    }

    deinit { descriptor.close() }

    /// The signals that arrived; empty when none did.
    public func take() throws(SystemError) -> [Int32] {
        let size = MemoryLayout<signalfd_siginfo>.size
        let bytes = try descriptor.readAvailable(limit: size * 64)
        return stride(from: 0, to: bytes.count - size + 1, by: size).map { offset in
            Int32(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: signalfd_siginfo.self) }.ssi_signo)
        }
    }
}

public enum Signal {
    public static func ignore(_ signal: Int32) {
        Glibc.signal(signal, SIG_IGN)
    }

    /// Sends `signal` to a process group; false when the group is gone already.
    @discardableResult
    public static func sendToGroup(_ group: pid_t, _ signal: Int32) -> Bool {
        kill(-group, signal) == 0
    }

    /// The signal's name as people know it: SIGKILL.
    public static func name(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
            SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}
