import JSON
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
        guard let first = words.first else { throw TaskFailure("input 'command' is empty: name a Redis command, such as GET or \"CONFIG GET\"") }
        commandName = words.joined(separator: " ").uppercased()
        guard !Self.streamingCommands.contains(first.uppercased()) else {
            throw TaskFailure("\(first.uppercased()) is not supported: it turns the connection into a stream of messages, and a REDIS execution returns one reply (poll with XREAD BLOCK or BLPOP in a flow instead)")
        }
        let args = try inputs.list("args") ?? []
        arguments = words.map { Array($0.utf8) }
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
        case .int, .double: return Array(value.compactText.utf8)
        case .object(let object) where object.count == 1:
            if let encoded = object["base64"]?.stringValue, let bytes = Base64.decode(encoded) { return bytes }
            fallthrough
        default:
            throw TaskFailure("input 'args' item \(index) must be a string, a number, a boolean or {\"base64\": \"...\"}, not \(value.compactText.prefix(80))")
        }
    }

    /// Splits a command line as redis-cli does (sdssplitargs): words apart by spaces, "double
    /// quotes" with backslash escapes (\n, \t, \xHH, \"), 'single quotes' with only \' escaped.
    static func split(_ line: String) throws(TaskFailure) -> [String] {
        var words: [String] = []
        var scalars = Array(line.unicodeScalars)[...]
        func fail(_ why: String) -> TaskFailure { TaskFailure("input 'command' cannot be split into words: \(why)") }
        while true {
            while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
            guard !scalars.isEmpty else { return words }
            var word = String.UnicodeScalarView()
            var quote: Unicode.Scalar?
            while let scalar = scalars.popFirst() {
                if let open = quote {
                    if scalar == "\\", open == "\"", let next = scalars.popFirst() {
                        switch next {
                        case "n": word.append("\n")
                        case "r": word.append("\r")
                        case "t": word.append("\t")
                        case "b": word.append("\u{8}")
                        case "a": word.append("\u{7}")
                        case "x":
                            let hex = String(String.UnicodeScalarView(scalars.prefix(2)))
                            guard hex.count == 2, let value = UInt8(hex, radix: 16) else { throw fail("\\x takes two hexadecimal digits") }
                            scalars.removeFirst(2)
                            word.append(Unicode.Scalar(value))
                        default: word.append(next)
                        }
                    } else if scalar == "\\", open == "'", scalars.first == "'" {
                        word.append(scalars.removeFirst())
                    } else if scalar == open {
                        guard scalars.first.map({ $0.properties.isWhitespace }) ?? true else {
                            throw fail("a closing quote must be followed by a space")
                        }
                        quote = nil
                        break
                    } else {
                        word.append(scalar)
                    }
                } else if scalar.properties.isWhitespace {
                    break
                } else if (scalar == "\"" || scalar == "'") && word.isEmpty {
                    quote = scalar
                } else {
                    word.append(scalar)
                }
            }
            if quote != nil { throw fail("a quote is not closed") }
            words.append(String(word))
        }
    }
}
