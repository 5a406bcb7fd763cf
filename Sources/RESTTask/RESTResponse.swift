import Basics
import Curl
import JSON
import Spool

/// The REST task's outputs for a response, shaped as the platform's (Python requests') are.
struct RESTResponse {
    let response: CurlEasy.Response

    var outputs: JSONObject {
        var outputs: JSONObject = [
            "status_code": .int(response.statusCode),
            "headers": .object(headers),
            "cookies": .object(cookies),
            "encoding": encoding.map(JSON.string) ?? .null,
        ]
        if let json {
            outputs["json"] = json
        } else {
            outputs["text"] = .string(text)
        }
        return outputs
    }

    /// Headers by name; a header sent several times has its values joined with ", ".
    var headers: JSONObject {
        var result = JSONObject()
        for (name, value) in response.headers {
            if case .string(let earlier)? = result[name] {
                result[name] = .string(earlier + ", " + value)
            } else {
                result[name] = .string(value)
            }
        }
        return result
    }

    /// The cookies the response sets: name and value of each Set-Cookie header.
    var cookies: JSONObject {
        var result = JSONObject()
        for (name, value) in response.headers where name.lowercased() == "set-cookie" {
            let pair = value.split(separator: ";", maxSplits: 1).first ?? ""
            guard let equals = pair.firstIndex(of: "=") else { continue }
            result[String(pair[..<equals]).trimming(" \t")] = .string(String(pair[pair.index(after: equals)...]).trimming(" \t"))
        }
        return result
    }

    var contentType: String? {
        response.headers.last { $0.name.lowercased() == "content-type" }?.value
    }

    /// The charset of the Content-Type; ISO-8859-1 for text/* without one and utf-8 for JSON, as
    /// requests reports it; nil when the response does not say.
    var encoding: String? {
        guard let contentType else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let parts = parameter.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimming(" \t").lowercased() == "charset" {
                return parts[1].trimming(" \t").trimming("\"'")
            }
        }
        let mediaType = contentType.lowercased()
        if mediaType.contains("text") { return "ISO-8859-1" }
        if mediaType.contains("application/json") { return "utf-8" }
        return nil
    }

    /// The body as JSON, when it parses: the text decoded in the declared encoding, as requests'
    /// `json()` reads it, or the bytes as they are when the response declares none.
    var json: JSON? {
        encoding == nil ? try? JSON(parsing: response.body) : try? JSON(parsing: text)
    }

    /// The body decoded in its encoding, as requests' `text` decodes it with errors replaced.
    var text: String { TextDecoding.decode(response.body, encoding: encoding) }
}
