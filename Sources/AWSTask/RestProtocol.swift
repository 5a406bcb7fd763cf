import Basics
import Curl
import JSON
import POSIX
import Spool
import TaskRunner

/// Requests and responses of the rest-json and rest-xml protocols (lambda, s3, ...): members located
/// in the URI, the query string and headers, a payload member or the rest in the body
/// (botocore's BaseRestSerializer and BaseRestParser).
struct RestProtocol {
    let model: ServiceModel
    let operation: Operation
    var isXML: Bool { model.protocolName == "rest-xml" }

    func request(_ parameters: JSONObject, endpoint: String) throws(TaskFailure) -> SignedRequest {
        let input = model.shape(operation.inputShape) ?? [:]
        let members = input["members"]?.objectValue ?? [:]
        let parts = operation.requestURI.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var path = String(parts[0])
        var query: [(String, String)] = parts.count > 1 ? parts[1].split(separator: "&").map { field in
            let pair = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
        } : []
        var headers: [(String, String)] = []
        var body = JSONObject()
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            guard let member = members[name]?.objectValue else { continue }
            let location = member["locationName"]?.stringValue ?? name
            let shape = model.shape(member["shape"]?.stringValue) ?? [:]
            let type = shape["type"]?.stringValue
            let place = member["location"]?.stringValue
            let format = Timestamp.format(member: member, shape: shape, fallback: place == "header" ? "rfc822" : "iso8601")
            func scalar(_ value: JSON, type: String?, inHeader: Bool) -> String {
                self.scalar(value, type: type, timestampFormat: format)
            }
            switch place {
            case "uri":
                let text = scalar(value, type: type, inHeader: false)
                path = path.replacing("{\(location)+}", with: PercentEncoding.quoted(text, safe: "/"))
                    .replacing("{\(location)}", with: PercentEncoding.quoted(text))
            case "querystring":
                if type == "list" {
                    for element in value.arrayValue ?? [] { query.append((location, scalar(element, type: nil, inHeader: false))) }
                } else if type == "map" {
                    for (key, element) in value.objectValue ?? [:] { query.append((key, scalar(element, type: nil, inHeader: false))) }
                } else {
                    query.append((location, scalar(value, type: type, inHeader: false)))
                }
            case "header" where member["jsonvalue"]?.boolValue == true || shape["jsonvalue"]?.boolValue == true:
                headers.append((location, Base64.encode(Array(value.compactText.utf8))))  // botocore: base64 of the JSON
            case "header":
                let text = type == "list" ? (value.arrayValue ?? []).map { scalar($0, type: nil, inHeader: true) }.joined(separator: ",")
                    : scalar(value, type: type, inHeader: true)
                headers.append((location, text))
            case "headers":
                for (key, element) in value.objectValue ?? [:] { headers.append((location + key, element.stringValue ?? element.compactText)) }
            default:
                body[name] = value
            }
        }
        for (name, value) in headers where value.hasLineBreakOrNUL {
            throw TaskFailure("the header \(name) would hold a line break or NUL, which would start a header of its own; nothing was sent")
        }
        let payloadBytes: [UInt8]
        var streams = false
        if let payload = input["payload"]?.stringValue {
            let member = members[payload]?.objectValue ?? [:]
            let shape = model.shape(member["shape"]?.stringValue)
            streams = ["blob", "string"].contains(shape?["type"]?.stringValue ?? "")
            switch (parameters[payload], shape?["type"]?.stringValue) {
            case (nil, "blob"?), (nil, "string"?): payloadBytes = []
            case (nil, _): payloadBytes = isXML ? [] : Array("{}".utf8)
            case (let value?, "blob"?), (let value?, "string"?): payloadBytes = Blob.bytes(value) ?? []
            case (let value?, _):
                payloadBytes = isXML
                    ? XMLSerializer(model: model).document(value, shape: member["shape"]?.stringValue,
                                                            root: member["locationName"]?.stringValue ?? payload,
                                                            namespace: member["xmlNamespace"]?["uri"]?.stringValue)
                    : Array(JSONShapes(model: model).serialize(value, shape: member["shape"]?.stringValue).compactText.utf8)
            }
        } else if !body.isEmpty {
            payloadBytes = isXML
                ? XMLSerializer(model: model).document(.object(body), shape: operation.inputShape,
                                                        root: input["locationName"]?.stringValue ?? operation.inputShape ?? operation.name,
                                                        namespace: input["xmlNamespace"]?["uri"]?.stringValue)
                : Array(JSONShapes(model: model).serialize(.object(body), shape: operation.inputShape).compactText.utf8)
        } else if !isXML && members.contains(where: { $0.value["location"] == nil }) {
            payloadBytes = Array("{}".utf8)  // botocore's _requires_empty_body
        } else {
            payloadBytes = []
        }
        if !isXML && !streams && !payloadBytes.isEmpty && !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            headers.append(("Content-Type", "application/json"))
        }
        return SignedRequest(method: operation.httpMethod, endpoint: endpoint, path: path, query: query, headers: headers, body: payloadBytes)
    }

    private func scalar(_ value: JSON, type: String?, timestampFormat: String) -> String {
        switch type {
        case "timestamp": return Timestamp.wire(value, format: timestampFormat)
        case "boolean": return value.boolValue == true ? "true" : "false"
        case "blob": return Base64.encode(Blob.bytes(value) ?? [])
        default: return value.stringValue ?? value.compactText
        }
    }

    /// The output: members from the status code, headers and body, as boto3 gives them; nothing
    /// for an operation without an output shape, whatever its body (botocore's parser reads none).
    func result(_ response: CurlEasy.Response) throws(TaskFailure) -> JSON {
        guard let output = model.shape(operation.outputShape) else { return .object([:]) }
        let members = output["members"]?.objectValue ?? [:]
        var result = JSONObject()
        if let payload = output["payload"]?.stringValue, let member = members[payload]?.objectValue {
            let shape = model.shape(member["shape"]?.stringValue)
            switch shape?["type"]?.stringValue {
            case "blob"?: result[payload] = Base64.object(response.body)
            case "string"?: result[payload] = .string(String(decoding: response.body, as: UTF8.self))
            default:
                if !response.body.isEmpty { result[payload] = try parseBody(response.body, shape: member["shape"]?.stringValue) }
            }
        } else if !response.body.isEmpty {
            result = try parseBody(response.body, shape: operation.outputShape).objectValue ?? [:]
        }
        for (name, definition) in members {
            guard let member = definition.objectValue else { continue }
            let location = member["locationName"]?.stringValue ?? name
            let type = model.shape(member["shape"]?.stringValue)?["type"]?.stringValue
            switch member["location"]?.stringValue {
            case "statusCode":
                result[name] = .int(response.statusCode)
            case "header":
                if let value = response.joinedHeader(location) {
                    let isJSON = member["jsonvalue"]?.boolValue == true || model.shape(member["shape"]?.stringValue)?["jsonvalue"]?.boolValue == true
                    result[name] = isJSON ? (Base64.decode(value).flatMap { try? JSON(parsing: $0) } ?? .string(value)) : headerValue(value, type: type)
                }
            case "headers":
                result[name] = .object(response.joinedHeaders(prefixed: location))
            default:
                break
            }
        }
        return .object(result)
    }

    private func parseBody(_ body: [UInt8], shape: String?) throws(TaskFailure) -> JSON {
        do {
            if isXML { return XMLShapeParser(model: model).parse(try XMLParser.parse(body), shape: shape) }
            return JSONShapes(model: model).parse(try JSON(parsing: body), shape: shape)
        } catch {
            throw TaskFailure("\(model.client).\(operation.name): the response cannot be read: \(error)")
        }
    }

    /// A header's value as its member's type says, as a body's would be, but that float and double
    /// headers stay text.
    private func headerValue(_ text: String, type: String?) -> JSON {
        type == "float" || type == "double" ? .string(text) : XMLShapeParser(model: model).scalar(text, type: type)
    }
}

