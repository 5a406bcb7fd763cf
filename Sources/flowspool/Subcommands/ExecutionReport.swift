import JSON
import POSIX
import Spool

/// What `show` and `list` tell of an execution, protected values masked.
struct ExecutionReport {
    let execution: Execution
    let job: Job?
    let status: ExecutionStatus?
    let history: [Execution.HistoryEntry]

    init(_ execution: Execution) {
        self.execution = execution
        job = try? execution.job()
        status = execution.status()
        history = execution.history()
    }

    var submitted: Double? { history.first?.time }
    var started: Double? { history.first { $0.status == .running }?.time }
    var ended: Double? { history.first { $0.status.isFinal }?.time }

    var duration: Double? {
        guard let start = started ?? submitted else { return nil }
        return (ended ?? Clock.now()) - start
    }

    var maskedInputs: JSONObject {
        Protection.maskedInputs(job?.inputs ?? [:])
    }

    var maskedOutputs: JSONObject? {
        execution.outputs().map { Protection.maskedOutputs($0, inputs: job?.inputs ?? [:]) }
    }

    var json: JSON {
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
