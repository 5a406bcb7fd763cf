import JSON
import POSIX

/// A job: what a file in incoming/ asks for, and what an execution's inputs.json records.
public struct Job: Equatable, Sendable {
    public var task: String
    public var inputs: JSONObject
    public var parent: String?
    public var name: String?
    /// The overall task timeout in seconds, overriding the supervisor's default.
    public var timeout: Double?
    /// A key that `flowspool run --unique` keeps to one execution going at a time.
    public var unique: String?
    /// A child that goes on when its flow ends; other children are cancelled with it.
    public var detached: Bool
    /// The entry of a cluster's queue this job came from, written by the host that took it
    /// (flowspool-cluster(7)): what tells the host's cluster jobs from its own.
    public var cluster: String?

    public init(
        task: String, inputs: JSONObject = [:], parent: String? = nil, name: String? = nil, timeout: Double? = nil,
        unique: String? = nil, detached: Bool = false, cluster: String? = nil
    ) {
        self.task = task
        self.inputs = inputs
        self.parent = parent
        self.name = name
        self.timeout = timeout
        self.unique = unique
        self.detached = detached
        self.cluster = cluster
    }

    /// Job files larger than this are refused unread: as large as outputs may be, so that what one
    /// task gives another (an S3 object, a Redis value) fits.
    public static let maximumSize = Execution.outputsLimit
    static let keys = ["task", "inputs", "parent", "name", "timeout", "unique", "detached", "cluster"]

    /// Parses a job file, naming what is wrong with it. An execution's inputs.json is a job with the
    /// time it was `submitted` added: read it with `record: true`.
    public init(parsing bytes: [UInt8], record: Bool = false) throws(SpoolError) {
        let document: JSON
        do {
            document = try JSON(parsing: bytes)
        } catch {
            throw SpoolError("the job file is not JSON: \(error)")
        }
        try self.init(document, record: record)
    }

    public init(_ document: JSON, record: Bool = false) throws(SpoolError) {
        guard let object = document.objectValue else {
            throw SpoolError("the job file holds \(document.kindDescription), not a dictionary like {\"task\": \"REST\", \"inputs\": {...}}")
        }
        for key in object.keys where !Self.keys.contains(key) && !(record && key == "submitted") {
            throw SpoolError("unknown key '\(key)' in the job (known keys: \(Self.keys.joined(separator: ", ")))")
        }
        guard let taskValue = object["task"] else { throw SpoolError("the job has no 'task' (the task type, e.g. \"REST\")") }
        guard let task = taskValue.stringValue else { throw SpoolError("'task' must be a string, not \(taskValue.kindDescription)") }
        guard TaskType.isValid(task) else {
            throw SpoolError("'\(task)' is not a task type name (letters, digits, '_' and '-')")
        }
        self.task = task
        switch object["inputs"] {
        case nil, .null?: inputs = [:]
        case .object(let value)?: inputs = value
        case let other?: throw SpoolError("'inputs' must be a dictionary, not \(other.kindDescription)")
        }
        parent = try Self.optionalString(object, "parent")
        if let parent, !ExecutionID.isValid(parent) { throw SpoolError("'parent' is not an execution id: '\(parent)'") }
        name = try Self.optionalString(object, "name")
        unique = try Self.optionalString(object, "unique")
        cluster = try Self.optionalString(object, "cluster")
        switch object["detached"] {
        case nil, .null?: detached = false
        case .bool(let value)?: detached = value
        case let other?: throw SpoolError("'detached' must be true or false, not \(other.kindDescription)")
        }
        switch object["timeout"] {
        case nil, .null?: timeout = nil
        case let value?:
            guard let seconds = value.doubleValue, seconds > 0, Seconds(seconds) != nil else {
                throw SpoolError("'timeout' must be a positive number of seconds up to \(Int(Seconds.longest)) (a hundred years), not \(value.compactText)")
            }
            timeout = seconds
        }
    }

    static func optionalString(_ object: JSONObject, _ key: String) throws(SpoolError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw SpoolError("'\(key)' must be a string, not \(other.kindDescription)")
        }
    }

    /// The job as a JSON document, as written to incoming/ and (with `submitted`) to inputs.json.
    public func document(submitted: Double? = nil) -> JSON {
        var object: JSONObject = ["task": .string(task), "inputs": .object(inputs)]
        if let parent { object["parent"] = .string(parent) }
        if let name { object["name"] = .string(name) }
        if let timeout { object["timeout"] = .double(timeout) }
        if let unique { object["unique"] = .string(unique) }
        if detached { object["detached"] = true }
        if let cluster { object["cluster"] = .string(cluster) }
        if let submitted { object["submitted"] = .string(Clock.iso8601(submitted)) }
        return .object(object)
    }
}