/// A request body in XML for rest-xml (S3's CreateBucketConfiguration and the like).
struct XMLSerializer {
    let model: ServiceModel

    func document(_ value: JSON, shape: String?, root: String, namespace: String?) -> [UInt8] {
        var text = ""
        element(value, shape: model.shape(shape), name: root, namespace: namespace, into: &text)
        return Array(text.utf8)
    }

    private func element(_ value: JSON, shape: JSONObject?, name: String, namespace: String? = nil, into text: inout String) {
        let open = namespace.map { "<\(name) xmlns=\"\(escape($0))\">" } ?? "<\(name)>"
        switch shape?["type"]?.stringValue {
        case "structure":
            // Members marked xmlAttribute go into the open tag (S3's Grantee xsi:type), with the
            // namespace their prefix needs.
            let members = shape?["members"]?.objectValue ?? [:]
            var attributes = namespace.map { " xmlns=\"\(escape($0))\"" } ?? ""
            for (key, member) in value.objectValue ?? [:] {
                guard let definition = members[key]?.objectValue, definition["xmlAttribute"]?.boolValue == true else { continue }
                let location = definition["locationName"]?.stringValue ?? key
                if let prefix = definition["xmlNamespace"]?["prefix"]?.stringValue, let uri = definition["xmlNamespace"]?["uri"]?.stringValue {
                    attributes += " xmlns:\(prefix)=\"\(escape(uri))\""
                }
                attributes += " \(location)=\"\(escape(member.stringValue ?? member.compactText))\""
            }
            text += "<\(name)\(attributes)>"
            for (key, member) in value.objectValue ?? [:] {
                let definition = members[key]?.objectValue ?? [:]
                guard definition["xmlAttribute"]?.boolValue != true else { continue }
                let memberShape = model.shape(definition["shape"]?.stringValue)
                let location = QuerySerializer.trait("locationName", definition, memberShape) ?? key
                if memberShape?["type"]?.stringValue == "list",
                   memberShape?["flattened"]?.boolValue == true || definition["flattened"]?.boolValue == true {
                    for item in member.arrayValue ?? [] {
                        element(item, shape: model.shape(memberShape?["member"]?["shape"]?.stringValue), name: location, into: &text)
                    }
                } else {
                    element(member, shape: memberShape, name: location, into: &text)
                }
            }
            text += "</\(name)>"
        case "list":
            text += open
            let member = shape?["member"]?.objectValue ?? [:]
            for item in value.arrayValue ?? [] {
                element(item, shape: model.shape(member["shape"]?.stringValue), name: member["locationName"]?.stringValue ?? "member", into: &text)
            }
            text += "</\(name)>"
        default:
            let scalar = QuerySerializer(model: model).scalar(value, type: shape?["type"]?.stringValue)
            text += open + escape(scalar) + "</\(name)>"
        }
    }

    private func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }
}
