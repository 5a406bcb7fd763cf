import Basics
import JSON
import POSIX
import Spool
import TaskRunner

/// Serves a Python flow script: it runs the stub (`PythonStub`) with the script, and answers its
/// requests, one JSON line each way, until the script exits. The host does all the work: child
/// executions are jobs in the spool with this execution as parent, and waits are inotify waits
/// during which this execution is `waiting` and holds no runner slot.
final class FlowHost {
    let context: TaskContext
    let inputs: JSONObject
    var outputs = JSONObject()
    /// How the script said the flow ends: c.end(), an exception, or a return from the handler.
    var ending: (status: ExecutionStatus, message: String?)?
    private var madeWatcher: JobWatcher?

    var execution: Execution { context.execution }
    var spool: Spool { execution.spool }

    init(context: TaskContext, inputs: JSONObject) {
        self.context = context
        self.inputs = inputs
    }

    func runPython(_ python: String, script: String) throws(TaskFailure) -> TaskResult {
        let pid: ProcessID
        let requests: Pipe, replies: Pipe
        // Closed again when the start fails, so that a reused runner leaks nothing (EMFILE).
        var opened: [FileDescriptor] = []
        do {
            let stub = try PythonStub.standardInput()
            opened.append(stub)
            requests = try FileDescriptor.closeOnExecPipe()
            opened += [requests.readEnd, requests.writeEnd]
            replies = try FileDescriptor.closeOnExecPipe()
            opened += [replies.readEnd, replies.writeEnd]
            var options = Spawn.Options(environment: Environment.current())
            options.newProcessGroup = false
            options.descriptors = [0: stub, 1: .standardOutput, 2: .standardError, 3: requests.writeEnd, 4: replies.readEnd]
            pid = try Spawn.run(python, arguments: ["-", script], options: options)
            try? stub.close()
        } catch {
            for descriptor in opened { try? descriptor.close() }
            throw TaskFailure("cannot start the Python interpreter \(python): \(error)")
        }
        try? requests.writeEnd.close()
        try? replies.readEnd.close()
        let problem = serve(LineReader(requests.readEnd, limit: Self.requestLimit), replies: replies.writeEnd)
        // Whatever of the script still talks once the flow has ended (a thread of its own) finds
        // the pipes closed and ends at once; what does not talk gets a moment, then SIGKILL.
        try? requests.readEnd.close()
        try? replies.writeEnd.close()
        if let problem {
            Signal.kill.send(to: pid)
            _ = try? Spawn.wait(for: pid)
            throw TaskFailure("the flow script was stopped: \(problem)", outputs: outputs)
        }
        let exitStatus = ending == nil ? try? Spawn.wait(for: pid) : try? Spawn.wait(for: pid, killingAfter: Self.exitGrace)
        return try result(exitStatus: exitStatus)
    }

    /// The most one request may hold: the values given to c.setOutput, c.log or c.task in one call.
    static let requestLimit = 16 << 20
    /// How long a script has to exit after its flow ended.
    static let exitGrace = 5.0

    /// Answers requests until the script closes its end or ends the flow. Returns what was wrong
    /// when something other than a request came; the line itself is not repeated, as it may hold
    /// outputs or settings that are secret.
    func serve(_ reader: LineReader, replies: FileDescriptor) -> String? {
        while ending == nil {
            let line: [UInt8]
            do {
                guard let next = try reader.nextLine() else { return nil }
                line = next
            } catch where error.errno == .fileTooLarge {
                return "it sent a request over \(Self.requestLimit >> 20) MiB; the values given to c.setOutput, c.setOutputs, c.log or c.task in one call are limited to \(Self.requestLimit >> 20) MiB"
            } catch {
                return "its requests cannot be read (\(error))"
            }
            let request: JSON
            do {
                request = try JSON(parsing: line)
            } catch {
                return "it sent a line of \(line.count) bytes that is not a flowspool request (\(error)); the line is not shown, as it may hold secrets"
            }
            guard let op = request["op"]?.stringValue else {
                return "it sent a line of \(line.count) bytes that is not a flowspool request (JSON with an 'op')"
            }
            let reply: JSON
            do {
                reply = ["result": try handle(op, request)]
            } catch {
                reply = ["error": .string(error.message)]
            }
            do {
                try replies.write(reply.compactText + "\n")
            } catch {
                return nil  // the script is gone; its exit status tells the rest
            }
        }
        return nil
    }

