import CLibSSH2
import POSIX

/// A failed SSH step: the call's name and what libssh2 (or the system) said.
public struct SSHError: Error, CustomStringConvertible {
    public let call: String
    public let detail: String
    public let isTimeout: Bool
    /// libssh2's error code, when the failure is libssh2's.
    public let code: Int32?

    public init(_ call: String, _ detail: String, isTimeout: Bool = false, code: Int32? = nil) {
        self.call = call
        self.detail = detail
        self.isTimeout = isTimeout
        self.code = code
    }

    /// The two sides agreed on no key exchange or host-key method.
    public var isNegotiationFailure: Bool { code == LIBSSH2_ERROR_KEX_FAILURE }
    /// A private key that is encrypted and was given no (or the wrong) passphrase.
    public var isEncryptedKey: Bool { code == LIBSSH2_ERROR_FILE && detail.lowercased().contains("passphrase") }
    /// A private key libssh2 could not use: unreadable, or encrypted and not opened.
    public var isUnusableKey: Bool { code == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED || isEncryptedKey }

    public var description: String { "\(call): \(detail)" }
}

/// One SSH connection: a TCP socket and a libssh2 session over it. The unsafe pointers stay here.
public final class SSHConnection {
    let socket: FileDescriptor
    let session: OpaquePointer

    private static let libraryInit: Int32 = libssh2_init(0)

    /// The version of the libssh2 this process loaded: "1.10.0", "1.11.1".
    public static var libraryVersion: String {
        libssh2_version(0).map { String(cString: $0) } ?? "unknown"
    }

    /// The file of the libssh2 this process loaded, as /proc/self/maps names it (links resolved):
    /// the system's, or one that LD_LIBRARY_PATH put first.
    public static var libraryPath: String? {
        let maps = (try? FileSystem.readText("/proc/self/maps")) ?? nil
        return maps?.split(separator: "\n").lazy
            .compactMap { line in line.firstIndex(of: "/").map { String(line[$0...]) } }
            .first { $0.split(separator: "/").last?.hasPrefix("libssh2.so") == true }
    }

