import Basics
import Curl
import JSON
import POSIX
import Spool

/// Requests in the query and ec2 protocols: form fields named by the input shape
/// (botocore's QuerySerializer and EC2Serializer).
struct QuerySerializer {
    let model: ServiceModel
    var isEC2: Bool { model.protocolName == "ec2" }

    func fields(_ parameters: JSON, shape: String?) -> [(String, String)] {
        var fields: [(String, String)] = []
        serialize(parameters, shape: model.shape(shape), prefix: "", into: &fields)
        return fields
    }

    private func serialize(_ value: JSON, shape: JSONObject?, prefix: String, into fields: inout [(String, String)]) {
        guard let shape else { return }
        switch shape["type"]?.stringValue {
        case "structure":
            let members = shape["members"]?.objectValue ?? [:]
            for (name, member) in value.objectValue ?? [:] {
                guard let definition = members[name]?.objectValue else { continue }
                var memberShape = model.shape(definition["shape"]?.stringValue)
                let key = memberName(name, definition, memberShape)
                if let format = definition["timestampFormat"] { memberShape?["timestampFormat"] = format }
                serialize(member, shape: memberShape, prefix: prefix.isEmpty ? key : "\(prefix).\(key)", into: &fields)
            }
        case "list":
            let elements = value.arrayValue ?? []
            let member = shape["member"]?.objectValue ?? [:]
            if elements.isEmpty && !isEC2 {
                fields.append((prefix, ""))
                return
            }
            let flattened = isEC2 || shape["flattened"]?.boolValue == true
            var base = prefix
            if flattened && !isEC2, let location = member["locationName"]?.stringValue {
                base = String(prefix.split(separator: ".").dropLast().joined(separator: ".") + (prefix.contains(".") ? "." : "") + location)
            } else if !flattened {
                base = "\(prefix).\(member["locationName"]?.stringValue ?? "member")"
            }
            for (index, element) in elements.enumerated() {
                serialize(element, shape: model.shape(member["shape"]?.stringValue), prefix: "\(base).\(index + 1)", into: &fields)
            }
        case "map":
            let key = shape["key"]?.objectValue ?? [:], valueShape = shape["value"]?.objectValue ?? [:]
            let base = shape["flattened"]?.boolValue == true ? prefix : "\(prefix).entry"
            for (index, (name, element)) in (value.objectValue ?? [:]).sorted(by: { $0.key < $1.key }).enumerated() {
                let entry = "\(base).\(index + 1)"
                fields.append(("\(entry).\(key["locationName"]?.stringValue ?? "key")", name))
                serialize(element, shape: model.shape(valueShape["shape"]?.stringValue),
                          prefix: "\(entry).\(valueShape["locationName"]?.stringValue ?? "value")", into: &fields)
            }
        default:
            fields.append((prefix, scalar(value, type: shape["type"]?.stringValue, timestampFormat: shape["timestampFormat"]?.stringValue)))
        }
    }

    /// ec2 names members by queryName, else by their locationName capitalized; query by their
    /// locationName. The member's own trait first, then its shape's, as botocore merges them (SQS
    /// 1.29's TagQueue sends its Tags as Tag.1.Key, the name its TagMap shape gives).
    private func memberName(_ name: String, _ member: JSONObject, _ shape: JSONObject?) -> String {
        if isEC2 {
            if let query = Self.trait("queryName", member, shape) { return query }
            if let location = Self.trait("locationName", member, shape) { return location.prefix(1).uppercased() + location.dropFirst() }
            return name
        }
        return Self.trait("locationName", member, shape) ?? name
    }

    /// A serialization trait of a structure's member: the member's own, else its shape's.
    static func trait(_ name: String, _ member: JSONObject, _ shape: JSONObject?) -> String? {
        member[name]?.stringValue ?? shape?[name]?.stringValue
    }

    func scalar(_ value: JSON, type: String?, timestampFormat: String? = nil) -> String {
        switch type {
        case "boolean": return value.boolValue == true ? "true" : "false"
        case "timestamp": return Timestamp.wire(value, format: timestampFormat ?? "iso8601")
        case "blob": return Base64.encode(Blob.bytes(value) ?? [])
        default: return value.stringValue ?? value.compactText
        }
    }
}

/// Responses in XML (query, ec2, rest-xml): the output shape read out of the elements, as
/// botocore's parsers shape a result.
struct XMLShapeParser {
    let model: ServiceModel
    var isEC2: Bool { model.protocolName == "ec2" }

    func parse(_ element: XMLElement, shape: String?) -> JSON {
        parse(element, shape: model.shape(shape))
    }

    private func parse(_ element: XMLElement, shape: JSONObject?) -> JSON {
        guard let shape else { return .string(element.text) }
        switch shape["type"]?.stringValue {
        case "structure":
            var object = JSONObject()
            for (name, definition) in shape["members"]?.objectValue ?? [:] {
                guard let member = definition.objectValue, member["location"] == nil else { continue }
                let memberShape = model.shape(member["shape"]?.stringValue)
                let location = Self.elementName(of: name, member, memberShape)
                if member["xmlAttribute"]?.boolValue == true {
                    // xsi:type and the like: an attribute of this element, whatever its prefix.
                    let local = location.split(separator: ":").last.map(String.init) ?? location
                    if let text = element.attributes[location] ?? element.attributes.first(where: { $0.key.hasSuffix(":" + local) })?.value {
                        object[name] = scalar(text, type: memberShape?["type"]?.stringValue)
                    }
                    continue
                }
                let flattenedType = isFlattened(memberShape, member: member) ? memberShape?["type"]?.stringValue : nil
                if flattenedType == "list" {
                    // The items stand in this element, one element each, with no wrapper.
                    let items = element.children(location)
                    if !items.isEmpty { object[name] = .array(items.map { parse($0, shape: model.shape(memberShape?["member"]?["shape"]?.stringValue)) }) }
                } else if flattenedType == "map", let memberShape {
                    // So do the entries of a flattened map, each a key and a value.
                    let entries = element.children(location)
                    if !entries.isEmpty { object[name] = map(entries, shape: memberShape) }
                } else if let child = element.child(location) {
                    object[name] = parse(child, shape: memberShape)
                }
            }
            return .object(object)
        case "list":
            let member = shape["member"]?.objectValue ?? [:]
            let itemName = member["locationName"]?.stringValue ?? "member"
            return .array(element.children(itemName).map { parse($0, shape: model.shape(member["shape"]?.stringValue)) })
        case "map":
            return map(shape["flattened"]?.boolValue == true ? [element] : element.children("entry"), shape: shape)
        default:
            return scalar(element.text, type: shape["type"]?.stringValue)
        }
    }

