/// An XML element, as AWS's query, ec2 and rest-xml protocols answer: a name (without namespace
/// prefix), attributes (by the names written, `xsi:type`), child elements and its text, as
/// botocore's parser (Python's ElementTree) reads them.
struct XMLElement {
    var name: String
    var attributes: [String: String] = [:]
    var children: [XMLElement] = []
    /// The text before the first child element (ElementTree's `text`): comments left out, CDATA as
    /// it is; for an element without children, all of its text.
    var text = ""

    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
}

struct XMLError: Error, CustomStringConvertible {
    let description: String
}

/// A small XML parser for AWS responses, which refuses what is not well formed as Python's expat
/// does for botocore: elements, attributes (whitespace in them normalized, each named once), text,
/// CDATA (taken as it is), comments, the declaration, a byte order mark, line ends as LF, the five
/// entities and character references (of characters XML allows; any other entity, or an & alone,
/// is an error); a closing tag must name the element it closes, a prefix must be declared, and
/// nothing but comments may follow the root element. No DTDs, as AWS sends none.
struct XMLParser {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0
    /// Elements nested deeper than this are refused, as JSON's parser refuses its own: a hostile
    /// response must not exhaust the stack.
    static let maximumDepth = 512

    static func parse(_ bytes: [UInt8]) throws(XMLError) -> XMLElement {
        var parser = XMLParser(bytes: normalizingLineEnds(bytes))
        return try parser.document()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    /// CR LF and a CR alone read as LF, as XML 1.0 (2.11) has a parser do before anything else.
    static func normalizingLineEnds(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(0x0d) else { return bytes }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        for (index, byte) in bytes.enumerated() where !(byte == 0x0d && index + 1 < bytes.count && bytes[index + 1] == 0x0a) {
            result.append(byte == 0x0d ? 0x0a : byte)
        }
        return result
    }

    private mutating func document() throws(XMLError) -> XMLElement {
        if starts(Self.byteOrderMark) { position += Self.byteOrderMark.count }
        try skipMisc(allowingMarkup: true)
        guard starts(Self.tagStart) else { throw XMLError(description: "no root element") }
        let root = try parseElement(declared: ["xml"])
        try skipMisc(allowingMarkup: false)
        guard position == bytes.count else { throw error("something after the root element") }
        return root
    }

    /// Whitespace, comments and processing instructions (the declaration); before the root, a
    /// DOCTYPE too.
    private mutating func skipMisc(allowingMarkup: Bool) throws(XMLError) {
        while true {
            skipSpace()
            if starts(Self.declaration) {
                try skip(past: Self.declarationEnd)
            } else if starts(Self.commentStart) {
                try skip(past: Self.commentEnd)
            } else if allowingMarkup && starts(Self.markupStart) {
                try skip(past: Self.tagEnd)
            } else {
                return
            }
        }
    }

    /// An element and what it holds; `declared` are the namespace prefixes in scope.
    private mutating func parseElement(declared: Set<String>) throws(XMLError) -> XMLElement {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw error("elements nested deeper than \(Self.maximumDepth)") }
        position += 1  // <
        let qualifiedName = name()
        guard !qualifiedName.isEmpty else { throw error("a malformed tag") }
        var element = XMLElement(name: localName(qualifiedName))
        let isEmpty = try parseAttributes(of: &element)
        let inScope = declared.union(element.attributes.keys.filter { $0.hasPrefix("xmlns:") }.map { String($0.dropFirst(6)) })
        try checkPrefixes(qualifiedName, attributes: element.attributes.keys, inScope: inScope)
        if isEmpty { return element }
        try parseContent(of: &element, closedBy: qualifiedName, declared: inScope)
        return element
    }

