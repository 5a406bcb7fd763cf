import Curl

/// A URL as python-requests sends it, so that a job written from a requests script reaches the
/// same resource.
extension RESTRequest {
    /// The URL's path, query and fragment percent-encoded as python-requests sends them (urllib3's
    /// `parse_url`, then `requote_uri`): each component's bytes outside its allowed set (a space, a
    /// non-ASCII character's UTF-8, `<`, `"`...) become %XX; its escapes stay, written in capitals,
    /// unless one `%` of it is no escape (`100%`, `%zz`), when every `%` of it is encoded; escapes of
    /// unreserved characters are decoded. The scheme, user and host are left as they are; a
    /// reference without them (a redirect's relative Location) is all path, query and fragment.
    static func requoted(_ url: String) -> String {
        let afterAuthority = url.firstRange(of: "://").map { scheme in
            url[scheme.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        } ?? url.startIndex
        var rest = Array(url[afterAuthority...].utf8)
        var fragment: [UInt8]?
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) {
            fragment = Array(rest[(hash + 1)...])
            rest = Array(rest[..<hash])
        }
        var query: [UInt8]?
        if let mark = rest.firstIndex(of: UInt8(ascii: "?")) {
            query = Array(rest[(mark + 1)...])
            rest = Array(rest[..<mark])
        }
        var encoded = encode(rest, extra: "@/:")
        if let query { encoded += [UInt8(ascii: "?")] + encode(query, extra: "@/:?") }
        if let fragment { encoded += [UInt8(ascii: "#")] + encode(fragment, extra: "@/:?") }
        return String(url[..<afterAuthority]) + String(decoding: encoded, as: UTF8.self)
    }

    /// One component, as urllib3 and then requests' `unquote_unreserved` leave it.
    private static func encode(_ given: [UInt8], extra: String) -> [UInt8] {
        let allowed = Array("!$&'()*+,;=".utf8) + Array(extra.utf8)
        var component = given
        let escapes = (0..<component.count).filter { isEscape(component, at: $0) }
        for start in escapes {  // %7e is %7E, whatever becomes of it
            for digit in (start + 1)...(start + 2) where component[digit] >= UInt8(ascii: "a") {
                component[digit] -= 0x20
            }
        }
        let keepEscapes = escapes.count == component.count { $0 == UInt8(ascii: "%") }
        var output: [UInt8] = []
        var index = 0
        while index < component.count {
            let byte = component[index]
            if byte == UInt8(ascii: "%") && keepEscapes {
                let value = PercentEncoding.hexValue(component[index + 1])! << 4 | PercentEncoding.hexValue(component[index + 2])!
                output += PercentEncoding.isUnreserved(value) ? [value] : PercentEncoding.escape(value)
                index += 3
                continue
            }
            if PercentEncoding.isUnreserved(byte) || allowed.contains(byte) {
                output.append(byte)
            } else {
                output += PercentEncoding.escape(byte)
            }
            index += 1
        }
        return output
    }

    /// Whether a valid %XX escape starts at `index`.
    private static func isEscape(_ bytes: [UInt8], at index: Int) -> Bool {
        bytes[index] == UInt8(ascii: "%") && index + 2 < bytes.count
            && bytes[(index + 1)...(index + 2)].allSatisfy { PercentEncoding.hexValue($0) != nil }
    }
}