    func result(exitStatus: ExitStatus?) throws(TaskFailure) -> TaskResult {
        guard let ending else {
            let how = exitStatus.map { "\($0)" } ?? "ended"
            throw TaskFailure("the flow script \(how) without ending the flow; see its log", outputs: outputs)
        }
        guard ending.status == .success else {
            throw TaskFailure(ending.message ?? "the flow ended error", outputs: outputs)
        }
        return TaskResult(outputs: outputs, message: ending.message)
    }

    func handle(_ op: String, _ request: JSON) throws(RequestError) -> JSON {
        switch op {
        case "submit": return .string(try submit(request))
        case "wait": return try wait(request)
        case "status":
            let id = try childID(request)
            return .string(Self.statusWord(spool.jobState(id), of: spool.execution(id)))
        case "message": return try message(childID(request)).map(JSON.string) ?? .null
        case "outputs": return .object(spool.execution(try childID(request)).outputs() ?? [:])
        case "log":
            context.log.line(request["text"]?.stringValue ?? "")
            return .null
        case "set_outputs":
            guard let values = request["outputs"]?.objectValue else { throw RequestError("setOutputs takes a dictionary") }
            for (key, value) in values { outputs[key] = value }
            return .null
        case "inputs": return .object(inputs)
        case "setting": return try setting(request)
        case "sleep":
            try sleep(request["seconds"] ?? .null)
            return .null
        case "end": return try end(request)
        case "fail":
            ending = ending ?? (.error, request["message"]?.stringValue ?? "the flow script failed")
            return .null
        case "return":
            ending = ending ?? (.success, nil)
            return .null
        default: throw RequestError("unknown request '\(op)'")
        }
    }

    func submit(_ request: JSON) throws(RequestError) -> String {
        guard let task = request["task"]?.stringValue else { throw RequestError("c.task needs a task type") }
        let childInputs = request["inputs"]?.objectValue ?? [:]
        do {
            let job = Job(task: task, inputs: childInputs, parent: execution.id, detached: request["detached"]?.boolValue ?? false)
            guard TaskType.isValid(task) else { throw SpoolError("'\(task)' is not a task type name") }
            return try spool.submit(job, durable: false)
        } catch {
            throw RequestError("cannot start a \(task) task: \(error)")
        }
    }

    func childID(_ request: JSON) throws(RequestError) -> String {
        guard let id = request["id"]?.stringValue, ExecutionID.isValid(id) else { throw RequestError("not an execution id") }
        return id
    }

    /// Waits for children while this execution is `waiting`, holding no runner slot.
    func wait(_ request: JSON) throws(RequestError) -> JSON {
        let ids = request["ids"]?.arrayValue?.compactMap(\.stringValue).filter { ExecutionID.isValid($0) } ?? []
        let condition: JobWatcher.Condition = request["until"]?.stringValue == "any" ? .any : .all
        let timeout: Double?
        switch request["timeout"] {
        case nil, .null?: timeout = nil
        case let value?:
            guard let seconds = value.doubleValue.flatMap(Seconds.init) else {
                throw RequestError("the timeout of a wait must be \(Seconds.range(in: "seconds")), not \(value.compactText)")
            }
            timeout = seconds.value
        }
        do {
            let watcher = try self.watcher()
            // Shown waiting only when there is something to wait for.
            var states = try watcher.wait(for: ids, until: condition, timeout: 0)
            if !condition.holds(in: states), timeout != 0 {
                try? execution.showWaiting(true)
                defer { try? execution.showWaiting(false) }
                states = try watcher.wait(for: ids, until: condition, timeout: timeout)
            }
            return .object(JSONObject(ids.map { ($0, .string(Self.statusWord(states[$0] ?? .pending, of: spool.execution($0)))) }))
        } catch {
            throw RequestError("cannot wait for child executions: \(error)")
        }
    }

