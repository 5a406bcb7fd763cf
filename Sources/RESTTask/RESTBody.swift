import Basics
import Curl
import JSON
import TaskRunner

/// A request's body, made from `data`, `json` or `multipart` as python-requests makes it, and the
/// content type that goes with it unless the job's headers name one.
struct RESTBody {
    var bytes: [UInt8]
    /// nil: no Content-Type header at all (a string in `data` is sent as it is, typeless).
    var contentType: String?

    static let bodyInputs = ["data", "json", "multipart"]

    /// The body of the one body input given; nil when none is. Two of them end the execution error:
    /// requests would send one and drop the other without a word.
    static func from(_ inputs: inout TaskInputs, headers: [(String, String)]) throws(TaskFailure) -> RESTBody? {
        var given: [(String, JSON)] = []
        for name in bodyInputs {
            if let value = inputs.value(name) { given.append((name, value)) }
        }
        guard given.count <= 1 else {
            let names = given.map { "'\($0.0)'" }.joined(separator: " and ")
            throw TaskFailure("inputs \(names) both give the request's body; give one of them (python requests would send one and drop the other); nothing was sent")
        }
        guard let (name, value) = given.first else { return nil }
        switch name {
        case "json": return RESTBody(bytes: Array(PythonText.jsonDumps(value).utf8), contentType: "application/json")
        case "multipart": return try multipart(value)
        default: return try data(value, headers: headers)
        }
    }

    /// `data`: a string as it is; a dictionary as a form when the headers say
    /// `application/x-www-form-urlencoded`; any other value as JSON, as `json` sends it.
    static func data(_ value: JSON, headers: [(String, String)]) throws(TaskFailure) -> RESTBody {
        if case .string(let text) = value { return RESTBody(bytes: Array(text.utf8), contentType: nil) }
        guard namesFormContentType(headers) else {
            return RESTBody(bytes: Array(PythonText.jsonDumps(value).utf8), contentType: "application/json")
        }
        guard case .object(let fields) = value else {
            throw TaskFailure("input 'data' must be a dictionary to be sent as a form (the headers say application/x-www-form-urlencoded), not \(value.kindDescription)")
        }
        return RESTBody(bytes: Array(PercentEncoding.formEncoded(try pairs(fields, input: "data")).utf8), contentType: nil)
    }

    static func multipart(_ value: JSON) throws(TaskFailure) -> RESTBody? {
        let parts = try Multipart.parts(value)
        // requests sends no body for an empty `files=`.
        guard !parts.isEmpty else { return nil }
        let boundary = Multipart.newBoundary()
        return RESTBody(bytes: Multipart.body(parts, boundary: boundary), contentType: Multipart.contentType(boundary: boundary))
    }

    /// Whether the headers give the content type of a form (any case, with parameters or not).
    static func namesFormContentType(_ headers: [(String, String)]) -> Bool {
        headers.contains { name, value in
            name.lowercased() == "content-type"
                && value.split(separator: ";", maxSplits: 1).first.map { $0.trimming(" \t").lowercased() } == "application/x-www-form-urlencoded"
        }
    }

    /// The name and value pairs of `params` or a form, as requests lists them: a list gives its name
    /// once for each of its values, a null is left out, numbers and booleans are written as Python
    /// writes them (`True`, `1.5`).
    static func pairs(_ fields: JSONObject, input: String) throws(TaskFailure) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for (name, value) in fields {
            let values = value.arrayValue ?? [value]
            for element in values where element != .null {
                guard let text = PythonText.scalarStr(element) else {
                    throw TaskFailure("input '\(input)' ('\(name.escapingControlCharacters())'): a value must be a string, number, boolean or null, or a list of them, not \(element.kindDescription)")
                }
                pairs.append((name, text))
            }
        }
        return pairs
    }
}
