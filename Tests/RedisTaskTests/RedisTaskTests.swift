import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// The REDIS task end to end: jobs go through flowspoold to the REDIS runner and the two
/// redis-servers bin/test starts on loopback (one open, one with a password and an ACL user).
@Suite("REDIS task")
struct RedisTaskTests {
    let test: TestSpool
    let port = JSON.int(TestEnvironment.redisPort)
    /// A key of this test's own, so that tests running at once never share one.
    let key = "flowspool-test-" + Spool.randomToken()

    init() throws {
        test = try TestSpool()
        try test.startSupervisor()
    }

    func redis(_ command: String, _ args: [JSON] = [], _ extra: JSONObject = [:]) throws -> Ended {
        var inputs: JSONObject = ["host": "127.0.0.1", "port": port, "command": JSON.string(command), "args": JSON.array(args)]
        for (name, value) in extra { inputs[name] = value }
        return try test.run("REDIS", inputs)
    }

    @Test("SET and GET, INCR, LPUSH and LRANGE, HGETALL: strings, integers and arrays come back as JSON")
    func everydayCommands() throws {
        #expect(try redis("SET", [.string(key), "hello"])["result"] == "OK")
        #expect(try redis("GET", [.string(key)])["result"] == "hello")
        #expect(try redis("INCR", [.string(key + ":n")])["result"] == 1)
        #expect(try redis("INCRBY", [.string(key + ":n"), 41])["result"] == 42)
        #expect(try redis("RPUSH", [.string(key + ":l"), "a", "b", 3, true])["result"] == 4)
        #expect(try redis("LRANGE", [.string(key + ":l"), 0, -1])["result"] == ["a", "b", "3", "1"])
        #expect(try redis("HSET", [.string(key + ":h"), "f1", "v1", "f2", "v2"])["result"] == 2)
        #expect(try redis("HGETALL", [.string(key + ":h")])["result"] == ["f1", "v1", "f2", "v2"])
    }

    @Test("numbers go out as written in the job, as redis-cli sends them: integers of any size, -0.0")
    func exactNumbers() throws {
        for number in ["9223372036854775808", "18446744073709551616", "-0.0", "-9223372036854775809"] {
            let name = "\(key):\(number)"
            // Written as a job file, so that the number is read from JSON text as a person writes it.
            let job = #"{"task": "REDIS", "inputs": {"host": "127.0.0.1", "port": \#(port.compactText), "command": "SET", "args": ["\#(name)", \#(number)]}}"#
            let id = "exact-" + Spool.randomToken()
            try test.drop(id, bytes: Array(job.utf8))
            #expect(try test.ended(id).status == .success)
            let stored = try runProgram("/usr/bin/redis-cli", ["-p", port.compactText, "GET", name])
            #expect(stored.standardOutput == number + "\n", "redis-cli GET \(name)")
            #expect(try redis("GET", [.string(name)])["result"] == .string(number))
        }
    }

    @Test("a 40 MB value goes in as one job and comes back whole: job inputs may be as large as outputs")
    func largeValue() throws {
        let value = String(repeating: "0123456789abcdef", count: 40_000_000 / 16)
        #expect(try redis("SET", [.string(key + ":large"), .string(value)])["result"] == "OK")
        let length = try runProgram("/usr/bin/redis-cli", ["-p", port.compactText, "STRLEN", key + ":large"])
        #expect(length.standardOutput == "40000000\n")
        #expect(try redis("GET", [.string(key + ":large")])["result"]?.stringValue?.utf8.count == 40_000_000)
    }

    @Test("a missing key is null, and a stream's entries are nested arrays")
    func nilAndNested() throws {
        #expect(try redis("GET", [.string(key + ":missing")])["result"] == .null)
        let id = try #require(try redis("XADD", [.string(key + ":s"), "*", "field", "value"])["result"]?.stringValue)
        #expect(try redis("XRANGE", [.string(key + ":s"), "-", "+"])["result"] == [[.string(id), ["field", "value"]]])
    }

    @Test("bytes that are not UTF-8 go in and come back as {\"base64\": ...}, unmangled")
    func binaryRoundTrip() throws {
        let bytes: [UInt8] = [0xff, 0x00, 0x80, 0x0a, 0xc3]
        let encoded: JSON = ["base64": .string(Base64.encode(bytes))]
        #expect(try redis("SET", [.string(key), encoded])["result"] == "OK")
        #expect(try redis("GET", [.string(key)])["result"] == encoded)
        #expect(try redis("STRLEN", [.string(key)])["result"] == 5)
    }

    @Test("a command of several words is split as redis-cli splits it")
    func severalWords() throws {
        #expect(try redis("CONFIG GET", ["port"])["result"] == ["port", .string(String(TestEnvironment.redisPort))])
        #expect(try redis("  echo  \"two words\\n\"  ")["result"] == "two words\n")
        // \xHH is one byte, as redis-cli sends it; a quote may open inside a word.
        #expect(try redis("SET \(key):x \"\\xff\"")["result"] == "OK")
        #expect(try redis("GET \(key):x")["result"] == ["base64": "/w=="])
        #expect(try redis("ECHO a\"b c\"")["result"] == "ab c")
        let logged = try redis("CONFIG GET", ["maxmemory-not-a-secret"])
        let log = try FileSystem.readText(test.execution(logged.id).path(.log)) ?? ""
        #expect(log.contains("CONFIG GET on 127.0.0.1") && !log.contains("maxmemory-not-a-secret"))
    }