    /// The host-key algorithms the loaded libssh2 can check (libssh2_session_supported_algs):
    /// rsa-sha2-512 and rsa-sha2-256 from 1.11 on, only ssh-rsa before.
    public static let supportedHostKeyAlgorithms: [String] = {
        guard libraryInit == 0, let session = flowspool_ssh_session_init() else { return [] }
        defer { libssh2_session_free(session) }
        var names: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &names)
        guard count > 0, let names else { return [] }
        defer { libssh2_free(session, names) }
        return (0..<Int(count)).compactMap { names[$0].map { String(cString: $0) } }
    }()

    /// Initializes libssh2 (and its crypto library) ahead of the first connection.
    public static func initializeLibrary() {
        _ = libraryInit
    }

    /// Connects and does the SSH handshake, both before `deadline` (monotonic seconds).
    /// `hostKeyAlgorithms` (e.g. "ssh-ed25519") asks the server for the key kinds the caller can check.
    public init(host: String, port: Int, deadline: Double, hostKeyAlgorithms: String?) throws(SSHError) {
        guard Self.libraryInit == 0 else { throw SSHError("libssh2_init", "failed") }
        do {
            socket = try TCP.connect(host: host, port: port, deadline: deadline)
        } catch {
            throw SSHError(error.step == .nameLookup ? "getaddrinfo" : "connect", error.description, isTimeout: error.step == .timeout)
        }
        guard let session = flowspool_ssh_session_init() else {
            try? socket.close()
            throw SSHError("libssh2_session_init", "out of memory")
        }
        self.session = session
        if let hostKeyAlgorithms {
            _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, hostKeyAlgorithms)
        }
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, Self.milliseconds(until: deadline))
        let result = libssh2_session_handshake(session, socket.rawValue)
        if result != 0 {
            let error = self.error("libssh2_session_handshake", result)
            close()
            throw error
        }
    }

    deinit { close() }

    private var closed = false

    public func close() {
        guard !closed else { return }
        closed = true
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, 1000)
        _ = flowspool_ssh_disconnect(session, "flowspool done")
        libssh2_session_free(session)
        try? socket.close()
    }

    static func milliseconds(until deadline: Double) -> Int {
        max(1, Int(((deadline - Clock.monotonic()) * 1000).rounded(.up)))
    }

    func error(_ call: String, _ code: Int32) -> SSHError {
        var message: UnsafeMutablePointer<CChar>?
        _ = flowspool_ssh_last_error(session, &message)
        let detail = message.map { String(cString: $0) } ?? "error \(code)"
        return SSHError(call, detail.isEmpty ? "error \(code)" : detail, isTimeout: code == LIBSSH2_ERROR_TIMEOUT, code: code)
    }

    /// The key the server proved it holds: the SSH wire blob, whose first field names its kind.
    public var hostKey: [UInt8]? {
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &length, &type) else { return nil }
        return Array(UnsafeRawBufferPointer(start: key, count: length))
    }

    public func authenticate(user: String, password: String) throws(SSHError) {
        let result = flowspool_ssh_password(session, user, password)
        if result != 0 { throw error("password authentication", result) }
    }

    /// Authenticates with a private key held in memory (OpenSSH or PEM format).
    public func authenticate(user: String, privateKey: String, passphrase: String?) throws(SSHError) {
        let key = Array(privateKey.utf8)
        let result = key.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                libssh2_userauth_publickey_frommemory(
                    session, user, user.utf8.count, nil, 0, chars.baseAddress, chars.count, passphrase)
            }
        }
        if result != 0 { throw error("public key authentication", result) }
    }

    /// Which of a command's streams some output came from.
    public enum Stream: Sendable {
        case standardOutput, standardError
    }

    /// How a command run with `run` ended.
    public enum Ending: Equatable, Sendable {
        case exited(Int32)
        /// Killed by a signal, named as the server named it ("KILL").
        case signaled(String)
        case timedOut
    }

    /// Runs `command` through the remote user's shell, with nothing on its standard input, and
    /// hands its output over as it comes, both streams in the order read. At `timeout` seconds the
    /// connection is abandoned, at once, and `.timedOut` returned: the connection is good for
    /// nothing more then.
    public func run(_ command: String, timeout: Double, output: (Stream, [UInt8]) -> Void) throws(SSHError) -> Ending {
        let deadline = Clock.monotonic() + timeout
        let channel = try start(command, deadline: deadline)
        defer { libssh2_channel_free(channel) }
        libssh2_session_set_blocking(session, 0)
        defer { libssh2_session_set_blocking(session, 1) }
        var buffer = [CChar](repeating: 0, count: 32768)
        while true {
            let progressed = try drain(channel, into: &buffer, until: deadline, output)
            if libssh2_channel_eof(channel) != 0 { break }
            let remaining = deadline - Clock.monotonic()
            if remaining <= 0 {
                abandon()
                return .timedOut
            }
            if !progressed { try waitForSocket(timeout: remaining) }
        }
        return try ending(of: channel, deadline: deadline)
    }

    /// Opens a session channel and starts `command` on it, its standard input closed.
    private func start(_ command: String, deadline: Double) throws(SSHError) -> OpaquePointer {
        libssh2_session_set_timeout(session, Self.milliseconds(until: deadline))
        guard let channel = flowspool_ssh_open_session(session) else {
            throw error("libssh2_channel_open_session", libssh2_session_last_errno(session))
        }
        let bytes = Array(command.utf8)
        let started = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { flowspool_ssh_exec(channel, $0.baseAddress, UInt32($0.count)) }
        }
        if started != 0 {
            libssh2_channel_free(channel)
            throw error("libssh2_channel_exec", started)
        }
        // The script's standard input is empty, as `ssh host script </dev/null` gives it: a script
        // that reads it (`read x`, `cat`) gets end of file instead of waiting for its timeout.
        let closedInput = libssh2_channel_send_eof(channel)
        if closedInput != 0 {
            libssh2_channel_free(channel)
            throw error("libssh2_channel_send_eof", closedInput)
        }
        return channel
    }

    /// Reads what both streams hold now (the session non-blocking), until neither has more or
    /// `deadline` passes, so that a script that never stops printing still ends at its time.
    /// Whether anything was read.
    private func drain(
        _ channel: OpaquePointer, into buffer: inout [CChar], until deadline: Double, _ output: (Stream, [UInt8]) -> Void
    ) throws(SSHError) -> Bool {
        var progressed = false
        for (stream, number) in [(Stream.standardOutput, Int32(0)), (.standardError, Int32(SSH_EXTENDED_DATA_STDERR))] {
            while Clock.monotonic() < deadline {
                let count = buffer.withUnsafeMutableBufferPointer { flowspool_ssh_read(channel, number, $0.baseAddress, $0.count) }
                if count == 0 || count == Int(LIBSSH2_ERROR_EAGAIN) { break }
                if count < 0 { throw error("libssh2_channel_read", Int32(count)) }
                output(stream, buffer.prefix(count).map { UInt8(bitPattern: $0) })
                progressed = true
            }
        }
        return progressed
    }

    /// How the command on a channel at end of file ended: its exit status or signal, which the
    /// server sends as it closes the channel, once the command has exited. A command that closed
    /// its output and runs on past `deadline` has timed out.
    private func ending(of channel: OpaquePointer, deadline: Double) throws(SSHError) -> Ending {
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, Self.milliseconds(until: deadline))
        let closed = libssh2_channel_close(channel)
        let waited = closed < 0 ? closed : libssh2_channel_wait_closed(channel)
        if waited == LIBSSH2_ERROR_TIMEOUT || waited == LIBSSH2_ERROR_SOCKET_TIMEOUT {
            abandon()
            return .timedOut
        }
        // A connection lost before the server closed the channel has no exit status to read (it
        // would read as 0): the end is unknown, and the error says so.
        if waited < 0 { throw error(closed < 0 ? "libssh2_channel_close" : "libssh2_channel_wait_closed", waited) }
        var signal: UnsafeMutablePointer<CChar>?
        var length = 0
        if libssh2_channel_get_exit_signal(channel, &signal, &length, nil, nil, nil, nil) == 0, let signal, length > 0 {
            let name = String(decoding: UnsafeRawBufferPointer(start: signal, count: length), as: UTF8.self)
            libssh2_free(session, signal)
            return .signaled(name)
        }
        return .exited(libssh2_channel_get_exit_status(channel))
    }

    /// Ends the connection without waiting for the server, as `timeout(1)` ending ssh does: a
    /// disconnect message, if it can go at once, then the socket shut in both directions, so that
    /// freeing the channel and the session finds the connection gone instead of waiting for the
    /// server to close the channel (sshd closes it only once the command has exited). The command
    /// gets no signal, as with ssh.
    func abandon() {
        libssh2_session_set_blocking(session, 0)
        _ = flowspool_ssh_disconnect(session, "script timeout")
        try? socket.shutDown()
    }

    /// Gives the next blocking calls (authentication) what is left until `deadline`.
    public func setTimeout(until deadline: Double) {
        libssh2_session_set_timeout(session, Self.milliseconds(until: deadline))
    }

    /// Waits until the socket is ready in the directions libssh2 is blocked on.
    func waitForSocket(timeout: Double) throws(SSHError) {
        let blocked = libssh2_session_block_directions(session)
        var directions: Poll.Directions = []
        if blocked & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { directions.insert(.readable) }
        if blocked & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { directions.insert(.writable) }
        do {
            _ = try Poll.wait(for: socket, directions.isEmpty ? .readable : directions, timeout: min(timeout, 60))
        } catch {
            throw SSHError("poll", "\(error.errno)")
        }
    }
}
