import Basics
import JSON
import POSIX
import Redis
import Spool
import TaskRunner

/// The REDIS task: one Redis command with hiredis, its reply as JSON. Nothing outlives the call
/// that runs an execution: the connection is made, used and closed inside `run`.
public enum RedisTask {
    public static let taskType = "REDIS"

    public static func run(_ inputs: inout TaskInputs, context: TaskContext) throws(TaskFailure) -> TaskResult {
        let request = try RedisRequest(&inputs)
        let started = Clock.monotonic()
        let deadline = started + request.timeout
        let reply: RedisReply
        var sendingCommand = false
        do {
            let connection = try RedisConnection(host: request.host, port: request.port, deadline: deadline)
            try authenticate(connection, request, deadline: deadline)
            if let database = request.database {
                try expectOK(connection.command([Array("SELECT".utf8), Array(String(database).utf8)], deadline: deadline), doing: "SELECT \(database)")
            }
            sendingCommand = true
            reply = try connection.command(request.arguments, deadline: deadline)
        } catch let error as RedisError {
            // Only the command itself can have blocked past the timeout input (BLPOP 0).
            throw TaskFailure(error.kind == .timeout && sendingCommand
                ? "\(error.description): \(request.commandName) took longer than the timeout input (\(Clock.describeDuration(request.timeout)))"
                : error.description)
        } catch let error as TaskFailure {
            throw error
        } catch {
            throw TaskFailure("\(error)")
        }
        context.log.line("\(request.commandName) on \(request.host):\(request.port): \(reply.kind) in \(Clock.describeDuration(Clock.monotonic() - started))")
        if case .error(let text) = reply { throw TaskFailure(text) }
        return TaskResult(outputs: ["result": reply.json])
    }

    /// AUTH with the password (and the ACL user, when given) before anything else.
    static func authenticate(_ connection: RedisConnection, _ request: RedisRequest, deadline: Double) throws -> Void {
        guard let password = request.password else { return }
        let words = ["AUTH"] + (request.username.map { [$0] } ?? []) + [password]
        try expectOK(connection.command(words.map { Array($0.utf8) }, deadline: deadline), doing: "AUTH")
    }

    static func expectOK(_ reply: RedisReply, doing step: String) throws(TaskFailure) {
        if case .error(let text) = reply { throw TaskFailure("\(step) refused: \(text)") }
    }
}

extension RedisReply {
    /// The reply as JSON, documented in flowspool-tasks(7): status and bulk strings are strings
    /// (bytes that are not UTF-8 as {"base64": "..."}), integers numbers, nil null, arrays arrays,
    /// an error inside an array (EXEC) {"error": "..."}.
    var json: JSON {
        switch self {
        case .status(let text): .string(text)
        case .string(let bytes):
            if let text = String(validating: bytes, as: UTF8.self) { .string(text) } else { Base64.object(bytes) }
        case .integer(let value): .int(Int(value))
        case .null: .null
        case .array(let elements): .array(elements.map(\.json))
        case .error(let text): ["error": .string(text)]
        }
    }

    /// What kind of reply it is, for the log: never its content, which may be secret.
    var kind: String {
        switch self {
        case .status: "status"
        case .string(let bytes): "string of \(bytes.count) bytes"
        case .integer: "integer"
        case .null: "nil"
        case .array(let elements): "array of \(elements.count)"
        case .error: "error reply"
        }
    }
}
