import Basics
import JSON
import Redis
import POSIX
import Spool
import TaskRunner

/// The REDIS task's inputs, read and checked before anything is sent.
struct RedisRequest {
    var host: String
    var port: Int
    /// The command's words and its arguments, as bytes: what goes on the wire.
    var arguments: [[UInt8]]
    /// The command's name as people write it ("GET", "CONFIG GET"), for messages: never its arguments.
    var commandName: String
    var username: String?
    var password: String?
    var database: Int?
    var timeout: Double

    static let defaultPort = 6379
    static let defaultTimeout = 10.0

    /// Commands that keep the connection for a stream of messages, which one execution cannot return.
    static let streamingCommands: Set<String> = ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR", "SYNC", "PSYNC"]

    init(_ inputs: inout TaskInputs) throws(TaskFailure) {
        host = try inputs.requiredString("host")
        port = try inputs.integer("port") ?? Self.defaultPort
        guard (1...65535).contains(port) else { throw TaskFailure("input 'port' must be from 1 to 65535, not \(port)") }
        let words = try Self.split(inputs.requiredString("command"))
        guard let firstWord = words.first else { throw TaskFailure("input 'command' is empty: name a Redis command, such as GET or \"CONFIG GET\"") }
        let first = String(decoding: firstWord, as: UTF8.self).uppercased()
        commandName = Self.name(words)
        guard !Self.streamingCommands.contains(first) else {
            throw TaskFailure("\(first) is not supported: it turns the connection into a stream of messages, and a REDIS execution returns one reply (poll with XREAD BLOCK or BLPOP in a flow instead)")
        }
        let args = try inputs.list("args") ?? []
        arguments = words
        for (index, arg) in args.enumerated() {
            arguments.append(try Self.encode(arg, index: index))
        }
        username = try inputs.string("username")
        password = try inputs.string("password")
        if username != nil && password == nil { throw TaskFailure("input 'username' needs 'password' as well (AUTH username password)") }
        database = try inputs.integer("db")
        if let database, database < 0 { throw TaskFailure("input 'db' must be a database number from 0, not \(database)") }
        timeout = try inputs.duration("timeout")?.value ?? Self.defaultTimeout
        guard timeout > 0 else { throw TaskFailure("input 'timeout' must be more than 0 seconds") }
        let tls = try inputs.bool("tls") ?? false
        let caCertificate = try inputs.string("cacert")
        if tls || caCertificate != nil {
            throw TaskFailure("TLS to Redis is not supported: flowspool is built on Debian 12's hiredis 0.14, which has no TLS (see flowspool-tasks(7), REDIS)")
        }
        try inputs.rejectUnknown()
    }

    /// One of `args` as Redis takes it: a string as its UTF-8 bytes, an integer or other number in
    /// decimal, true and false as 1 and 0, `{"base64": "..."}` as the bytes it encodes.
    static func encode(_ value: JSON, index: Int) throws(TaskFailure) -> [UInt8] {
        switch value {
        case .string(let text): return Array(text.utf8)
        case .bool(let flag): return Array((flag ? "1" : "0").utf8)
        case .int, .bigInteger, .double: return Array(value.compactText.utf8)
        default:
            if let bytes = Base64.bytes(ofObject: value) { return bytes }
            throw TaskFailure("input 'args' item \(index) must be a string, a number, a boolean or {\"base64\": \"...\"}, not \(value.compactText.prefix(80))")
        }
    }

    /// Commands whose second word is part of their name: CONFIG GET, CLIENT LIST, ACL WHOAMI.
    static let containers: Set<String> = [
        "ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DEBUG", "FUNCTION", "LATENCY", "MEMORY", "MODULE",
        "OBJECT", "PUBSUB", "SCRIPT", "SLOWLOG", "XGROUP", "XINFO",
    ]

    /// The command's name, for the log and messages: its first word, and its second for a
    /// container command, never an argument (`CONFIG SET requirepass ...` is logged as CONFIG SET).
    static func name(_ words: [[UInt8]]) -> String {
        let first = String(decoding: words.first ?? [], as: UTF8.self).uppercased()
        guard containers.contains(first), words.count > 1 else { return first }
        return first + " " + String(decoding: words[1], as: UTF8.self).uppercased()
    }

    /// Splits a command line as redis-cli does (RedisCommandLine: hiredis's sdssplitargs): words
    /// apart by spaces, tabs and line breaks; "double quotes" with backslash escapes (\n, \r, \t, \b,
    /// \a, \xHH as one byte, any other character as itself), 'single quotes' with only \' escaped; a
    /// quote may open inside a word, and a closing quote must end it.
    static func split(_ line: String) throws(TaskFailure) -> [[UInt8]] {
        do {
            return try RedisCommandLine.split(line)
        } catch {
            let why = switch error {
            case .quoteNotClosed: "a quote is not closed"
            case .closingQuoteNotFollowedBySpace: "a closing quote must be followed by a space"
            case .nulCharacter: "it holds a NUL character; write it as \\x00 inside double quotes"
            }
            throw TaskFailure("input 'command' cannot be split into words: \(why)")
        }
    }
}
