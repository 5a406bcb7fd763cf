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
        let timeoutMinutes = try inputs.number("timeout") ?? 0
        try inputs.rejectUnknown()
        let execution = context.execution
        if let answer = InputAnswer.read(from: execution) {
            context.log.line("answered by \(answer.by) at \(Clock.iso8601(answer.at))")
            return TaskResult(outputs: ["response": .string(answer.value), "reference": .string(reference)])
        }
        let asked = if let earlier = InputRequest.read(from: execution) {
            earlier
        } else {
            try ask(request, reference: reference, timeoutMinutes: timeoutMinutes, context: context)
        }
        if let deadline = asked.deadline, Clock.now() >= deadline {
            throw TaskFailure("input request expired", outputs: ["reference": .string(reference)])
        }
        return .park(until: WakeCondition(files: [Execution.File.response.rawValue], deadline: asked.deadline), groupWritable: true)
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
