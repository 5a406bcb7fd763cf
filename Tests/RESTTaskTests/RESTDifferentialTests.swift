import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// The REST task against python requests, the tool its users know: each case of the table runs as a
/// job through flowspoold and the REST runner, and as a requests call (Tests/servers/requests_cases.py,
/// one python process for the whole table), against the same loopback server. The two results,
/// in one shape (`status`, and `outputs` or `error`), are compared field by field; every mismatch
/// must be a documented difference (`Differences.rest`, named in flowspool-tasks(7)).
@Suite("REST differential")
struct RESTDifferentialTests {
    struct Case {
        let name: String
        let inputs: JSONObject

        init(_ name: String, _ inputs: JSONObject) {
            self.name = name
            self.inputs = inputs
        }

        /// The inputs for one side: `{engine}` in the URL becomes that side's name, so that the
        /// server's counters (/flaky/KEY) count each side's requests apart.
        func inputs(for engine: String) -> JSONObject {
            var inputs = self.inputs
            if case .string(let url)? = inputs["url"] { inputs["url"] = .string(url.replacing("{engine}", with: engine)) }
            return inputs
        }
    }

    /// The table. URLs are on the loopback servers bin/test starts: `http`, the same server as
    /// another host (`other`), and `https` with its CA.
    static func cases(http: String, other: String, https: String, blackholePort: Int) -> [Case] {
        requestCases(http: http, other: other) + redirectAndStatusCases(http: http, other: other)
            + answerCases(http: http, other: other, https: https, blackholePort: blackholePort)
    }

    /// What goes out: methods, bodies, URLs, params, forms, headers.
    static func requestCases(http: String, other: String) -> [Case] {
        let echo = JSON.string(http + "/echo")
        return [
            // Methods and bodies.
            Case("GET", ["url": echo]),
            Case("POST with a string in data", ["url": echo, "method": "post", "data": "payload"]),
            Case("POST with a non-ASCII string in data", ["url": echo, "method": "post", "data": "gr\u{FC}\u{DF}e, caf\u{E9}"]),
            Case("PUT with a dictionary in data, sent as JSON", ["url": echo, "method": "put", "data": ["a": 1, "b": ["c", true, nil], "\u{FC}": 1.5]]),
            Case("PATCH with a list in json", ["url": echo, "method": "patch", "json": [1, "two", ["three": 3.0]]]),
            Case("json with Unicode, floats and nesting", ["url": echo, "method": "post", "json": [
                "text": "\u{FC} \u{1F600} \"q\" \\ \n\t\u{7F}", "floats": [0.1, 1e16, 1e-5, 123.0, -0.0, 9007199254740993.0, 1.5e300],
                "big": .bigInteger("123456789012345678901234567890"), "none": nil, "yes": true, "empty": [:],
            ]]),
            Case("json that is a string, with a content type of the job's", ["url": echo, "method": "post", "json": "h\u{E9}", "headers": ["Content-Type": "application/vnd.flow+json"]]),
            Case("DELETE without a body", ["url": echo, "method": "delete"]),
            Case("OPTIONS", ["url": echo, "method": "options"]),
            Case("a method of the job's own, PURGE", ["url": echo, "method": "PURGE"]),
            Case("HEAD", ["url": .string(http + "/text"), "method": "head"]),
            Case("HEAD along a redirect stays HEAD", ["url": .string(http + "/redirect?to=/text"), "method": "head"]),
            // URLs and params.
            Case("a query with \u{FC} and spaces in the URL", ["url": .string(http + "/echo?q=gr\u{FC}n blau&r=a+b&s=100%")]),
            Case("params of every kind", ["url": echo, "params": [
                "s": "a b&c=d/\u{FC}", "i": 3, "f": 1.0, "t": true, "n": nil, "l": ["x", 2, false], "e": "",
            ]]),
            Case("params added to a query the URL has", ["url": .string(http + "/echo?a=1#top"), "params": ["b": "2", "a": "3"]]),
            // Forms and multipart.
            Case("data as a form, the header's name in lower case", ["url": echo, "method": "post",
                "headers": ["content-type": "application/x-www-form-urlencoded"], "data": ["name": "J\u{FC}rgen M", "tags": ["a", "b&c"], "n": 2, "skip": nil]]),
            Case("data as a form whose content type has a charset", ["url": echo, "method": "post",
                "headers": ["Content-Type": "Application/X-WWW-Form-Urlencoded; charset=utf-8"], "data": ["q": "1+1=2"]]),
            Case("multipart fields by name", ["url": echo, "method": "post", "multipart": ["title": "Gr\u{FC}\u{DF}e", "count": 3, "ok": true]]),
            Case("multipart files in a list", ["url": echo, "method": "post", "multipart": [
                ["name": "note", "value": "plain field"],
                ["name": "upload", "filename": "report \"q\".txt", "content_type": "text/plain", "value": "line 1\nline 2"],
                ["name": "upload", "filename": "bytes.bin", "content_type": "application/octet-stream", "base64": .string(Base64.encode((0...255).map { UInt8($0) }))],
                ["name": "typed", "content_type": "application/json", "value": "{\"a\": 1}"],
            ]]),
            // Headers and credentials.
            Case("headers of the job's", ["url": echo, "headers": ["X-Flow": "yes", "Accept": "application/json", "X-Count": 3]]),
            Case("user and password in the URL", ["url": .string(http.replacing("://", with: "://alice:s%40cret@") + "/echo")]),
            Case("Authorization kept along a redirect on the same host", ["url": .string(http + "/redirect?to=/echo"), "headers": ["Authorization": "Bearer t0ken"]]),
            Case("Authorization dropped along a redirect to another host", ["url": .string(http + "/redirect?to=\(other)/echo"), "headers": ["Authorization": "Bearer t0ken"]]),
        ]
    }

