import CHiredis
import POSIX

/// A failed step of talking to Redis, as the operator reads it.
public struct RedisError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// The connection could not be made (nothing listens, the name does not resolve).
        case connect
        /// No answer before the deadline, connecting or waiting for a reply.
        case timeout
        /// The connection broke or the server spoke something that is not Redis.
        case connection
    }

    public let kind: Kind
    public let description: String
}

/// One reply, as RESP2 (hiredis 0.14, Debian 12's) gives it.
public indirect enum RedisReply: Equatable, Sendable {
    case status(String)
    /// A bulk string: any bytes.
    case string([UInt8])
    case integer(Int64)
    case null
    case array([RedisReply])
    /// An error reply: Redis's own text ("ERR unknown command ...", "WRONGPASS ...").
    case error(String)
}

/// One connection to a Redis server over hiredis' blocking API. The socket is made by POSIX's TCP
/// connect, so that one deadline covers the name lookup too, and handed to hiredis, which closes it.
/// The unsafe pointers stay here.
public final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    private let endpoint: String

    /// Connects before `deadline` (monotonic seconds).
    public init(host: String, port: Int, deadline: Double) throws(RedisError) {
        endpoint = "\(host) port \(port)"
        let socket: FileDescriptor
        do {
            socket = try TCP.connect(host: host, port: port, deadline: deadline)
        } catch {
            throw RedisError(kind: error.step == .timeout ? .timeout : .connect, description: "cannot connect to Redis: \(error)")
        }
        guard let context = redisConnectFd(socket.rawValue) else {
            try? socket.close()
            throw RedisError(kind: .connection, description: "cannot connect to Redis at \(endpoint): out of memory")
        }
        self.context = context
        // deinit frees the context, even when this throws.
        if context.pointee.err != 0 { throw failure("connect") }
    }

    deinit { redisFree(context) }

    /// Sends one command (binary-safe: each argument is bytes) and waits for its reply until
    /// `deadline`.
    public func command(_ arguments: [[UInt8]], deadline: Double) throws(RedisError) -> RedisReply {
        try pipeline([arguments], deadline: deadline)[0]
    }

    /// Sends several commands at once and reads their replies, in order: one round trip for them
    /// all. Each read waits until `deadline` at most.
    public func pipeline(_ commands: [[[UInt8]]], deadline: Double) throws(RedisError) -> [RedisReply] {
        let remaining = max(0.001, deadline - Clock.monotonic())
        let whole = Int(remaining)
        let timeout = timeval(tv_sec: whole, tv_usec: Int((remaining - Double(whole)) * 1_000_000))
        guard redisSetTimeout(context, timeout) == REDIS_OK else { throw failure("setting the timeout") }
        for arguments in commands {
            let queued = withArgv(arguments) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            guard queued == REDIS_OK else { throw failure("queueing a command") }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var reply: UnsafeMutableRawPointer?
            guard redisGetReply(context, &reply) == REDIS_OK, let reply else { throw failure("waiting for a reply") }
            defer { freeReplyObject(reply) }
            replies.append(Self.convert(reply.assumingMemoryBound(to: redisReply.self).pointee))
        }
        return replies
    }

    /// The arguments as hiredis takes them: argc, pointers and lengths, valid during `body`.
    private func withArgv<R>(_ arguments: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        let copies = arguments.map { bytes in
            let copy = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
            if !bytes.isEmpty { bytes.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
            return copy
        }
        defer { copies.forEach { $0.deallocate() } }
        var pointers = copies.map { UnsafePointer<CChar>?($0.assumingMemoryBound(to: CChar.self)) }
        let lengths = arguments.map(\.count)
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { body(Int32(arguments.count), argv.baseAddress!, $0.baseAddress!) }
        }
    }

    private static func convert(_ reply: redisReply) -> RedisReply {
        func bytes() -> [UInt8] {
            guard let text = reply.str else { return [] }
            return Array(UnsafeRawBufferPointer(start: text, count: reply.len))
        }
        switch reply.type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_STRING: return .string(bytes())
        case REDIS_REPLY_INTEGER: return .integer(reply.integer)
        case REDIS_REPLY_ARRAY:
            return .array((0..<reply.elements).map { convert(reply.element[$0]!.pointee) })
        default: return .null
        }
    }

    /// What hiredis recorded of a failure, said for the operator: a timeout as one.
    private func failure(_ step: String) -> RedisError {
        let code = context.pointee.err
        let detail = withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if code == REDIS_ERR_IO, Errno.current == .wouldBlock || Errno.current == .timedOut {
            return RedisError(kind: .timeout, description: "no reply from Redis at \(endpoint) (\(step))")
        }
        if code == REDIS_ERR_EOF {
            return RedisError(kind: .connection, description: "Redis at \(endpoint) closed the connection (\(step))")
        }
        return RedisError(kind: .connection, description: "Redis at \(endpoint): \(detail.isEmpty ? "error \(code)" : detail) (\(step))")
    }
}
