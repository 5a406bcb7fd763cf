import JSON
import POSIX

/// An INPUT execution's question, as request.json holds it. While the request is open, flowspoold
/// publishes it as requests/ID.json, readable by the responders' group, so that the people who
/// answer can list it (flowspool inputs) without reading anything else of the execution.
public struct InputRequest: Sendable {
    public let id: String
    public let request: String
    public let reference: String
    /// When it was asked and when it expires (nil: never), in seconds since the epoch.
    public let asked: Double
    public let deadline: Double?
    /// The execution's lineage (Execution.ancestors), as flowspoold publishes it with the request;
    /// nil in request.json, and in a request published by a flowspoold before it was.
    public let lineage: [String]?

    public init(id: String, request: String, reference: String, asked: Double, deadline: Double?, lineage: [String]? = nil) {
        self.id = id
        self.request = request
        self.reference = reference
        self.asked = asked
        self.deadline = deadline
        self.lineage = lineage
    }

    public var json: JSON {
        var object: JSONObject = [
            "id": .string(id), "request": .string(request), "reference": .string(reference),
            "asked": .string(Clock.iso8601(asked)), "deadline": deadline.map { .string(Clock.iso8601($0)) } ?? .null,
        ]
        if let lineage { object["lineage"] = .array(lineage.map(JSON.string)) }
        return .object(object)
    }

    public func write(to execution: Execution) throws(SystemError) {
        try execution.spool.write(json.prettyText + "\n", to: execution.path(.request), mode: 0o600)
    }

    public static func read(from execution: Execution) -> InputRequest? {
        guard let bytes = try? FileSystem.readFile(execution.path(.request), beneath: execution.spool.root) else { return nil }
        return InputRequest(id: execution.id, bytes)
    }

    /// A request as request.json or requests/ID.json holds it; nil when it is not one.
    init?(id: String, _ bytes: [UInt8]) {
        guard let json = try? JSON(parsing: bytes), let request = json["request"]?.stringValue,
              let asked = json["asked"]?.stringValue.flatMap(Clock.parseISO8601) else { return nil }
        self.init(
            id: id, request: request, reference: json["reference"]?.stringValue ?? "", asked: asked,
            deadline: json["deadline"]?.stringValue.flatMap(Clock.parseISO8601),
            lineage: json["lineage"]?.arrayValue.map { $0.compactMap(\.stringValue).filter(ExecutionID.isValid) })
    }
}

extension Spool {
    public func publishedRequestPath(_ id: String) -> String { requests + "/" + id + ".json" }

    /// Publishes an open request for the responders' group (flowspoold's part), with its
    /// execution's lineage, walked here once so that nobody walks it again (Execution.ancestors).
    public func publishRequest(_ request: InputRequest) throws(SystemError) {
        let published = InputRequest(
            id: request.id, request: request.request, reference: request.reference, asked: request.asked,
            deadline: request.deadline, lineage: execution(request.id).ancestors())
        try write(published.json.prettyText + "\n", to: publishedRequestPath(request.id), mode: 0o640, .published(replacing: true))
    }

    /// The request published for execution `id`; nil when there is none (or it cannot be read).
    public func publishedRequest(_ id: String) -> InputRequest? {
        guard let bytes = try? FileSystem.readFile(publishedRequestPath(id), limit: 1 << 20, beneath: root) else { return nil }
        return InputRequest(id: id, bytes)
    }

    /// Takes a request out of requests/ once it is answered, expired or cancelled.
    public func withdrawRequest(_ id: String) {
        try? FileSystem.removeIfPresent(publishedRequestPath(id))
    }

    /// The INPUT requests waiting for an answer, oldest first, as flowspoold publishes them: what
    /// the responders' group may see (never a flow's inputs, outputs or log). Throws when requests/
    /// cannot be read, so that nobody takes a refusal for an empty list.
    public func pendingInputs() throws(SystemError) -> [InputRequest] {
        let now = Clock.now()
        return try FileSystem.listDirectory(requests).compactMap { name -> InputRequest? in
            guard name.hasSuffix(".json"), !name.hasPrefix(".") else { return nil }
            let id = String(name.dropLast(5))
            guard ExecutionID.isValid(id), let request = publishedRequest(id) else { return nil }
            if let deadline = request.deadline, now >= deadline { return nil }
            return request
        }.sorted { ($0.asked, $0.id) < ($1.asked, $1.id) }
    }

    /// Hands each request to `show` once, as flowspoold publishes it in requests/, woken by inotify
    /// there; returns only by throwing (an error of the spool's, or of `show`).
    public func followInputs(_ show: (InputRequest) throws -> Void) throws {
        let inotify = try Inotify()
        try inotify.watch(requests, for: [.movedIn, .created])
        var shown: Set<String> = []
        while true {
            for request in try pendingInputs() where shown.insert(request.id).inserted {
                try show(request)
            }
            try inotify.awaitEvents(timeout: nil)
        }
    }
}
