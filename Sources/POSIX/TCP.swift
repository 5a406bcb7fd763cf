#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// Why a TCP connection could not be made, as an operator reads it.
public struct ConnectError: Error, CustomStringConvertible, Sendable {
    public enum Step: Sendable {
        /// The host name could not be turned into an address.
        case nameLookup
        /// Nothing answered before the deadline (the name lookup included).
        case timeout
        /// An address answered with an error, such as "Connection refused".
        case connection
    }

    public let step: Step
    public let description: String
}

/// TCP client connections, with one deadline for everything from the name lookup on.
public enum TCP {
    /// Connects to the first address of `host` that answers, all before `deadline` (monotonic
    /// seconds). The descriptor returned is blocking and close-on-exec.
    public static func connect(host: String, port: Int, deadline: Double) throws(ConnectError) -> FileDescriptor {
        let addresses = try lookUp(host, port: port, deadline: deadline)
        var failure = ConnectError(step: .connection, description: "no address for \(host)")
        // The list is the lookup's: it lives as long as the lookup does.
        return try withExtendedLifetime(addresses) { () throws(ConnectError) -> FileDescriptor in
            var entry = addresses.list
            while let address = entry {
                entry = address.pointee.ai_next
                do throws(SystemError) {
                    return try attempt(address.pointee, deadline: deadline)
                } catch where error.errno == .timedOut {
                    throw ConnectError(step: .timeout, description: "no answer from \(host) port \(port)")
                } catch {
                    failure = ConnectError(step: .connection, description: "\(host) port \(port): \(error.errno)")
                }
            }
            throw failure
        }
    }

    /// One non-blocking connect(2), waited for with poll(2) until the deadline.
    private static func attempt(_ address: addrinfo, deadline: Double) throws(SystemError) -> FileDescriptor {
        let type = address.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let socket = FileDescriptor(rawValue: try valueOrErrno("socket") { Glibc.socket(address.ai_family, type, address.ai_protocol) })
        do throws(SystemError) {
            do throws(SystemError) {
                // Interrupted, a non-blocking connect goes on in the background, as in progress.
                try valueOrErrno("connect", retryOnInterrupt: false) { Glibc.connect(socket.rawValue, address.ai_addr, address.ai_addrlen) }
            } catch where error.errno == .nowInProgress || error.errno == .interrupted {
                while !(try Poll.wait(for: socket, .writable, timeout: deadline - Clock.monotonic())) {
                    if Clock.monotonic() >= deadline { throw SystemError("connect", errno: .timedOut) }
                }
                var socketError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                try valueOrErrno("getsockopt") { getsockopt(socket.rawValue, SOL_SOCKET, SO_ERROR, &socketError, &length) }
                if socketError != 0 { throw SystemError("connect", errno: Errno(rawValue: socketError)) }
            }
            let flags = try valueOrErrno("fcntl") { fcntl(socket.rawValue, F_GETFL) }
            try valueOrErrno("fcntl") { fcntl(socket.rawValue, F_SETFL, flags & ~O_NONBLOCK) }
            return socket
        } catch {
            try? socket.close()
            throw error
        }
    }

    /// The addresses of a host. getaddrinfo(3) has no timeout of its own, so a name (not a numeric
    /// address) is looked up on a thread of its own, which the caller stops waiting for at the
    /// deadline; the thread then finishes in the background, and the last of the two to let go of
    /// the lookup frees its result and its eventfd.
    private static func lookUp(_ host: String, port: Int, deadline: Double) throws(ConnectError) -> AddressLookup {
        let numeric = AddressLookup(host, port: port, numericOnly: true)
        numeric.resolve()
        if numeric.status == 0 { return numeric }
        let lookup = AddressLookup(host, port: port, numericOnly: false)
        do {
            let done = try lookup.makeDoneSignal()
            try Threads.detach { lookup.resolve() }
            // A signal ends a wait early: wait again until the deadline.
            while !(try Poll.wait(for: done, .readable, timeout: deadline - Clock.monotonic())) {
                if Clock.monotonic() >= deadline {
                    throw ConnectError(step: .timeout, description: "no answer from \(host) port \(port): looking up its name took too long")
                }
            }
        } catch let error as ConnectError {
            throw error
        } catch {
            throw ConnectError(step: .nameLookup, description: "cannot look up \(host): \(error)")
        }
        guard lookup.status == 0, lookup.list != nil else {
            throw ConnectError(step: .nameLookup, description: "cannot resolve \(host): \(String(cString: gai_strerror(lookup.status)))")
        }
        return lookup
    }
}

/// One getaddrinfo(3) call and its result, and for a lookup on another thread, an eventfd that
/// thread signals when the result is there. Freed by whichever thread lets go of it last.
private final class AddressLookup: @unchecked Sendable {
    let host: String
    let port: Int
    let numericOnly: Bool
    private var done: FileDescriptor?
    private(set) var list: UnsafeMutablePointer<addrinfo>?
    private(set) var status: Int32 = EAI_AGAIN

    init(_ host: String, port: Int, numericOnly: Bool) {
        (self.host, self.port, self.numericOnly) = (host, port, numericOnly)
    }

    /// The eventfd `resolve` signals; made before the lookup starts.
    func makeDoneSignal() throws(SystemError) -> FileDescriptor {
        let descriptor = FileDescriptor(rawValue: try valueOrErrno("eventfd") { flowspool_eventfd() })
        done = descriptor
        return descriptor
    }

    func resolve() {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        hints.ai_flags = numericOnly ? AI_NUMERICHOST : 0
        status = getaddrinfo(host, String(port), &hints, &list)
        if let done { _ = flowspool_eventfd_signal(done.rawValue) }
    }

    deinit {
        if let list { freeaddrinfo(list) }
        try? done?.close()
    }
}