    static func redirectAndStatusCases(http: String, other: String) -> [Case] {
        [
            // Redirects.
            Case("a 302 is followed", ["url": .string(http + "/redirect?to=/echo")]),
            Case("POST along a 302 becomes GET without its body", ["url": .string(http + "/redirect?to=/echo"), "method": "post", "json": ["a": 1]]),
            Case("POST along a 303 becomes GET", ["url": .string(http + "/redirect?to=/echo&status=303"), "method": "post", "data": "x"]),
            Case("PUT along a 302 becomes GET", ["url": .string(http + "/redirect?to=/echo&status=302"), "method": "put", "data": "x"]),
            Case("PUT along a 301 stays PUT without its body", ["url": .string(http + "/redirect?to=/echo&status=301"), "method": "put", "data": "x"]),
            Case("POST along a 307 keeps its method and body", ["url": .string(http + "/redirect?to=/echo&status=307"), "method": "post", "json": ["a": 1]]),
            Case("POST along a 308 keeps its method and body", ["url": .string(http + "/redirect?to=/echo&status=308"), "method": "post", "data": "x"]),
            Case("a redirect to a path relative to the answer's", ["url": .string(http + "/redirect?to=echo/sub%20dir?x=\u{FC}")]),
            Case("allow_redirects false hands over the redirect, not expected", ["url": .string(http + "/redirect?to=/echo"), "allow_redirects": false]),
            Case("allow_redirects false with the redirect expected", ["url": .string(http + "/redirect?to=/echo"), "allow_redirects": false, "expected_status_code": [302]]),
            Case("30 redirects are followed", ["url": .string(http + "/redirects/30")]),
            Case("31 redirects are too many", ["url": .string(http + "/redirects/31")]),
            Case("max_redirects 2 and 3 redirects", ["url": .string(http + "/redirects/3"), "max_redirects": 2]),
            Case("max_redirects 0 and one redirect", ["url": .string(http + "/redirect?to=/echo"), "max_redirects": 0]),
            Case("a 300 with a Location is not followed", ["url": .string(http + "/redirect?to=/echo&status=300"), "expected_status_code": [300]]),
            Case("a cookie set on a redirect goes along", ["url": .string(http + "/redirect?to=/echo&cookie=step=one")]),
            // Status codes.
            Case("201", ["url": .string(http + "/status/201")]),
            Case("204 without a body", ["url": .string(http + "/status/204")]),
            Case("304 not expected", ["url": .string(http + "/status/304")]),
            Case("404 not expected", ["url": .string(http + "/status/404")]),
            Case("404 expected", ["url": .string(http + "/status/404"), "expected_status_code": [404]]),
            Case("500 not expected", ["url": .string(http + "/status/500")]),
            Case("503 expected as a single code", ["url": .string(http + "/status/503"), "expected_status_code": 503]),
        ]
    }

