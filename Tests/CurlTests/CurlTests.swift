import CCurl
import Curl
import FlowspoolTestSupport
import Testing

@Suite("libcurl wrapper")
struct CurlTests {
    @Test("perform returns the final response's status, headers and body after a redirect")
    func redirect() throws {
        let easy = try CurlEasy()
        try easy.set(CURLOPT_URL, TestEnvironment.httpURL + "/redirect")
        try easy.set(CURLOPT_FOLLOWLOCATION, 1)
        let response = try easy.perform()
        #expect(response.statusCode == 200)
        #expect(response.headers.contains { $0.name == "Content-Type" && $0.value == "application/json" })
        #expect(!response.headers.contains { $0.name == "Location" })
        #expect(String(decoding: response.body, as: UTF8.self).contains("\"path\": \"/echo\""))
    }

    @Test("a failure carries libcurl's own detail and the call's name")
    func failure() throws {
        let easy = try CurlEasy()
        try easy.set(CURLOPT_URL, "http://127.0.0.1:\(TestEnvironment.closedPort())/")
        #expect {
            try easy.perform()
        } throws: { error in
            guard let error = error as? CurlError else { return false }
            return error.isConnectFailure && "\(error)".hasPrefix("curl_easy_perform: Failed to connect to 127.0.0.1")
        }
    }

    @Test("a body over the limit fails instead of filling memory")
    func bodyLimit() throws {
        let easy = try CurlEasy()
        try easy.set(CURLOPT_URL, TestEnvironment.httpURL + "/text")
        easy.bodyLimit = 4
        #expect { try easy.perform() } throws: { ($0 as? CurlError)?.isTooLarge == true }
    }
}

@Suite("percent-decoding (Python's unquote and unquote_plus)")
struct PercentEncodingTests {
    @Test("two hex digits make a byte, in either case")
    func hex() {
        #expect(PercentEncoding.decodedString("%41%2f%2F") == "A//")
        #expect(PercentEncoding.decode("%e2%82%ac") == [0xe2, 0x82, 0xac])
    }

    @Test("a sign is no hex digit: %+f and %-0 stay as they are, as unquote leaves them")
    func signs() {
        #expect(PercentEncoding.decodedString("%+f%-0") == "%+f%-0")
        #expect(PercentEncoding.decodedString("%+f", plusIsSpace: true) == "% f")
    }

    @Test("a % before one hex digit, none or a non-hex one stays")
    func incomplete() {
        #expect(PercentEncoding.decodedString("a%4") == "a%4")
        #expect(PercentEncoding.decodedString("a%") == "a%")
        #expect(PercentEncoding.decodedString("%zz%4g") == "%zz%4g")
    }

    @Test("a + stays (unquote) or becomes a space (unquote_plus); %2B is a + either way")
    func plus() {
        #expect(PercentEncoding.decodedString("a+b%2B") == "a+b+")
        #expect(PercentEncoding.decodedString("a+b%2B", plusIsSpace: true) == "a b+")
    }

    @Test("bytes that are no UTF-8 become U+FFFD, as errors='replace' does")
    func invalidUTF8() {
        #expect(PercentEncoding.decodedString("%ff") == "\u{FFFD}")
    }
}

@Suite("percent-encoding (Python's quote, quote_plus and urlencode)")
struct PercentEncodingOutTests {
    /// Each text, and what Python 3.11 gives for quote(text, safe=""), quote(text, safe="/") and
    /// quote_plus(text).
    static let python: [(String, String, String, String)] = [
        ("a b+c/d", "a%20b%2Bc%2Fd", "a%20b%2Bc/d", "a+b%2Bc%2Fd"),
        ("J\u{FC}rgen M", "J%C3%BCrgen%20M", "J%C3%BCrgen%20M", "J%C3%BCrgen+M"),
        ("~-._!*()'", "~-._%21%2A%28%29%27", "~-._%21%2A%28%29%27", "~-._%21%2A%28%29%27"),
        ("%41&=?#", "%2541%26%3D%3F%23", "%2541%26%3D%3F%23", "%2541%26%3D%3F%23"),
    ]

    @Test("unreserved bytes stay, the safe ones asked for too, every other byte is %XX in capitals; quote_plus writes a space +")
    func asPython() {
        for (text, quoted, quotedKeepingSlashes, quotedPlus) in Self.python {
            #expect(PercentEncoding.quoted(text) == quoted)
            #expect(PercentEncoding.quoted(text, safe: "/") == quotedKeepingSlashes)
            #expect(PercentEncoding.quotedPlus(text) == quotedPlus)
        }
    }

    @Test("a form is urlencode's: name=value pairs in their order, joined by &")
    func form() {
        #expect(PercentEncoding.formEncoded([("na me", "a&b"), ("k", "\u{FC}")]) == "na+me=a%26b&k=%C3%BC")
    }
}

@Suite("libcurl's URL parser")
struct CurlURLTests {
    @Test("a Location resolves against the URL answered (RFC 3986, section 5)")
    func resolving() throws {
        let base = try CurlURL(parsing: "http://example.com:8080/a/b?q=1")
        #expect(try base.resolving("../c?d=2").text() == "http://example.com:8080/c?d=2")
        #expect(try base.resolving("https://other.example/x").text() == "https://other.example/x")
        #expect(try base.text() == "http://example.com:8080/a/b?q=1")
    }

    @Test("the scheme, host and port, the scheme's default when none is written")
    func parts() throws {
        let url = try CurlURL(parsing: "HTTPS://Example.COM/x")
        #expect(try url.scheme() == "https")
        #expect(try url.port() == "443")
        #expect(try CurlURL(parsing: "http://[::1]:81/").host() == "[::1]")
    }

    @Test("a URL libcurl cannot parse fails with the call's name")
    func failure() {
        #expect { try CurlURL(parsing: "no url") } throws: { error in
            guard let error = error as? CurlURLError else { return false }
            return "\(error)".hasPrefix("curl_url_set(CURLUPART_URL): ")
        }
    }
}
