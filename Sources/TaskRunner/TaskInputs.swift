import JSON
import POSIX
import Spool

/// A task's inputs, read one by one with their types checked. Every input a task reads is marked
/// known; `rejectUnknown()` then names any input the task does not have, so a typo never passes silently.
public struct TaskInputs {
    public let taskType: String
    private let values: JSONObject
    private var known: Set<String> = ["protect_inputs", "protect_outputs"]

    public init(taskType: String, values: JSONObject) {
        self.taskType = taskType
        self.values = values
    }

    /// The outputs named in `protect_outputs`, which a task keeps out of its messages too.
    public var protectedOutputs: Set<String> { Protection.protectedOutputs(values) }

    /// The inputs that are never shown: the secret ones and those named in `protect_inputs`.
    public var protectedInputs: Set<String> { Protection.protectedInputs(values) }

    /// Checks `protect_inputs` and `protect_outputs`, which every task type takes: lists of names.
    public func checkProtectionLists() throws(TaskFailure) {
        for name in ["protect_inputs", "protect_outputs"] {
            guard let value = values[name], value != .null else { continue }
            guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw TaskFailure("input '\(name)' must be a list of names, not \(value.kindDescription)")
            }
        }
    }

    /// The value of an input, nil when it is missing or null (null means "use the default").
    public mutating func value(_ name: String) -> JSON? {
        known.insert(name)
        switch values[name] {
        case nil, .null?: return nil
        case let value?: return value
        }
    }

    /// Refuses a NUL character in any string input, nested ones too, naming the input and never
    /// showing its value: for tasks whose inputs go to C libraries (libssh2), which would cut the
    /// text at the NUL and act on the rest, a user name or a script other than the one given.
    public func refuseNULCharacters(_ why: String) throws(TaskFailure) {
        for (name, value) in values where Self.holdsNUL(value) {
            throw TaskFailure("input '\(name)' holds a NUL character, which \(why); refused, nothing was sent")
        }
    }

    static func holdsNUL(_ value: JSON) -> Bool {
        switch value {
        case .string(let text): text.utf8.contains(0)
        case .array(let elements): elements.contains(where: holdsNUL)
        case .object(let object): object.contains { $0.0.utf8.contains(0) || holdsNUL($0.1) }
        default: false
        }
    }

    /// A string input the task cannot do without.
    public mutating func requiredString(_ name: String) throws(TaskFailure) -> String {
        guard let value = try string(name) else {
            throw TaskFailure("input '\(name)' is required for the \(taskType) task")
        }
        return value
    }


    public mutating func string(_ name: String) throws(TaskFailure) -> String? {
        try typed(name, "a string") { $0.stringValue }
    }

    public mutating func bool(_ name: String) throws(TaskFailure) -> Bool? {
        try typed(name, "a boolean (true or false)") { $0.boolValue }
    }

    public mutating func integer(_ name: String) throws(TaskFailure) -> Int? {
        try typed(name, "an integer") { $0.intValue }
    }

    public mutating func number(_ name: String) throws(TaskFailure) -> Double? {
        try typed(name, "a number") { $0.doubleValue }
    }

    /// A length of time given in `unit`s (seconds, or minutes with `perUnit` 60), checked as
    /// `Seconds` are: a number out of range is an input error, never a deadline that cannot be kept.
    public mutating func duration(_ name: String, unit: String = "seconds", perUnit: Double = 1) throws(TaskFailure) -> Seconds? {
        guard let number = try number(name) else { return nil }
        guard let seconds = Seconds(number * perUnit) else {
            throw TaskFailure("input '\(name)' must be \(Seconds.range(in: unit, perUnit: perUnit)), not \(JSON.double(number).compactText)")
        }
        return seconds
    }

    public mutating func list(_ name: String) throws(TaskFailure) -> [JSON]? {
        try typed(name, "a list") { $0.arrayValue }
    }

    public mutating func dictionary(_ name: String) throws(TaskFailure) -> JSONObject? {
        try typed(name, "a dictionary") { $0.objectValue }
    }

    /// A dictionary whose values must all be strings (headers, cookies). Numbers and booleans are
    /// taken in their JSON spelling, as people write `{"X-Count": 3}`.
    public mutating func stringDictionary(_ name: String) throws(TaskFailure) -> [(String, String)]? {
        guard let object = try dictionary(name) else { return nil }
        return try object.map { (entry) throws(TaskFailure) -> (String, String) in
            switch entry.value {
            case .string(let text): return (entry.key, text)
            case .int, .bigInteger, .double, .bool: return (entry.key, entry.value.compactText)
            default:
                throw TaskFailure("input '\(name)' must map names to strings, but '\(entry.key)' is \(entry.value.kindDescription)")
            }
        }
    }

    private mutating func typed<T>(_ name: String, _ expected: String, _ convert: (JSON) -> T?) throws(TaskFailure) -> T? {
        guard let value = value(name) else { return nil }
        guard let converted = convert(value) else {
            // The value is shown to help find the mistake, unless it is a secret.
            let secret = Protection.protectedInputs(values).contains(name)
            let shown = secret ? "" : " (\(Self.abbreviate(value)))"
            // key=value on flowspool's command line is always a string: say how to give the type.
            var hint = ""
            if !secret, case .string(let text) = value, let parsed = try? JSON(parsing: text), convert(parsed) != nil {
                hint = "; on flowspool's command line, write \(name):=\(text)"
            }
            throw TaskFailure("input '\(name)' must be \(expected), not \(value.kindDescription)\(shown)\(hint)")
        }
        return converted
    }

    /// Fails naming the inputs the task did not read, and on protection lists that are not lists.
    public func rejectUnknown() throws(TaskFailure) {
        try checkProtectionLists()
        let unknown = values.keys.filter { !known.contains($0) }
        guard let first = unknown.first else { return }
        let names = known.subtracting(["protect_inputs", "protect_outputs"]).sorted().joined(separator: ", ")
        let listed = unknown.count == 1 ? "input '\(first)'" : "inputs " + unknown.map { "'\($0)'" }.joined(separator: ", ")
        throw TaskFailure("unknown \(listed) for the \(taskType) task (its inputs: \(names))")
    }

    static func abbreviate(_ value: JSON) -> String {
        let text = value.compactText
        return text.count > 40 ? String(text.prefix(37)) + "..." : text
    }
}

/// A task that ended in error: the message for `flowspool show`, and the outputs it still has.
public struct TaskFailure: Error, CustomStringConvertible {
    public let message: String
    public let outputs: JSONObject?

    public init(_ message: String, outputs: JSONObject? = nil) {
        self.message = message
        self.outputs = outputs
    }

    public var description: String { message }
}