    /// What the script sees as a child's status: its status word; "pending" while its job waits to
    /// be admitted; "error" for a job that was not admitted; "fault" for one removed by hand.
    static func statusWord(_ state: JobState, of execution: Execution) -> String {
        switch state {
        case .ended(let status): status.rawValue
        case .rejected: ExecutionStatus.error.rawValue
        case .vanished: ExecutionStatus.fault.rawValue
        case .pending: execution.status()?.rawValue ?? "pending"
        }
    }

    func message(_ id: String) -> String? {
        switch spool.jobState(id) {
        case .rejected(let why): "not admitted: " + why
        case .vanished: JobState.vanishedMessage(id)
        default: spool.execution(id).message()?.trimming("\n")
        }
    }

    func setting(_ request: JSON) throws(RequestError) -> JSON {
        guard let name = request["name"]?.stringValue else { throw RequestError("c.setting needs a name") }
        let settings = Settings(spool: spool)
        do {
            if let object = request.objectValue, object.keys.contains("value") {
                try settings.set(name, to: request["value"] ?? .null)
                return .null
            }
            if let value = try settings.value(name) { return value }
        } catch {
            throw RequestError(error.description)
        }
        throw RequestError("there is no setting '\(name)' (flowspool settings set NAME VALUE makes one)")
    }

    func sleep(_ value: JSON) throws(RequestError) {
        guard let seconds = value.doubleValue, Seconds(seconds) != nil else {
            throw RequestError("c.sleep takes \(Seconds.range(in: "seconds")), not \(value.compactText)")
        }
        try? execution.showWaiting(true)
        defer { try? execution.showWaiting(false) }
        do {
            try watcher().pause(seconds)
        } catch {
            throw RequestError("cannot sleep: \(error)")
        }
    }

    /// The flow's one watcher, made at its first wait: flowspoold wakes it, and counts the flow as
    /// holding no runner slot while it waits.
    func watcher() throws(SystemError) -> JobWatcher {
        if let madeWatcher { return madeWatcher }
        let made = try JobWatcher(spool: spool, waiter: execution.id)
        madeWatcher = made
        return made
    }

    func end(_ request: JSON) throws(RequestError) -> JSON {
        let word = request["status"]?.stringValue ?? ""
        guard let status = ExecutionStatus(rawValue: word), status == .success || status == .error else {
            throw RequestError("c.end takes 'success' or 'error', not '\(word)'")
        }
        ending = ending ?? (status, request["message"]?.stringValue)
        return .null
    }
}

/// A request the host refuses; the script raises FlowError with the message.
struct RequestError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// A shell flow: any executable, run as it is in the execution directory. Inside it, `flowspool run`
/// records its jobs as children of this execution (FLOWSPOOL_EXECUTION is set). Exit status 0 is
/// success; anything else is error.
enum ShellFlow {
    static func run(_ path: String, context: TaskContext) throws(TaskFailure) -> TaskResult {
        let exitStatus: ExitStatus
        do {
            var options = Spawn.Options(directory: context.execution.directory, environment: Environment.current())
            options.newProcessGroup = false
            options.descriptors = [1: .standardOutput, 2: .standardError]
            let pid = try Spawn.run(path, arguments: [], options: options)
            exitStatus = try Spawn.wait(for: pid)
        } catch {
            throw TaskFailure("cannot run the flow script \(path): \(error)")
        }
        guard exitStatus == .exited(0) else {
            throw TaskFailure("the flow script \(path) \(exitStatus); see its log")
        }
        return TaskResult(outputs: [:])
    }
}
