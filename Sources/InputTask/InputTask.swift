import JSON
import POSIX
import Spool
import TaskRunner

/// The INPUT task: asks a person and waits for the first answer, given with respond(1).
///
/// No process waits: the first run writes the question to request.json and parks the execution
/// until `response` appears or the timeout passes; flowspoold then starts the runner again, which
/// ends the execution with the answer, or with "input request expired".
public enum InputTask {
    public static let taskType = "INPUT"

    public static func run(_ inputs: inout TaskInputs, context: TaskContext) throws(TaskFailure) -> TaskResult {
        let request = try inputs.requiredString("request")
        let reference = try inputs.string("reference") ?? ""
        // The contract's "0 or less: no timeout", else a duration in minutes.
        let given = try inputs.number("timeout") ?? 0
        var timeout = TaskInputs(taskType: taskType, values: ["timeout": .double(max(given, 0))])
        let timeoutMinutes = (try timeout.duration("timeout", unit: "minutes", perUnit: 60)?.value ?? 0) / 60
        try inputs.rejectUnknown()
        let execution = context.execution
        let asked: InputRequest
        if let earlier = InputRequest.read(from: execution) {
            asked = earlier
        } else {
            asked = try ask(request, reference: reference, timeoutMinutes: timeoutMinutes, context: context)
        }
        if let deadline = asked.deadline, Clock.now() >= deadline {
            do {
                _ = try InputResponse.closed("expired").claim(in: execution)  // else an answer came first
            } catch {
                throw TaskFailure("cannot close the expired request: \(error)")
            }
        }
        switch try response(of: execution) {
        case .answered(let value, let by, let at)?:
            context.log.line("answered by \(by) at \(Clock.iso8601(at))")
            return TaskResult(outputs: ["response": .string(value), "reference": .string(reference)])
        case .closed("expired")?:
            throw TaskFailure("input request expired", outputs: ["reference": .string(reference)])
        case .closed(let reason)?:
            throw TaskFailure("input request \(reason)", outputs: ["reference": .string(reference)])
        case nil:
            return .park(until: WakeCondition(files: [Execution.File.response.rawValue], deadline: asked.deadline))
        }
    }

    static func response(of execution: Execution) throws(TaskFailure) -> InputResponse? {
        do {
            return try InputResponse.read(from: execution)
        } catch {
            throw TaskFailure("the response file cannot be read (it must be a regular file): \(error)")
        }
    }

    /// Writes the question; timeouts of 0 or less mean none.
    static func ask(_ request: String, reference: String, timeoutMinutes: Double, context: TaskContext) throws(TaskFailure) -> InputRequest {
        let now = Clock.now()
        let asked = InputRequest(
            id: context.execution.id, request: request, reference: reference, asked: now,
            deadline: timeoutMinutes > 0 ? now + timeoutMinutes * 60 : nil)
        do {
            try asked.write(to: context.execution)
        } catch {
            throw TaskFailure("cannot write the input request: \(error)")
        }
        let until = asked.deadline.map { " until \(Clock.iso8601($0))" } ?? ""
        context.log.line("waiting for an answer\(until): respond \(context.execution.id) VALUE")
        return asked
    }
}