    /// A prefixed name needs its prefix declared (xmlns:PREFIX) here or in an element around it.
    private func checkPrefixes(_ qualifiedName: String, attributes: Dictionary<String, String>.Keys, inScope: Set<String>) throws(XMLError) {
        for name in [qualifiedName] + attributes where name.contains(":") && !name.hasPrefix("xmlns:") {
            let prefix = String(name.prefix { $0 != ":" })
            guard inScope.contains(prefix) else { throw error("the prefix of \(name) is not declared") }
        }
    }

    /// The element's text and children, up to its closing tag. Entities are decoded run by run,
    /// CDATA taken as it is; the text is what comes before the first child.
    private mutating func parseContent(of element: inout XMLElement, closedBy qualifiedName: String, declared: Set<String>) throws(XMLError) {
        var text = "", run: [UInt8] = []
        while position < bytes.count {
            guard bytes[position] == 0x3c else {  // not '<': text
                if starts(Self.cdataEnd) { throw error("']]>' in text") }
                run.append(bytes[position])
                position += 1
                continue
            }
            let decoded = try decodeEntities(run[...])  // a child's tail is checked too, and left out
            if element.children.isEmpty { text += decoded }
            run.removeAll(keepingCapacity: true)
            if starts(Self.closingTagStart) {
                try parseClosingTag(of: qualifiedName)
                element.text = text
                return
            } else if starts(Self.commentStart) {
                try skip(past: Self.commentEnd)
            } else if starts(Self.cdataStart) {
                position += Self.cdataStart.count
                let start = position
                try skip(past: Self.cdataEnd)
                if element.children.isEmpty { text += String(decoding: bytes[start..<(position - Self.cdataEnd.count)], as: UTF8.self) }
            } else {
                element.children.append(try parseElement(declared: declared))
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
            while position < bytes.count && bytes[position] != quote {
                guard bytes[position] != 0x3c else { throw error("a '<' in an attribute of <\(element.name)>") }
                position += 1
            }
            guard position < bytes.count else { throw error("an attribute of <\(element.name)> is not closed") }
            guard element.attributes[attribute] == nil else { throw error("the attribute \(attribute) twice in <\(element.name)>") }
            // Whitespace written in a value reads as spaces; a character reference stays what it names.
            let value = bytes[start..<position].map { $0 == 0x09 || $0 == 0x0a ? 0x20 : $0 }
            element.attributes[attribute] = try decodeEntities(value[...])
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
    private static let byteOrderMark: [UInt8] = [0xef, 0xbb, 0xbf]

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

    /// Text with the five entities and character references decoded; any other `&` is an error.
    private func decodeEntities(_ raw: ArraySlice<UInt8>) throws(XMLError) -> String {
        let text = String(decoding: raw, as: UTF8.self)
        guard text.contains("&") else { return text }
        var result = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { throw error("an & that starts no entity") }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "lt": result += "<"
            case "gt": result += ">"
            case "amp": result += "&"
            case "quot": result += "\""
            case "apos": result += "'"
            default: result.unicodeScalars.append(try characterReference(entity))
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }

    /// &#N; or &#xH; of a character XML allows (XML 1.0's Char: not NUL, a control other than tab,
    /// LF and CR, a surrogate, U+FFFE or U+FFFF).
    private func characterReference(_ entity: Substring) throws(XMLError) -> Unicode.Scalar {
        let digits = entity.hasPrefix("#x") ? entity.dropFirst(2) : entity.hasPrefix("#") ? entity.dropFirst() : ""
        let radix = entity.hasPrefix("#x") ? 16 : 10
        guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit && (radix == 16 || $0.isNumber) }),
              let number = UInt32(digits, radix: radix), let scalar = Unicode.Scalar(number) else {
            throw error("the entity &\(entity); is not one XML has")
        }
        let value = scalar.value
        guard value == 0x09 || value == 0x0a || value == 0x0d || (0x20...0xfffd).contains(value) || value >= 0x10000 else {
            throw error("&\(entity); names a character XML does not allow")
        }
        return scalar
    }
}
