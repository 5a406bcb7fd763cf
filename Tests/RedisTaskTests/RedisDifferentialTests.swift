import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// The REDIS task beside redis-cli, its users' reference client: each case is a command line as a
/// person types it at redis-cli's prompt (and, where it has `args`, the task's JSON arguments, which
/// redis-cli gets quoted), run through flowspool and through `redis-cli -2 --quoted-json` on the same
/// server, each on keys of its own; the replies must agree field by field, but for the documented
/// differences of `Differences.redis`.
@Suite("REDIS task beside redis-cli")
struct RedisDifferentialTests {
    struct Case {
        let name: String
        /// The command and, without `args`, its arguments; `${k}` is a key prefix of each side's own.
        let line: String
        let args: [JSON]?

        init(_ name: String, _ line: String, args: [JSON]? = nil) {
            self.name = name
            self.line = line
            self.args = args
        }
    }

    /// In order: later cases read what earlier ones wrote.
    static let cases: [Case] = [
        Case("SET a string", "SET ${k}:s hello"),
        Case("GET it", "GET ${k}:s"),
        Case("GET a missing key is nil", "GET ${k}:missing"),
        Case("APPEND", "APPEND ${k}:s \" world\""),
        Case("STRLEN", "STRLEN ${k}:s"),
        Case("GETRANGE", "GETRANGE ${k}:s 0 4"),
        Case("SETRANGE", "SETRANGE ${k}:s 6 W"),
        Case("MSET", "MSET ${k}:m1 one ${k}:m2 two"),
        Case("MGET with a missing key", "MGET ${k}:m1 ${k}:missing ${k}:m2"),
        Case("INCR", "INCR ${k}:n"),
        Case("INCRBY a negative", "INCRBY ${k}:n -43"),
        Case("INCRBYFLOAT", "INCRBYFLOAT ${k}:f 0.1"),
        Case("INCR of text is an error", "INCR ${k}:s"),
        Case("SETNX on a taken key", "SETNX ${k}:s other"),
        Case("GETDEL", "GETDEL ${k}:m1"),
        Case("UTF-8 in a quoted word", "SET ${k}:u \"h\\xc3\\xa9llo\\n\""),
        Case("UTF-8 read back", "GET ${k}:u"),
        Case("bytes that are not UTF-8, written as \\xHH", "SET ${k}:b \"\\xff\\x00x\""),
        Case("bytes that are not UTF-8 read back", "GET ${k}:b"),
        Case("a quote inside a word", "ECHO a\"b c\""),
        Case("a word after a closing quote", "ECHO \"b c\"d"),
        Case("single quotes", "RPUSH ${k}:q 'two words' 'a \\' quote'"),
        Case("read back", "LRANGE ${k}:q 0 -1"),
        Case("a string argument as its bytes", "SET ${k}:a", args: ["two words \"quoted\" ü"]),
        Case("read back", "GET ${k}:a"),
        Case("an integer past 2^64 as written", "SET ${k}:big", args: [.bigInteger("18446744073709551616")]),
        Case("read back", "GET ${k}:big"),
        Case("-0.0 with its sign", "SET ${k}:z", args: [-0.0]),
        Case("read back", "GET ${k}:z"),
        Case("true and false as 1 and 0", "RPUSH ${k}:bools", args: [true, false]),
        Case("read back", "LRANGE ${k}:bools 0 -1"),
        Case("{\"base64\": ...} as its bytes", "SET ${k}:b64", args: [["base64": "/wCAgQ=="]]),
        Case("read back", "GET ${k}:b64"),
        Case("RPUSH", "RPUSH ${k}:l a b c d"),
        Case("LPUSH", "LPUSH ${k}:l z"),
        Case("LRANGE", "LRANGE ${k}:l 0 -1"),
        Case("LPOP with a count", "LPOP ${k}:l 2"),
        Case("LINDEX out of range", "LINDEX ${k}:l 99"),
        Case("LINSERT", "LINSERT ${k}:l BEFORE c bb"),
        Case("LLEN", "LLEN ${k}:l"),
        Case("HSET", "HSET ${k}:h f1 v1 f2 v2"),
        Case("HGET", "HGET ${k}:h f1"),
        Case("HGETALL", "HGETALL ${k}:h"),
        Case("HMGET with a missing field", "HMGET ${k}:h f1 nope f2"),
        Case("HINCRBY", "HINCRBY ${k}:h n 5"),
        Case("HKEYS", "HKEYS ${k}:h"),
        Case("SADD", "SADD ${k}:set a b c"),
        Case("SMISMEMBER", "SMISMEMBER ${k}:set a x c"),
        Case("SCARD", "SCARD ${k}:set"),
        Case("ZADD", "ZADD ${k}:z 1.5 one 2 two 10 ten"),
        Case("ZSCORE", "ZSCORE ${k}:z one"),
        Case("ZRANGE WITHSCORES", "ZRANGE ${k}:z 0 -1 WITHSCORES"),
        Case("ZINCRBY", "ZINCRBY ${k}:z 0.25 one"),
        Case("ZRANGEBYSCORE with a limit", "ZRANGEBYSCORE ${k}:z (1 +inf LIMIT 0 2"),
        Case("ZRANK of a missing member", "ZRANK ${k}:z nobody"),
        Case("XADD with an id", "XADD ${k}:x 1-1 field value other 2"),
        Case("XADD another", "XADD ${k}:x 2-1 field second"),
        Case("XRANGE: nested arrays", "XRANGE ${k}:x - +"),
        Case("XLEN", "XLEN ${k}:x"),
        Case("TYPE", "TYPE ${k}:x"),
        Case("EXISTS of several", "EXISTS ${k}:s ${k}:missing ${k}:l"),
        Case("OBJECT ENCODING", "OBJECT ENCODING ${k}:n"),
        Case("RENAME", "RENAME ${k}:s ${k}:renamed"),
        Case("DEL", "DEL ${k}:renamed ${k}:missing"),
        Case("EXPIRE and PERSIST", "EXPIRE ${k}:l 1000"),
        Case("PERSIST", "PERSIST ${k}:l"),
        Case("PING", "PING"),
        Case("ECHO", "ECHO \"a\\tb\""),
        Case("EVAL: a nested array with nil, an integer and an error inside",
             "EVAL \"return {1, {'two', false}, redis.error_reply('boom'), 'x'}\" 0"),
        Case("EVAL: a float truncated to an integer", "EVAL \"return 3.7\" 0"),
        Case("WRONGTYPE", "GET ${k}:l"),
        Case("an unknown command", "NOSUCHCOMMAND x"),
        Case("the wrong number of arguments", "GET"),
        Case("a syntax error", "SET ${k}:s v NX XX"),
        Case("CONFIG GET of two words", "CONFIG GET maxmemory-policy"),
    ]

