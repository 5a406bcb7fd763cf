#if canImport(Glibc)
import Glibc
#endif
import POSIX
import Testing

/// A TCP listener on 127.0.0.1 with a port of the kernel's choosing, that never accepts.
private final class Listener {
    let descriptor: Int32
    let port: Int

    init(backlog: Int32) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, backlog) == 0
                    && getsockname(descriptor, pointer, &length) == 0
            }
        }
        try #require(bound, "a listener on 127.0.0.1")
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

@Suite("TCP connections")
struct TCPTests {
    @Test("connects to a listening loopback port, by address and by name")
    func connects() throws {
        let listener = try Listener(backlog: 8)
        for host in ["127.0.0.1", "localhost"] {
            let socket = try TCP.connect(host: host, port: listener.port, deadline: Clock.monotonic() + 10)
            try? socket.close()
        }
    }

    @Test("a closed port is refused, and the error says so and names host and port")
    func refused() throws {
        let port = try Listener(backlog: 1).port  // closed again at once
        #expect {
            try TCP.connect(host: "127.0.0.1", port: port, deadline: Clock.monotonic() + 10)
        } throws: { error in
            let error = error as! ConnectError
            return error.step == .connection && error.description == "127.0.0.1 port \(port): Connection refused"
        }
    }

    @Test("a listener whose queue is full never answers: the connection ends at the deadline as a timeout")
    func deadline() throws {
        let listener = try Listener(backlog: 0)
        // Fill the accept queue; further handshakes are left unanswered by the kernel.
        var held: [FileDescriptor] = []
        defer { held.forEach { try? $0.close() } }
        for _ in 0..<8 {
            guard let socket = try? TCP.connect(host: "127.0.0.1", port: listener.port, deadline: Clock.monotonic() + 0.3) else { break }
            held.append(socket)
        }
        #expect {
            try TCP.connect(host: "127.0.0.1", port: listener.port, deadline: Clock.monotonic() + 0.3)
        } throws: { error in
            let error = error as! ConnectError
            return error.step == .timeout && error.description == "no answer from 127.0.0.1 port \(listener.port)"
        }
    }

    @Test("a name that does not resolve is a lookup error that names it")
    func unknownName() throws {
        #expect {
            try TCP.connect(host: "no-such-host.invalid", port: 22, deadline: Clock.monotonic() + 10)
        } throws: { error in
            let error = error as! ConnectError
            return (error.step == .nameLookup && error.description.hasPrefix("cannot resolve no-such-host.invalid: "))
                || error.step == .timeout
        }
    }
}
