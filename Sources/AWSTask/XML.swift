/// An XML element, as AWS's query, ec2 and rest-xml protocols answer: a name (without namespace
/// prefix), attributes, child elements and the text directly inside it.
struct XMLElement {
    var name: String
    var attributes: [String: String] = [:]
    var children: [XMLElement] = []
    var text = ""

    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
}

struct XMLError: Error, CustomStringConvertible {
    let description: String
}

/// A small XML parser for AWS responses: elements, attributes, text, CDATA (taken as it is),
/// comments, the declaration and the five entities plus character references; a closing tag must
/// name the element it closes. No DTDs, as AWS sends none.
struct XMLParser {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0
    /// Elements nested deeper than this are refused, as JSON's parser refuses its own: a hostile
    /// response must not exhaust the stack.
    static let maximumDepth = 512

    static func parse(_ bytes: [UInt8]) throws(XMLError) -> XMLElement {
        var parser = XMLParser(bytes: bytes)
        return try parser.document()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func document() throws(XMLError) -> XMLElement {
        while true {
            skipSpace()
            if starts(Self.declaration) {
                try skip(past: Self.declarationEnd)
            } else if starts(Self.commentStart) {
                try skip(past: Self.commentEnd)
            } else if starts(Self.markupStart) {
                try skip(past: Self.tagEnd)
            } else {
                break
            }
        }
        guard starts(Self.tagStart) else { throw XMLError(description: "no root element") }
        return try parseElement()
    }

    private mutating func parseElement() throws(XMLError) -> XMLElement {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw error("elements nested deeper than \(Self.maximumDepth)") }
        position += 1  // <
        let qualifiedName = name()
        var element = XMLElement(name: localName(qualifiedName))
        if try parseAttributes(of: &element) { return element }
        // Text between the children: entities decoded run by run, CDATA taken as it is.
        var text = ""
        var run: [UInt8] = []
        while position < bytes.count {
            guard bytes[position] == 0x3c else {  // not '<': text
                run.append(bytes[position])
                position += 1
                continue
            }
            if starts(Self.closingTagStart) {
                try parseClosingTag(of: qualifiedName)
                element.text = text + decodeEntities(run[...])
                return element
            } else if starts(Self.commentStart) {
                try skip(past: Self.commentEnd)
            } else if starts(Self.cdataStart) {
                position += Self.cdataStart.count
                let start = position
                try skip(past: Self.cdataEnd)
                text += decodeEntities(run[...]) + String(decoding: bytes[start..<(position - Self.cdataEnd.count)], as: UTF8.self)
                run.removeAll(keepingCapacity: true)
            } else {
                element.children.append(try parseElement())
            }
        }
        throw error("<\(qualifiedName)> is not closed")
    }

    /// Reads the attributes up to the end of the start tag; true for an empty element (`/>`).
    private mutating func parseAttributes(of element: inout XMLElement) throws(XMLError) -> Bool {
        while true {
            skipSpace()
            if starts(Self.emptyTagEnd) {
                position += 2
                return true
            }
            if starts(Self.tagEnd) {
                position += 1
                return false
            }
            let attribute = name()
            guard !attribute.isEmpty else { throw error("a malformed tag <\(element.name)") }
            skipSpace()
            guard starts(Self.equals) else { throw error("an attribute without a value in <\(element.name)") }
            position += 1
            skipSpace()
            guard position < bytes.count, bytes[position] == 0x22 || bytes[position] == 0x27 else { throw error("an unquoted attribute") }
            let quote = bytes[position]
            position += 1
            let start = position
            while position < bytes.count && bytes[position] != quote { position += 1 }
            guard position < bytes.count else { throw error("an attribute of <\(element.name)> is not closed") }
            element.attributes[attribute] = decodeEntities(bytes[start..<position])
            position += 1
        }
    }

    /// `</NAME>`, which must name the element it closes.
    private mutating func parseClosingTag(of qualifiedName: String) throws(XMLError) {
        position += Self.closingTagStart.count
        let closing = name()
        guard closing == qualifiedName else { throw error("<\(qualifiedName)> is closed by </\(closing)>") }
        skipSpace()
        guard starts(Self.tagEnd) else { throw error("a malformed closing tag </\(closing)") }
        position += 1
    }

    private static let tagStart = Array("<".utf8), tagEnd = Array(">".utf8), emptyTagEnd = Array("/>".utf8)
    private static let closingTagStart = Array("</".utf8), equals = Array("=".utf8), markupStart = Array("<!".utf8)
    private static let declaration = Array("<?".utf8), declarationEnd = Array("?>".utf8)
    private static let commentStart = Array("<!--".utf8), commentEnd = Array("-->".utf8)
    private static let cdataStart = Array("<![CDATA[".utf8), cdataEnd = Array("]]>".utf8)

    private mutating func name() -> String {
        let start = position
        while position < bytes.count, !(bytes[position] == 0x20 || bytes[position] == 0x09 || bytes[position] == 0x0a
            || bytes[position] == 0x0d || bytes[position] == 0x2f || bytes[position] == 0x3e || bytes[position] == 0x3d) {
            position += 1
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private func localName(_ name: String) -> String {
        name.split(separator: ":").last.map(String.init) ?? name
    }

    private mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[position]) { position += 1 }
    }

    /// Whether the bytes at the position are `pattern`; nothing is allocated.
    private func starts(_ pattern: [UInt8]) -> Bool {
        position + pattern.count <= bytes.count && bytes[position..<(position + pattern.count)].elementsEqual(pattern)
    }

    private mutating func skip(past pattern: [UInt8]) throws(XMLError) {
        while position < bytes.count {
            if bytes[position] == pattern[0] && starts(pattern) {
                position += pattern.count
                return
            }
            position += 1
        }
        throw error("'\(String(decoding: pattern, as: UTF8.self))' never comes")
    }

    private func error(_ what: String) -> XMLError {
        XMLError(description: "the response is not XML: \(what) (at byte \(position))")
    }

    private func decodeEntities(_ raw: ArraySlice<UInt8>) -> String {
        let text = String(decoding: raw, as: UTF8.self)
        guard text.contains("&") else { return text }
        var result = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "lt": result += "<"
            case "gt": result += ">"
            case "amp": result += "&"
            case "quot": result += "\""
            case "apos": result += "'"
            default:
                let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16) : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                if let number, let scalar = Unicode.Scalar(number) { result.unicodeScalars.append(scalar) } else { result += "&\(entity);" }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }
}
