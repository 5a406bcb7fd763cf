import Basics
import JSON
import Spool

/// The part of JMESPath (jmespath.org) that botocore's paginators and waiters use: fields, dotted
/// paths, flatten projections (`Reservations[].Instances[].State.Name`), indexes (`Contents[-1]`),
/// `||`, `length(...)` and comparisons with a literal (`length(Reservations[]) > \`0\``).
struct JMESPath {
    private indirect enum Node {
        case path([Segment])
        case or(Node, Node)
        case length(Node)
        case compare(Node, String, JSON)
    }

    private enum Segment {
        case field(String)
        case index(Int)
        case flatten
    }

    private let root: Node
    let expression: String

    struct UnsupportedExpression: Error, CustomStringConvertible {
        let description: String
    }

    init(_ expression: String) throws(UnsupportedExpression) {
        self.expression = expression
        root = try Self.parse(expression.trimming())
    }

    func search(_ value: JSON) -> JSON? {
        Self.evaluate(root, value)
    }

    private static func parse(_ text: String) throws(UnsupportedExpression) -> Node {
        if let range = text.firstRange(of: "||") {
            return .or(try parse(String(text[..<range.lowerBound]).trimming()), try parse(String(text[range.upperBound...]).trimming()))
        }
        for op in ["==", "!=", ">=", "<=", ">", "<"] {
            if let range = text.firstRange(of: op) {
                let right = String(text[range.upperBound...]).trimming()
                return .compare(try parse(String(text[..<range.lowerBound]).trimming()), op, try literal(right))
            }
        }
        if text.hasPrefix("length(") && text.hasSuffix(")") {
            return .length(try parse(String(text.dropFirst(7).dropLast()).trimming()))
        }
        return .path(try segments(text))
    }

    private static func literal(_ text: String) throws(UnsupportedExpression) -> JSON {
        if text.hasPrefix("`") && text.hasSuffix("`"), text.count >= 2, let json = try? JSON(parsing: Array(text.dropFirst().dropLast().utf8)) {
            return json
        }
        if text.hasPrefix("'") && text.hasSuffix("'"), text.count >= 2 { return .string(String(text.dropFirst().dropLast())) }
        throw UnsupportedExpression(description: "a literal flowspool cannot read: \(text)")
    }

    private static func segments(_ text: String) throws(UnsupportedExpression) -> [Segment] {
        var result: [Segment] = []
        var rest = text[...]
        while !rest.isEmpty {
            if rest.hasPrefix(".") { rest = rest.dropFirst(); continue }
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { throw UnsupportedExpression(description: "an unclosed [ in \(text)") }
                let inside = rest[rest.index(after: rest.startIndex)..<close].trimming()
                if inside.isEmpty {
                    result.append(.flatten)
                } else if let index = Int(inside) {
                    result.append(.index(index))
                } else {
                    throw UnsupportedExpression(description: "[\(inside)] in \(text)")
                }
                rest = rest[rest.index(after: close)...]
                continue
            }
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
            guard !name.isEmpty else { throw UnsupportedExpression(description: "'\(rest.first!)' in \(text)") }
            result.append(.field(String(name)))
            rest = rest.dropFirst(name.count)
        }
        return result
    }

    private static func evaluate(_ node: Node, _ value: JSON) -> JSON? {
        switch node {
        case .path(let segments):
            return walk(segments[...], value)
        case .or(let left, let right):
            let first = evaluate(left, value)
            return isTruthy(first) ? first : evaluate(right, value)
        case .length(let inner):
            switch evaluate(inner, value) {
            case .array(let elements)?: return .int(elements.count)
            case .object(let object)?: return .int(object.count)
            case .string(let text)?: return .int(text.count)
            default: return nil
            }
        case .compare(let inner, let op, let literal):
            let left = evaluate(inner, value)
            if op == "==" { return .bool(left == literal) }
            if op == "!=" { return .bool(left != literal) }
            guard let a = left?.doubleValue, let b = literal.doubleValue else { return nil }
            switch op {
            case ">": return .bool(a > b)
            case "<": return .bool(a < b)
            case ">=": return .bool(a >= b)
            default: return .bool(a <= b)
            }
        }
    }

    /// A path over a value. After a flatten (`[]`) the path projects: each later step applies to
    /// every element, nulls are dropped, and a later `[]` flattens the projected list once more.
    private static func walk(_ segments: ArraySlice<Segment>, _ start: JSON?) -> JSON? {
        var value = start
        var projecting = false
        for segment in segments {
            if projecting {
                let elements = value?.arrayValue ?? []
                switch segment {
                case .flatten: value = .array(elements.flatMap { $0.arrayValue ?? [$0] })
                case .field(let name): value = .array(elements.compactMap { $0.objectValue?[name] }.filter { $0 != .null })
                case .index(let index): value = .array(elements.compactMap { element(of: $0, at: index) })
                }
            } else {
                switch segment {
                case .flatten:
                    guard let elements = value?.arrayValue else { return nil }
                    value = .array(elements.flatMap { $0.arrayValue ?? [$0] }.filter { $0 != .null })
                    projecting = true
                case .field(let name): value = value?.objectValue?[name]
                case .index(let index): value = value.flatMap { element(of: $0, at: index) }
                }
            }
            if value == nil { return nil }
        }
        return value
    }

    private static func element(of value: JSON, at index: Int) -> JSON? {
        guard let elements = value.arrayValue else { return nil }
        let position = index < 0 ? elements.count + index : index
        return elements.indices.contains(position) ? elements[position] : nil
    }

    /// JMESPath's truth: not null, false, or an empty string, list or object.
    static func isTruthy(_ value: JSON?) -> Bool {
        switch value {
        case nil, .null?, .bool(false)?: false
        case .string(let text)?: !text.isEmpty
        case .array(let elements)?: !elements.isEmpty
        case .object(let object)?: !object.isEmpty
        default: true
        }
    }
}
