import JSON
import TaskRunner

/// `paginate: true`: every page of an operation, as boto3's paginator and its build_full_result()
/// collect them from paginators-1.json: the result keys of all pages joined, and the
/// non-aggregate keys of the first.
struct Pagination {
    let model: ServiceModel
    let call: Call

    /// Pages of one call at the most: a service that never stops giving tokens is not followed forever.
    static let pageLimit = 10_000

    func collect(_ parameters: JSONObject) throws(TaskFailure) -> JSON {
        guard let config = try model.companion("paginators-1")?["pagination"]?[call.operation.name]?.objectValue else {
            throw TaskFailure("\(model.client).\(call.operation.name) cannot be paginated: botocore has no paginator for it (leave out 'paginate')")
        }
        let inputTokens = Self.names(config["input_token"])
        let outputTokens: [JMESPath]
        let resultKeys: [JMESPath]
        let moreResults: JMESPath?
        do {
            outputTokens = try Self.names(config["output_token"]).map { (text) throws(JMESPath.UnsupportedExpression) in try JMESPath(text) }
            resultKeys = try Self.names(config["result_key"]).map { (text) throws(JMESPath.UnsupportedExpression) in try JMESPath(text) }
            moreResults = try config["more_results"]?.stringValue.map { (text) throws(JMESPath.UnsupportedExpression) in try JMESPath(text) }
        } catch {
            throw TaskFailure("the paginator of \(call.operation.name) uses \(error)")
        }
        let nonAggregate = Self.names(config["non_aggregate_keys"])
        var page = parameters
        var complete = JSONObject()
        var previous: [JSON?] = []
        for pageNumber in 0..<Self.pageLimit {
            let result = try call.perform(page).json
            for key in resultKeys {
                guard let value = key.search(result) else { continue }
                let path = key.expression.split(separator: ".").map(String.init)
                switch (Self.value(at: path, in: complete), value) {
                case (.array(let gathered)?, .array(let more)): Self.set(.array(gathered + more), at: path, in: &complete)
                case (.string(let gathered)?, .string(let more)): Self.set(.string(gathered + more), at: path, in: &complete)
                case (.int(let gathered)?, .int(let more)): Self.set(.int(gathered + more), at: path, in: &complete)
                case (nil, _): Self.set(value, at: path, in: &complete)
                default: break
                }
            }
            if pageNumber == 0 {
                for name in nonAggregate { complete[name] = result[name] ?? .null }
            }
            let tokens = outputTokens.map { $0.search(result) }
            let done = moreResults.map { !JMESPath.isTruthy($0.search(result)) } ?? false
            if done || tokens.allSatisfy({ !JMESPath.isTruthy($0) }) { return .object(complete) }
            if tokens == previous {
                throw TaskFailure("\(call.operation.name) gave the same next token twice (\(tokens.compactMap { $0?.compactText }.joined(separator: ", "))): the service is looping, so the pages stop here")
            }
            previous = tokens
            for (name, token) in zip(inputTokens, tokens) { page[name] = token ?? .null }
            page = JSONObject(page.filter { $0.value != .null }.map { ($0.key, $0.value) })
        }
        throw TaskFailure("\(call.operation.name) still had more pages after \(Self.pageLimit)")
    }

    /// The value at a dotted result key ("DistributionList.Items") of a result being built.
    static func value(at path: [String], in object: JSONObject) -> JSON? {
        guard let first = path.first else { return nil }
        return path.count == 1 ? object[first] : object[first]?.objectValue.flatMap { value(at: Array(path.dropFirst()), in: $0) }
    }

    /// Sets a dotted result key, making the dictionaries on the way, as botocore's set_value_from_jmespath.
    static func set(_ value: JSON, at path: [String], in object: inout JSONObject) {
        guard let first = path.first else { return }
        if path.count == 1 { object[first] = value; return }
        var inner = object[first]?.objectValue ?? [:]
        set(value, at: Array(path.dropFirst()), in: &inner)
        object[first] = .object(inner)
    }

    /// A paginator's key or keys: a string, or a list of them.
    static func names(_ value: JSON?) -> [String] {
        if let text = value?.stringValue { return [text] }
        return value?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}
