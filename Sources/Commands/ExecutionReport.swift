import Basics
import JSON
import POSIX
import Spool

/// What `show` and `list` tell of an execution, protected values masked.
public struct ExecutionReport {
    public let execution: Execution
    public let job: Job?
    public let status: ExecutionStatus?
    public let history: [Execution.HistoryEntry]

    public init(_ execution: Execution) {
        self.execution = execution
        job = try? execution.job()
        status = execution.status()
        history = execution.history()
    }

    public var submitted: Double? { history.first?.time }
    public var started: Double? { history.first { $0.status == .running }?.time }
    public var ended: Double? { history.first { $0.status.isFinal }?.time }

    public var duration: Double? {
        guard let start = started ?? submitted else { return nil }
        return (ended ?? Clock.now()) - start
    }

    public var maskedInputs: JSONObject {
        Protection.maskedInputs(job?.inputs ?? [:])
    }

    public var maskedOutputs: JSONObject? {
        execution.outputs().map { Protection.maskedOutputs($0, inputs: job?.inputs ?? [:]) }
    }

    public var json: JSON {
        var object: JSONObject = [
            "id": .string(execution.id),
            "task": job.map { .string($0.task) } ?? .null,
            "status": status.map { .string($0.rawValue) } ?? .null,
        ]
        object["name"] = job?.name.map(JSON.string) ?? .null
        object["parent"] = job?.parent.map(JSON.string) ?? .null
        object["submitted"] = submitted.map { .string(Clock.iso8601($0)) } ?? .null
        object["started"] = started.map { .string(Clock.iso8601($0)) } ?? .null
        object["ended"] = ended.map { .string(Clock.iso8601($0)) } ?? .null
        object["message"] = execution.message().map { .string($0.trimming("\n")) } ?? .null
        object["inputs"] = .object(maskedInputs)
        object["outputs"] = maskedOutputs.map(JSON.object) ?? .null
        object["children"] = .array(execution.children().map(JSON.string))
        return .object(object)
    }
}