    /// A map from its entries, each holding a key and a value element.
    private func map(_ entries: [XMLElement], shape: JSONObject) -> JSON {
        let key = shape["key"]?.objectValue ?? [:], value = shape["value"]?.objectValue ?? [:]
        var object = JSONObject()
        for entry in entries {
            guard let name = entry.child(key["locationName"]?.stringValue ?? "key")?.text else { continue }
            object[name] = entry.child(value["locationName"]?.stringValue ?? "value").map { parse($0, shape: model.shape(value["shape"]?.stringValue)) } ?? .null
        }
        return .object(object)
    }

    /// The element a structure's member stands in, as botocore's XML parser names it: a flattened
    /// list's items are named by the list's member (SQS's `Messages` are `<Message>` elements),
    /// else the member's locationName (or its shape's), else its name.
    static func elementName(of name: String, _ member: JSONObject, _ shape: JSONObject?) -> String {
        if shape?["type"]?.stringValue == "list", shape?["flattened"]?.boolValue == true,
           let itemName = shape?["member"]?["locationName"]?.stringValue {
            return itemName
        }
        return QuerySerializer.trait("locationName", member, shape) ?? name
    }

    private func isFlattened(_ shape: JSONObject?, member: JSONObject) -> Bool {
        shape?["flattened"]?.boolValue == true || member["flattened"]?.boolValue == true
    }

    func scalar(_ text: String, type: String?) -> JSON {
        switch type {
        case "boolean": .bool(text == "true")
        case "integer", "long": Int(text).map(JSON.int) ?? .string(text)
        case "float", "double": Double(text).map(JSON.double) ?? .string(text)
        case "timestamp": Timestamp.result(.string(text))
        case "blob": Blob.result(base64: text)
        default: .string(text)
        }
    }
}

/// Requests and responses in the json protocol: the JSON document with timestamps as seconds since
/// the epoch and blobs as base64 (botocore's JSONSerializer and JSONParser).
struct JSONShapes {
    let model: ServiceModel

    func serialize(_ value: JSON, shape name: String?, timestampFormat: String? = nil) -> JSON {
        guard let shape = model.shape(name) else { return value }
        if shape["document"]?.boolValue == true { return value }  // any JSON, sent as it is
        switch shape["type"]?.stringValue {
        case "structure":
            let members = shape["members"]?.objectValue ?? [:]
            var object = JSONObject()
            for (key, member) in value.objectValue ?? [:] {
                let definition = members[key]?.objectValue ?? [:]
                object[definition["locationName"]?.stringValue ?? key] = serialize(
                    member, shape: definition["shape"]?.stringValue, timestampFormat: definition["timestampFormat"]?.stringValue)
            }
            return .object(object)
        case "list":
            return .array((value.arrayValue ?? []).map { serialize($0, shape: shape["member"]?["shape"]?.stringValue) })
        case "map":
            return .object(JSONObject((value.objectValue ?? [:]).map { ($0.key, serialize($0.value, shape: shape["value"]?["shape"]?.stringValue)) }))
        case "timestamp":
            let format = timestampFormat ?? shape["timestampFormat"]?.stringValue ?? "unixTimestamp"
            guard format == "unixTimestamp" else { return .string(Timestamp.wire(value, format: format)) }
            return Timestamp.seconds(value).map { $0.rounded() == $0 ? .int(Int($0)) : .double($0) } ?? value
        case "blob":
            return .string(Base64.encode(Blob.bytes(value) ?? []))
        default:
            return value
        }
    }

    func parse(_ value: JSON, shape name: String?) -> JSON {
        guard let shape = model.shape(name) else { return value }
        if shape["document"]?.boolValue == true { return value }
        switch shape["type"]?.stringValue {
        case "structure":
            guard let object = value.objectValue else { return value }
            var result = JSONObject()
            for (key, definition) in shape["members"]?.objectValue ?? [:] {
                let location = definition["locationName"]?.stringValue ?? key
                // As botocore: a member the service sends as null is left out.
                if let member = object[location], member != .null { result[key] = parse(member, shape: definition["shape"]?.stringValue) }
            }
            return .object(result)
        case "list":
            return .array((value.arrayValue ?? []).map { parse($0, shape: shape["member"]?["shape"]?.stringValue) })
        case "map":
            return .object(JSONObject((value.objectValue ?? [:]).map { ($0.key, parse($0.value, shape: shape["value"]?["shape"]?.stringValue)) }))
        case "timestamp":
            return Timestamp.result(value)
        case "blob":
            return Blob.result(base64: value.stringValue ?? "")
        default:
            return value
        }
    }
}
