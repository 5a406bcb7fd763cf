import Basics
import JSON
import POSIX
import Spool
import TaskRunner

/// The operation's parameters checked against its input shape before anything is sent, as
/// botocore's ParamValidator (validate.py) checks them, and no more: required and unknown members,
/// each value's type as Python sees JSON's, the `min` of strings, lists and numbers (botocore checks
/// no `max`, no pattern and no enum), an implicit min of 1 for host labels, and tagged unions. Every
/// problem is reported, together, in botocore's words: "Parameter validation failed:" and a line each.
struct ParameterValidator {
    let model: ServiceModel
    /// Whether every value is shown as ****: protect_inputs names `parameters`.
    var masksValues = false

    /// A value as a message shows it: as Python's str(), or masked.
    private func valueText(_ value: JSON, sensitive: Bool = false) -> String {
        masksValues || sensitive ? Protection.mask.stringValue ?? "" : PythonText.str(value)
    }

    func validate(_ parameters: JSONObject, shape name: String?) throws(TaskFailure) {
        guard let shape = model.shape(name) else { return }
        var problems: [String] = []
        check(.object(parameters), shape: shape, member: [:], name: "", into: &problems)
        if !problems.isEmpty { throw Self.failure(problems) }
    }

    /// botocore's ParamValidationError.
    static func failure(_ problems: [String]) -> TaskFailure {
        TaskFailure("Parameter validation failed:\n" + problems.joined(separator: "\n"))
    }

    /// How botocore names a place in the parameters: "input" for the whole, "Tags[0].Key" within.
    static func shown(_ name: String) -> String {
        name.isEmpty ? "input" : name.hasPrefix(".") ? String(name.dropFirst()) : name
    }

    /// One value against its shape; `member` is the reference that led there, whose traits
    /// (hostLabel, location, jsonvalue) count as botocore merges them into the shape.
    private func check(_ value: JSON, shape: JSONObject, member: JSONObject, name: String, into problems: inout [String]) {
        let type = shape["type"]?.stringValue ?? ""
        if type == "string", member["location"] == "header", member["jsonvalue"] == true || shape["jsonvalue"] == true {
            return  // any JSON: it is sent as the header's base64 JSON
        }
        if type == "structure", shape["document"] == true { return }  // any JSON is a document
        guard let expected = Self.pythonTypes[type] else { return }
        guard expected.accepts(value) else {
            // A value the model calls sensitive (a password, an SSE-C key) is not shown, where
            // botocore would show it: the message stays in the spool.
            problems.append("Invalid type for parameter \(Self.shown(name)), value: \(valueText(value, sensitive: shape["sensitive"] == true)), type: \(PythonText.typeName(value)), valid types: \(expected.names)")
            return
        }
        switch type {
        case "structure": checkStructure(value.objectValue ?? [:], shape: shape, name: name, into: &problems)
        case "list":
            let items = value.arrayValue ?? []
            checkMinimum(.int(items.count), shape: shape, member: member, name: name, length: true, into: &problems)
            let itemMember = shape["member"]?.objectValue ?? [:]
            for (index, item) in items.enumerated() {
                guard let itemShape = model.shape(itemMember["shape"]?.stringValue) else { continue }
                check(item, shape: itemShape, member: itemMember, name: "\(name)[\(index)]", into: &problems)
            }
        case "map":
            let keyMember = shape["key"]?.objectValue ?? [:], valueMember = shape["value"]?.objectValue ?? [:]
            for (key, element) in value.objectValue ?? [:] {
                if let keyShape = model.shape(keyMember["shape"]?.stringValue) {
                    check(.string(key), shape: keyShape, member: keyMember, name: "\(name) (key: \(key))", into: &problems)
                }
                if let valueShape = model.shape(valueMember["shape"]?.stringValue) {
                    check(element, shape: valueShape, member: valueMember, name: "\(name).\(key)", into: &problems)
                }
            }
        case "string":
            checkMinimum(.int(value.stringValue?.unicodeScalars.count ?? 0), shape: shape, member: member, name: name, length: true, into: &problems)
        case "integer", "long", "float", "double":
            checkMinimum(value, shape: shape, member: member, name: name, length: false, into: &problems)
        default:
            break
        }
    }