    @Test("flowspool run REDIS prints the reply among the outputs")
    func commandLine() throws {
        let result = try runProgram(TestEnvironment.program("flowspool"), [
            "--spool", test.root, "run", "REDIS", "host=127.0.0.1", "port:=\(TestEnvironment.redisPort)", "command=PING",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(try JSON(parsing: Array(result.standardOutput.utf8))["result"] == "PONG")
    }

    @Test("an error reply ends error with Redis's own text")
    func errorReply() throws {
        let ended = try redis("NOSUCHCOMMAND", ["x"])
        #expect(ended.status == .error)
        #expect(ended.message.hasPrefix("ERR unknown command 'NOSUCHCOMMAND'"), "\(ended.message)")
        let wrongType = try redis("LPUSH", [.string(key + ":str"), "x"])
        #expect(wrongType.status == .success)
        #expect(try redis("GET", [.string(key + ":str")]).message.hasPrefix("WRONGTYPE"))
    }

    @Test("a password, right and wrong; an ACL user; neither password shows anywhere")
    func authentication() throws {
        let protected = JSON.int(TestEnvironment.protectedRedisPort)
        let none = try redis("PING", [], ["port": protected])
        #expect(none.status == .error)
        #expect(none.message.hasPrefix("NOAUTH"), "\(none.message)")
        let wrong = try redis("PING", [], ["port": protected, "password": "not-the-password"])
        #expect(wrong.status == .error)
        #expect(wrong.message.hasPrefix("AUTH refused: WRONGPASS"), "\(wrong.message)")
        let right = try redis("PING", [], ["port": protected, "password": .string(TestEnvironment.redisPassword)])
        #expect(right["result"] == "PONG")
        let user = try redis("ACL WHOAMI", [], [
            "port": protected, "username": .string(TestEnvironment.redisUser), "password": .string(TestEnvironment.redisUserPassword),
        ])
        #expect(user["result"] == .string(TestEnvironment.redisUser))
        for id in [right.id, user.id] {
            let shown = try runProgram(TestEnvironment.program("flowspool"), ["--spool", test.root, "show", "--json", id])
            let log = try FileSystem.readText(test.execution(id).path(.log)) ?? ""
            for secret in [TestEnvironment.redisPassword, TestEnvironment.redisUserPassword] {
                #expect(!shown.standardOutput.contains(secret) && !log.contains(secret))
            }
        }
    }

    @Test("db selects the database")
    func database() throws {
        #expect(try redis("SET", [.string(key), "in three"], ["db": 3])["result"] == "OK")
        #expect(try redis("GET", [.string(key)], ["db": 3])["result"] == "in three")
        #expect(try redis("GET", [.string(key)])["result"] == .null)
    }

    @Test("a blocking command with its own timeout returns null; one that blocks past the timeout input ends error saying so")
    func blocking() throws {
        #expect(try redis("BLPOP", [.string(key + ":empty"), 0.2])["result"] == .null)
        let ended = try redis("BLPOP", [.string(key + ":empty"), 0], ["timeout": 0.5])
        #expect(ended.status == .error)
        #expect(ended.message == "no reply from Redis at 127.0.0.1 port \(TestEnvironment.redisPort) (waiting for a reply): BLPOP took longer than the timeout input (500ms)\n")
    }

    @Test("a port where nothing listens ends error saying the connection was refused")
    func refused() throws {
        let closed = TestEnvironment.closedPort()
        let ended = try redis("PING", [], ["port": .int(closed)])
        #expect(ended.status == .error)
        #expect(ended.message == "cannot connect to Redis: 127.0.0.1 port \(closed): Connection refused\n")
    }

    @Test("SUBSCRIBE and MONITOR are refused before anything is sent; TLS says it is not supported; bad args name the item")
    func refusedInputs() throws {
        for command in ["SUBSCRIBE", "monitor"] {
            let ended = try redis(command, ["channel"])
            #expect(ended.status == .error)
            #expect(ended.message.hasPrefix("\(command.uppercased()) is not supported: it turns the connection into a stream of messages"))
        }
        #expect(try redis("PING", [], ["tls": true]).message.hasPrefix("TLS to Redis is not supported"))
        #expect(try redis("SET", [.string(key), ["a": 1]]).message.hasPrefix("input 'args' item 1 must be a string, a number, a boolean or {\"base64\": \"...\"}"))
        #expect(try redis("PING \"open").message == "input 'command' cannot be split into words: a quote is not closed\n")
        #expect(try redis("PING 'open\\").message == "input 'command' cannot be split into words: a quote is not closed\n")
        #expect(try redis("ECHO \"b c\"d").message == "input 'command' cannot be split into words: a closing quote must be followed by a space\n")
        #expect(try redis("ECHO a\u{0}b").message.hasPrefix("input 'command' cannot be split into words: it holds a NUL character"))
    }

    @Test("the example flow of flowspool-tasks(7) runs unchanged but for where it points")
    func exampleFlow() throws {
        let example = try ManPageExample.display(after: "A flow that counts its runs in Redis", in: "flowspool-tasks.7")
        let script = test.directory.path + "/redis-example.py"
        try FileSystem.writeFile(script, Array(example.replacing("'port': 6379", with: "'port': \(TestEnvironment.redisPort)").utf8))
        let ended = try test.run("FLOW", ["script": .string(script)])
        #expect(ended.status == .success, "\(ended.message)")
        let runs = try #require(try redis("GET", ["flowspool-example-runs"])["result"]?.stringValue)
        #expect(ended.message == "this flow has run \(runs) times\n")
    }
}