    let test: TestSpool
    let port = TestEnvironment.redisPort

    init() throws {
        test = try TestSpool()
        try test.startSupervisor()
    }

    @Test("every case's reply is the one redis-cli gets, field by field, but for the documented differences")
    func sameAsRedisCLI() throws {
        let token = Spool.randomToken()
        let ours = "fsdiff-ours-" + token, theirs = "fsdiff-ref-" + token
        let reference = try referenceReplies(keyPrefix: theirs)
        try #require(reference.count == Self.cases.count, "redis-cli gave \(reference.count) replies for \(Self.cases.count) lines")
        let ledger = Differential.Ledger("REDIS")
        for (redisCase, theirReply) in zip(Self.cases, reference) {
            let ourReply = try reply(to: redisCase, keyPrefix: ours)
            let found = Differential.mismatches(normalized(ourReply, ours), normalized(theirReply, theirs))
            ledger.record(redisCase.name, found)
        }
        ledger.finish()
    }

    /// The case through flowspool: its result, or {"error": TEXT} for an error reply.
    func reply(to redisCase: Case, keyPrefix: String) throws -> JSON {
        let line = redisCase.line.replacing("${k}", with: keyPrefix)
        let ended = try test.run("REDIS", [
            "host": "127.0.0.1", "port": .int(port), "command": .string(line), "args": .array(redisCase.args ?? []),
        ])
        guard ended.status == .success else {
            return ["error": .string(ended.message.hasSuffix("\n") ? String(ended.message.dropLast()) : ended.message)]
        }
        return ended["result"] ?? .null
    }

    /// Every case through one redis-cli, its `args` quoted into the line as redis-cli reads them.
    func referenceReplies(keyPrefix: String) throws -> [JSON] {
        let lines = Self.cases.map { redisCase in
            ([redisCase.line.replacing("${k}", with: keyPrefix)] + (redisCase.args ?? []).map(Self.quotedForRedisCLI)).joined(separator: " ")
        }
        let result = try runProgram("/usr/bin/env", ["python3", TestEnvironment.packageRoot + "/Tests/servers/redis_cli_cases.py", String(port)],
                                    input: lines.joined(separator: "\n") + "\n")
        #expect(result.exitCode == 0, "\(result.standardError)")
        return try #require(try JSON(parsing: Array(result.standardOutput.utf8)).arrayValue)
    }

    /// An argument as redis-cli's double-quoted word: every byte outside printable ASCII as \xHH.
    static func quotedForRedisCLI(_ argument: JSON) -> String {
        let bytes: [UInt8] = switch argument {
        case .string(let text): Array(text.utf8)
        case .bool(let value): value ? [UInt8(ascii: "1")] : [UInt8(ascii: "0")]
        case .object: Base64.bytes(ofObject: argument) ?? []
        default: Array(argument.compactText.utf8)
        }
        let hex = Array("0123456789abcdef".utf8)
        var word: [UInt8] = [UInt8(ascii: "\"")]
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): word += [UInt8(ascii: "\\"), byte]
            case 0x20..<0x7f: word.append(byte)
            default: word += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: word + [UInt8(ascii: "\"")], as: UTF8.self)
    }

    /// The reply with the side's own key prefix written `${k}`, so that the two sides compare.
    func normalized(_ reply: JSON, _ keyPrefix: String) -> JSON {
        switch reply {
        case .string(let text): .string(text.replacing(keyPrefix, with: "${k}"))
        case .array(let items): .array(items.map { normalized($0, keyPrefix) })
        case .object(let object): .object(JSONObject(object.map { ($0.key, normalized($0.value, keyPrefix)) }))
        default: reply
        }
    }
}