    private func checkStructure(_ object: JSONObject, shape: JSONObject, name: String, into problems: inout [String]) {
        let members = shape["members"]?.objectValue ?? [:]
        let memberNames = members.map(\.key).joined(separator: ", ")
        if shape["union"] == true && object.isEmpty {
            problems.append("Must set one of the following keys for tagged unionstructure \(Self.shown(name)): \(memberNames).")
        } else if shape["union"] == true && object.count > 1 {
            problems.append("Invalid number of parameters set for tagged union structure \(Self.shown(name)). Can only set one of the following keys: \(memberNames).")
        }
        for required in shape["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[required] == nil {
            problems.append("Missing required parameter in \(Self.shown(name)): \"\(required)\"")
        }
        for (key, _) in object where members[key] == nil {
            problems.append("Unknown parameter in \(Self.shown(name)): \"\(key)\", must be one of: \(memberNames)")
        }
        for (key, element) in object {
            guard let member = members[key]?.objectValue, let memberShape = model.shape(member["shape"]?.stringValue) else { continue }
            check(element, shape: memberShape, member: member, name: "\(name).\(key)", into: &problems)
        }
    }

    /// botocore's range_check: the shape's `min`, else 1 for a member bound to the host name.
    private func checkMinimum(_ value: JSON, shape: JSONObject, member: JSONObject, name: String, length: Bool, into problems: inout [String]) {
        let hostLabelMinimum: JSON? = member["hostLabel"] == true ? .int(1) : nil
        guard let minimum = shape["min"] ?? hostLabelMinimum, let bound = minimum.doubleValue,
              let number = Self.number(value), number < bound else { return }
        problems.append(length
            ? "Invalid length for parameter \(Self.shown(name)), value: \(valueText(value)), valid min length: \(PythonText.str(minimum))"
            : "Invalid value for parameter \(Self.shown(name)), value: \(valueText(value)), valid min value: \(PythonText.str(minimum))")
    }

    /// A number as Python compares it: a bool is the int 0 or 1.
    private static func number(_ value: JSON) -> Double? {
        if case .bool(let flag) = value { return flag ? 1 : 0 }
        return value.doubleValue
    }

    /// The Python types botocore takes for each of the model's types, as JSON brings them: a bool is
    /// an int to Python, an int is a float; a blob is text or the task's {"base64": ...}; a time is
    /// what botocore's parse_to_aware_datetime reads.
    struct PythonTypes: Sendable {
        let names: String
        let accepts: @Sendable (JSON) -> Bool
    }

    static let pythonTypes: [String: PythonTypes] = [
        "structure": PythonTypes(names: "<class 'dict'>") { $0.objectValue != nil },
        "map": PythonTypes(names: "<class 'dict'>") { $0.objectValue != nil },
        "list": PythonTypes(names: "<class 'list'>, <class 'tuple'>") { $0.arrayValue != nil },
        "string": PythonTypes(names: "<class 'str'>") { $0.stringValue != nil },
        "boolean": PythonTypes(names: "<class 'bool'>") { $0.boolValue != nil },
        "integer": PythonTypes(names: "<class 'int'>", accepts: isPythonInt),
        "long": PythonTypes(names: "<class 'int'>", accepts: isPythonInt),
        "float": PythonTypes(names: "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>") { $0.doubleValue != nil || $0.boolValue != nil },
        "double": PythonTypes(names: "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>") { $0.doubleValue != nil || $0.boolValue != nil },
        "blob": PythonTypes(names: "<class 'bytes'>, <class 'bytearray'>, file-like object") { Blob.bytes($0) != nil },
        "timestamp": PythonTypes(names: "<class 'datetime.datetime'>, timestamp-string") { Timestamp.seconds($0) != nil },
    ]

    private static func isPythonInt(_ value: JSON) -> Bool {
        switch value {
        case .int, .bigInteger, .bool: true
        default: false
        }
    }
}

/// Binary values as the task takes and gives them, as the REDIS task does: {"base64": "..."} for
/// the bytes it encodes, both ways, so that a result goes back in as the same bytes (get_item, then
/// put_item); a plain string given stands for its UTF-8 bytes.
enum Blob {
    static func bytes(_ value: JSON) -> [UInt8]? {
        if let text = value.stringValue { return Array(text.utf8) }
        return Base64.bytes(ofObject: value)
    }

    /// A blob of a result, which the service sent as base64 text: {"base64": "..."}.
    static func result(base64 text: String) -> JSON {
        Base64.decode(text).map(Base64.object) ?? .string(text)
    }
}
