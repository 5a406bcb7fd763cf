import JSON
import POSIX
import Responder
import Spool

/// respond --cluster: an answer to an INPUT request wherever in the cluster it waits. The answer
/// goes to the inbox of the host that holds the request, which drops it into its own drop box, as
/// respond would there, and leaves its verdict in Redis.
public struct ClusterResponding {
    public let store: ClusterStore

    public init(store: ClusterStore) {
        self.store = store
    }

    public func answer(_ id: String, with value: [UInt8], wait: Double) -> Responding.Outcome {
        do {
            guard ExecutionID.isValid(id) else { return .refused("'\(id)' is not an execution id") }
            guard let record = try store.record(id) else { return .refused("no execution \(id) in the cluster at \(store.url)") }
            guard record.fields["task"] == "INPUT" else { return .refused("\(id) is not an INPUT request") }
            guard !record.isFinal else { return .refused("\(id) has ended: \(record.status ?? "?")") }
            guard let node = record.node else { return .refused("no host has taken \(id) yet; answer again once it waits (flowspool --cluster URL status \(id))") }
            guard let text = String(validating: value, as: UTF8.self) else { return .refused("an answer sent through the cluster must be UTF-8 text") }
            let token = "\(CurrentProcess.id).\(UInt64.random(in: 0...UInt64.max))"
            try store.send(to: node, ["kind": "answer", "id": .string(id), "value": .string(text), "token": .string(token)])
            if let verdict = try ClusterStore.poll(timeout: wait, { () throws(ClusterError) in try store.verdict(token) }) {
                if verdict == "taken" { return .taken }
                if verdict.hasPrefix("held: ") { return .held(String(verdict.dropFirst(6))) }
                return .refused(verdict.hasPrefix("refused: ") ? String(verdict.dropFirst(9)) : verdict)
            }
            return .noVerdict("no verdict from \(node) within \(Clock.describeDuration(wait)); the answer waits in its inbox")
        } catch {
            return .refused("\(error)")
        }
    }
}
