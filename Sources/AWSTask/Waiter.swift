import Basics
import JSON
import POSIX
import Spool
import TaskRunner

/// A waiter of waiters-2.json (instance_running and the like): its operation called every `delay`
/// seconds, at most `maxAttempts` times, until an acceptor says success or failure, as boto3's
/// waiters do. The result is the last response.
struct Waiter {
    let name: String
    let call: Call
    let delay: Double
    let maxAttempts: Int
    let acceptors: [JSONObject]
    /// Each acceptor's argument, parsed once: nil for the matchers that have none (status, error).
    let paths: [JMESPath?]
    let parameters: JSONObject

    init(model: ServiceModel, name given: String, request: AWSRequest) throws(TaskFailure) {
        let waiters = try model.companion("waiters-2")?["waiters"]?.objectValue ?? [:]
        guard let (name, definition) = waiters.first(where: { $0.key == given || ServiceModel.xformName($0.key) == given }),
              let config = definition.objectValue, let operationName = config["operation"]?.stringValue else {
            let known = waiters.map { ServiceModel.xformName($0.key) }.sorted()
            throw TaskFailure("\(model.client) has no waiter '\(given.escapingControlCharacters())'" + (known.isEmpty ? "" : " (it has \(known.prefix(8).joined(separator: ", "))\(known.count > 8 ? ", ..." : ""))"))
        }
        self.name = name
        let operation = try model.operation(named: operationName)
        call = try Call(model: model, operation: operation, request: request)
        delay = request.waiterConfig["Delay"]?.doubleValue ?? config["delay"]?.doubleValue ?? 15
        maxAttempts = request.waiterConfig["MaxAttempts"]?.intValue ?? config["maxAttempts"]?.intValue ?? 40
        acceptors = config["acceptors"]?.arrayValue?.compactMap(\.objectValue) ?? []
        // With an operation before it, the waiter takes those of the parameters its own operation
        // has; WaiterConfig is the waiter's own (AWSRequest.waiterConfig). They are checked as
        // each call is made, before anything is sent.
        let members = model.shape(operation.inputShape)?["members"]?.objectValue ?? [:]
        let given = request.operationParameters
        parameters = request.operation.isEmpty ? given : JSONObject(given.filter { members[$0.key] != nil }.map { ($0.key, $0.value) })
        var paths: [JMESPath?] = []
        for acceptor in acceptors {
            guard ["path", "pathAll", "pathAny"].contains(acceptor["matcher"]?.stringValue ?? "") else {
                paths.append(nil)
                continue
            }
            do {
                paths.append(try JMESPath(acceptor["argument"]?.stringValue ?? ""))
            } catch {
                throw TaskFailure("the waiter \(name) uses \(error)")
            }
        }
        self.paths = paths
    }

    func wait(log: RunnerLog) throws(TaskFailure) -> JSON {
        var last: Call.Outcome?
        var matched: Int?, lastMatched: Int?
        for attempt in 1...max(1, maxAttempts) {
            let outcome = try call.send(parameters)
            last = outcome
            matched = acceptor(after: outcome)
            lastMatched = matched ?? lastMatched
            switch matched.flatMap({ acceptors[$0]["state"]?.stringValue }) {
            case "success"?:
                log.line("waiter \(name): success after \(attempt) attempt(s)")
                if case .success(_, let json) = outcome { return json }
                return .object([:])
            case "failure"?:
                throw TaskFailure("Waiter \(name) failed: Waiter encountered a terminal failure state: \(explanation(matched ?? 0))")
            case nil:
                // An error no acceptor expects ends the wait, as botocore's does.
                if case .failure(_, let code, let message) = outcome {
                    throw TaskFailure("Waiter \(name) failed: An error occurred (\(code)): \(message)")
                }
            default:
                break  // "retry"
            }
            if attempt < maxAttempts { Clock.sleep(delay) }
        }
        log.line("waiter \(name): \(maxAttempts) attempt(s), \(Clock.describeDuration(delay)) apart\(last.map(describe) ?? "")")
        // botocore names the acceptor its loop ended on: the last attempt's match, else the last acceptor.
        let shown = matched ?? acceptors.count - 1
        throw TaskFailure("Waiter \(name) failed: Max attempts exceeded" + (lastMatched == nil ? "" : ". Previously accepted state: \(explanation(shown))"))
    }

    /// The first acceptor that matches, as botocore reads them.
    private func acceptor(after outcome: Call.Outcome) -> Int? {
        for (index, (acceptor, path)) in zip(acceptors, paths).enumerated() {
            let expected = acceptor["expected"] ?? .null
            let matched: Bool
            switch (acceptor["matcher"]?.stringValue, outcome) {
            case ("status"?, .success(let status, _)), ("status"?, .failure(let status, _, _)):
                matched = expected.intValue == status
            case ("error"?, .failure(_, let code, _)):
                matched = expected == .string(code) || expected == .bool(true)
            case ("error"?, .success):
                matched = expected == .bool(false)
            case ("path"?, .success(_, let json)):
                matched = path?.search(json) == expected
            case ("pathAll"?, .success(_, let json)):
                let values = path?.search(json)?.arrayValue ?? []
                matched = !values.isEmpty && values.allSatisfy { $0 == expected }
            case ("pathAny"?, .success(_, let json)):
                matched = path?.search(json)?.arrayValue?.contains(expected) == true
            default:
                matched = false
            }
            if matched { return index }
        }
        return nil
    }

    /// An acceptor in botocore's words (AcceptorConfig.explanation), its expected value as Python
    /// writes it.
    private func explanation(_ index: Int) -> String {
        let acceptor = acceptors.indices.contains(index) ? acceptors[index] : [:]
        let argument = acceptor["argument"]?.stringValue ?? "None", expected = PythonText.str(acceptor["expected"] ?? .null)
        switch acceptor["matcher"]?.stringValue ?? "" {
        case "path": return "For expression \"\(argument)\" we matched expected path: \"\(expected)\""
        case "pathAll": return "For expression \"\(argument)\" all members matched expected path: \"\(expected)\""
        case "pathAny": return "For expression \"\(argument)\" we matched expected path: \"\(expected)\" at least once"
        case "status": return "Matched expected HTTP status code: \(expected)"
        case "error": return "Matched expected service error code: \(expected)"
        case let matcher: return "No explanation for unknown waiter type: \"\(matcher)\""
        }
    }

    private func describe(_ outcome: Call.Outcome) -> String {
        if case .failure(_, let code, let message) = outcome { return ": the last call failed with \(code): \(message)" }
        return ""
    }
}