    /// Cookies, what comes back and how, time limits, TLS and retries.
    static func answerCases(http: String, other: String, https: String, blackholePort: Int) -> [Case] {
        let echo = JSON.string(http + "/echo")
        let binary = (0...255).map { String(format2hex: $0) }.joined()
        return [
            // Cookies.
            Case("cookies of the job's", ["url": echo, "cookies": ["session": "abc", "theme": "dark"]]),
            Case("cookies the answer sets", ["url": .string(http + "/set-cookie?flavour=oat&size=XL")]),
            Case("cookies along a redirect to another host", ["url": .string(http + "/redirect?to=\(other)/echo"), "cookies": ["session": "abc"]]),
            Case("a cookie value holding ';'", ["url": echo, "cookies": ["session": "abc; admin=1"]]),
            // Response bodies and their encodings.
            Case("a JSON list", ["url": .string(http + "/list")]),
            Case("text in UTF-8", ["url": .string(http + "/text")]),
            Case("text/html without a charset, in Latin-1", ["url": .string(http + "/latin1")]),
            Case("Windows-1252", ["url": .string(http + "/bytes?type=text/plain;%20charset=windows-1252&hex=80e9939f")]),
            Case("UTF-16 with a byte-order mark", ["url": .string(http + "/bytes?type=text/plain;%20charset=utf-16&hex=fffe6300e900")]),
            Case("ASCII declared, bytes beyond it", ["url": .string(http + "/bytes?type=text/plain;%20charset=us-ascii&hex=6361e9")]),
            Case("a charset Python does not know", ["url": .string(http + "/bytes?type=text/plain;%20charset=x-flowspool&hex=6361c3a9")]),
            Case("JSON sent as text/plain, read in Latin-1", ["url": .string(http + "/bytes?type=text/plain&hex=7b2261223a2263c3a9227d")]),
            Case("binary bytes", ["url": .string(http + "/bytes?type=application/octet-stream&hex=\(binary)")]),
            Case("an empty body", ["url": .string(http + "/bytes?type=text/plain")]),
            Case("a body without a content type, in Latin-1", ["url": .string(http + "/bytes?hex=" + Array("Gr\u{FC}\u{DF}e aus K\u{F6}ln, sch\u{F6}ne Gr\u{FC}\u{DF}e".unicodeScalars).map { String(format2hex: Int($0.value)) }.joined())]),
            Case("gzip", ["url": .string(http + "/gzip")]),
            // Time limits, connections and TLS.
            Case("timeout on a slow answer", ["url": .string(http + "/slow?seconds=3"), "timeout": 0.5]),
            Case("read_timeout on a slow answer", ["url": .string(http + "/slow?seconds=4"), "read_timeout": 1]),
            Case("connect_timeout on a port that never answers", ["url": .string("http://127.0.0.1:\(blackholePort)/"), "connect_timeout": 0.5]),
            Case("a refused connection", ["url": .string("http://127.0.0.1:\(TestEnvironment.closedPort())/")]),
            Case("HTTPS with the CA in cacert", ["url": .string(https + "/echo"), "cacert": .string(TestEnvironment.caCertificate)]),
            Case("HTTPS without the CA", ["url": .string(https + "/echo")]),
            // Retries.
            Case("retry_backoff through two 503s", ["url": .string(http + "/flaky/{engine}-503?fail=2"), "retry_backoff": ["initial": 0.1]]),
            Case("retry_backoff through a 429 with Retry-After", ["url": .string(http + "/flaky/{engine}-429?fail=1&status=429&retry_after=1"), "retry_backoff": ["initial": 0.1]]),
            Case("retry_backoff through dropped connections", ["url": .string(http + "/flaky/{engine}-drop?fail=2&drop=1"), "retry_backoff": ["initial": 0.1]]),
            // Two bodies.
            Case("data and json both given", ["url": echo, "method": "post", "data": "x", "json": ["a": 1]]),
        ]
    }

