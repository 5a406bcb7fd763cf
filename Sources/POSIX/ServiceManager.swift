import CPOSIX

/// systemd's service notification protocol (sd_notify(3)) without libsystemd: newline-separated
/// `KEY=VALUE` assignments in one datagram to the Unix socket named by $NOTIFY_SOCKET. Without that
/// variable (no systemd, or not `Type=notify`), notifying does nothing.
public enum ServiceManager {
    /// Read once and taken out of the environment, so that no process started later (a runner, a
    /// task) can speak for the service.
    static let socketPath: String? = {
        let path = Environment.nonEmptyValue("NOTIFY_SOCKET")
        Environment.unset("NOTIFY_SOCKET")
        return path
    }()

    /// Reads $NOTIFY_SOCKET now: call before anything is started.
    public static func prepare() { _ = socketPath }

    /// Sends `state`, assignments a line ("READY=1\nSTATUS=...", "STOPPING=1"), when a service
    /// manager listens.
    public static func notify(_ state: String) throws(SystemError) {
        guard let socketPath else { return }
        try valueOrErrno("sendto", path: socketPath) {
            state.withCString { flowspool_send_datagram(socketPath, $0, state.utf8.count) }
        }
    }
}
