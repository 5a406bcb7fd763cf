import Basics
import JSON
import Spool
import TaskRunner

/// One part of a multipart/form-data body: a form field, or a file with a name and a type.
struct MultipartPart: Equatable {
    var name: String
    var content: [UInt8]
    var filename: String?
    var contentType: String?
}

/// The `multipart` input, sent as python-requests sends `files=` (urllib3's
/// `encode_multipart_formdata`): a part's headers, their order and quoting are urllib3's, so that a
/// server reads the same parts from flowspool as from a requests script.
///
/// The input is a dictionary of field names to values, or a list of parts, each with a `name`. A
/// value is a string, number or boolean (a plain field, written as Python's `str()` writes it), or a
/// part: `{"value": text}` or `{"base64": bytes}`, with an optional `filename` and `content_type`.
enum Multipart {
    static let partKeys: Set<String> = ["value", "base64", "filename", "content_type"]

    static func parts(_ input: JSON) throws(TaskFailure) -> [MultipartPart] {
        switch input {
        case .object(let fields):
            var parts: [MultipartPart] = []
            for (name, value) in fields {
                if case .object(let part) = value {
                    parts.append(try self.part(part, name: name))
                } else if let text = PythonText.scalarStr(value) {
                    parts.append(MultipartPart(name: name, content: Array(text.utf8)))
                } else if value != .null {
                    throw TaskFailure("input 'multipart' ('\(name.escapingControlCharacters())'): a value must be a string, number, boolean or a part ({\"value\": ...} or {\"base64\": ...}), not \(value.kindDescription)")
                }
            }
            return parts
        case .array(let list):
            return try list.map { (element) throws(TaskFailure) -> MultipartPart in
                guard var part = element.objectValue, let name = part["name"]?.stringValue else {
                    throw TaskFailure("input 'multipart': each part of the list must be a dictionary with a string 'name', not \(element.kindDescription)")
                }
                part["name"] = nil
                return try self.part(part, name: name)
            }
        default:
            throw TaskFailure("input 'multipart' must be a dictionary of field names to values or a list of parts, not \(input.kindDescription)")
        }
    }

    /// A part given as a dictionary: `value` or `base64`, and `filename` and `content_type`.
    static func part(_ given: JSONObject, name: String) throws(TaskFailure) -> MultipartPart {
        let shown = "input 'multipart' ('\(name.escapingControlCharacters())')"
        if let unknown = given.keys.first(where: { !partKeys.contains($0) }) {
            throw TaskFailure("\(shown): unknown key '\(unknown.escapingControlCharacters())' (a part has 'value' or 'base64', and may have 'filename' and 'content_type')")
        }
        let content: [UInt8]
        switch (given["value"], given["base64"]) {
        case (let value?, nil):
            guard let text = PythonText.scalarStr(value) else {
                throw TaskFailure("\(shown): 'value' must be a string, number or boolean, not \(value.kindDescription)")
            }
            content = Array(text.utf8)
        case (nil, let encoded?):
            guard let text = encoded.stringValue, let bytes = Base64.decode(text) else {
                throw TaskFailure("\(shown): 'base64' must be a string in base64")
            }
            content = bytes
        default:
            throw TaskFailure("\(shown): a part has either 'value' or 'base64'")
        }
        var part = MultipartPart(name: name, content: content)
        part.filename = try optionalString(given["filename"], "filename", shown: shown)
        part.contentType = try optionalString(given["content_type"], "content_type", shown: shown)
        if let type = part.contentType {
            // The type is a header line of the part: a line break would add headers to it.
            try RESTRequest.refuseLineBreaks(type, input: "multipart", item: name)
        }
        return part
    }

    static func optionalString(_ value: JSON?, _ key: String, shown: String) throws(TaskFailure) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw TaskFailure("\(shown): '\(key)' must be a string, not \(other.kindDescription)")
        }
    }

    /// 32 hexadecimal digits, as urllib3's boundaries are.
    static func newBoundary() -> String {
        Spool.randomToken() + Spool.randomToken()
    }

    static func contentType(boundary: String) -> String {
        "multipart/form-data; boundary=\(boundary)"
    }

    static func body(_ parts: [MultipartPart], boundary: String) -> [UInt8] {
        var body: [UInt8] = []
        for part in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(quoted(part.name))\""
            if let filename = part.filename { head += "; filename=\"\(quoted(filename))\"" }
            head += "\r\n"
            if let type = part.contentType, !type.isEmpty { head += "Content-Type: \(type)\r\n" }
            body += Array((head + "\r\n").utf8) + part.content + Array("\r\n".utf8)
        }
        return body + Array("--\(boundary)--\r\n".utf8)
    }

    /// A name or file name inside its quotes, as the HTML standard (and urllib3) write it: line
    /// breaks and `"` percent-encoded, everything else as it is in UTF-8.
    static func quoted(_ text: String) -> String {
        var output = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": output += "%0A"
            case "\r": output += "%0D"
            case "\"": output += "%22"
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }
}