    @Test("each case ends as it ends with python requests, but for the documented differences")
    func differential() throws {
        let test = try TestSpool()
        try test.startSupervisor()
        let http = TestEnvironment.httpURL
        let blackhole = try test.run("REST", ["url": .string(http + "/blackhole")])
        let port = try #require(blackhole["json"]?["port"]?.intValue, "\(blackhole.message)")
        let cases = Self.cases(http: http, other: TestEnvironment.httpOtherHostURL, https: TestEnvironment.httpsURL, blackholePort: port)
        #expect(cases.count >= 30)
        #expect(Set(cases.map(\.name)).count == cases.count, "two cases have one name")

        // Both sides at once: the jobs run while requests works through the table.
        let ids = try cases.map { try test.spool.submit(Job(task: "REST", inputs: $0.inputs(for: "flowspool"))) }
        let table = JSON.array(cases.map { ["name": .string($0.name), "inputs": .object($0.inputs(for: "requests"))] })
        let reference = try StartedProgram("/usr/bin/env", ["python3", TestEnvironment.packageRoot + "/Tests/servers/requests_cases.py"], input: table.compactText)
            .finish(within: 300)
        #expect(reference.exitCode == 0, "\(reference.standardError)")
        let results = try #require(try JSON(parsing: reference.standardOutput).arrayValue)
        try #require(results.count == cases.count)

        let ledger = Differential.Ledger("REST")
        for ((testCase, id), theirs) in zip(zip(cases, ids), results) {
            let ours = Self.result(of: try test.ended(id, within: 120))
            ledger.record(testCase.name, Self.mismatches(ours, theirs))
        }
        ledger.finish()
    }

    /// A flowspool execution in the shape requests_cases.py gives a requests call: `status` and
    /// `outputs` when the server answered, `status` and `error` (its kind) when not, and `refused`
    /// (the inputs named) when the job was refused before anything was sent.
    static func result(of ended: Ended) -> JSON {
        guard ended.outputs.isEmpty && ended.status == .error else {
            return ["status": .string(ended.status.rawValue), "outputs": .object(ended.outputs)]
        }
        let message = ended.message
        if message.hasPrefix("input '") || message.hasPrefix("inputs '") {
            let named = message.split(separator: "'").enumerated().filter { $0.offset % 2 == 1 && $0.offset < 4 }.map { String($0.element) }
            return ["refused": .string(message.hasPrefix("inputs") ? named.joined(separator: " and ") : named[0])]
        }
        return ["status": "error", "error": .string(errorKind(message))]
    }

    /// What requests_cases.py calls the failure a message tells: requests' own words for too many
    /// redirects, else the kind of failure.
    static func errorKind(_ message: String) -> String {
        if let exceeded = message.firstMatch(of: /Exceeded \d+ redirects\./) { return String(exceeded.output) }
        if message.contains("(the connect_timeout input)") { return "connect timeout" }
        if message.contains("(the read_timeout input)") || message.contains("(the timeout input)") { return "read timeout" }
        if message.contains("failed TLS verification") { return "TLS verification" }
        if message.contains("could not connect") { return "connection error" }
        return message
    }

    /// The mismatches of one case. A job refused before anything was sent is one difference, not one
    /// for each output requests got: only `refused` is compared then.
    static func mismatches(_ ours: JSON, _ theirs: JSON) -> [Mismatch] {
        if ours["refused"] != nil {
            return Differential.mismatches(["refused": ours["refused"]!], ["refused": theirs["refused"] ?? .null])
        }
        // An echo's length follows from the request it echoes, which `json` holds in full.
        let echoes = ours["outputs"]?["json"]?["headers"] != nil
        return Differential.mismatches(ours, theirs) { path in
            path.hasSuffix(".headers.Date") || (echoes && path == "result.outputs.headers.Content-Length")
        }
    }
}

extension String {
    /// Two lower-case hexadecimal digits of a byte.
    init(format2hex byte: Int) {
        let digits = Array("0123456789abcdef")
        self = String([digits[byte >> 4 & 15], digits[byte & 15]])
    }
}
