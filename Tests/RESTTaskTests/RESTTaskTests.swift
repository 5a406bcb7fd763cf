import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// The REST task end to end: jobs go through flowspoold to the REST runner and the loopback
/// HTTP(S) server that bin/test starts.
@Suite("REST task")
struct RESTTaskTests {
    let test: TestSpool
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
        try test.startSupervisor()
    }

    @Test("a job dropped into incoming/ by rename ends success with the response's outputs")
    func droppedJob() throws {
        try test.drop("first-job.json", ["task": "REST", "inputs": ["url": .string(http + "/echo")]])
        let ended = try test.ended("first-job")
        #expect(ended.status == .success)
        #expect(ended["status_code"] == 200)
        #expect(ended["json"]?["method"] == "GET")
        #expect(ended["headers"]?["Content-Type"] == "application/json")
        #expect(ended["encoding"] == "utf-8")
        #expect(ended["cookies"] == .object([:]))
        #expect(ended["text"] == nil)
    }

    @Test("the spec's example shape: method='post', data='payload' sends the string as the body")
    func seedExample() throws {
        let ended = try test.run("REST", ["url": .string(http + "/echo"), "method": "post", "data": "payload"])
        #expect(ended.status == .success)
        #expect(ended["json"]?["method"] == "POST")
        #expect(ended["json"]?["body"] == "payload")
    }

    @Test("a dictionary in data is sent as JSON with a JSON content type, written as requests' json= writes it")
    func dictionaryData() throws {
        let ended = try test.run("REST", ["url": .string(http + "/echo"), "method": "put", "data": ["a": 1, "b": ["c"]]])
        #expect(ended["json"]?["method"] == "PUT")
        #expect(ended["json"]?["body"] == #"{"a": 1, "b": ["c"]}"#)
        #expect(ended["json"]?["headers"]?["Content-Type"] == "application/json")
    }

    @Test("any HTTP method goes out as written", arguments: ["patch", "DELETE", "options", "PURGE"])
    func methods(method: String) throws {
        let ended = try test.run("REST", ["url": .string(http + "/echo"), "method": .string(method)])
        #expect(ended["json"]?["method"] == .string(method.uppercased()))
    }

    @Test("HEAD gets headers and no body")
    func head() throws {
        let ended = try test.run("REST", ["url": .string(http + "/text"), "method": "head"])
        #expect(ended.status == .success)
        #expect(ended["headers"]?["Content-Length"] == "16")
        #expect(ended["text"] == "")
    }

    @Test("a body that is not JSON comes back in text, decoded in its charset")
    func textOutput() throws {
        let text = try test.run("REST", ["url": .string(http + "/text")])
        #expect(text["text"] == "hello, flowspool")
        #expect(text["json"] == nil)
        #expect(text["encoding"] == "utf-8")
        let latin = try test.run("REST", ["url": .string(http + "/latin1")])
        #expect(latin["text"] == "café")
        #expect(latin["encoding"] == "ISO-8859-1")
    }

    @Test("a JSON body that is a list comes back in json")
    func listOutput() throws {
        #expect(try test.run("REST", ["url": .string(http + "/list")])["json"] == [1, 2, 3])
    }

    @Test("headers and cookies go out; cookies the server sets come back")
    func headersAndCookies() throws {
        let sent = try test.run("REST", [
            "url": .string(http + "/echo"), "headers": ["X-Flow": "yes", "X-Count": 3], "cookies": ["session": "abc", "theme": "dark"],
        ])
        #expect(sent["json"]?["headers"]?["X-Flow"] == "yes")
        #expect(sent["json"]?["headers"]?["X-Count"] == "3")
        #expect(sent["json"]?["cookies"] == ["session": "abc", "theme": "dark"])
        let set = try test.run("REST", ["url": .string(http + "/set-cookie?flavour=oat")])
        #expect(set["cookies"] == ["flavour": "oat"])
    }

    @Test("cookies follow a redirect on the same host and are not sent to another host a redirect leads to")
    func cookiesStayOnTheirHost() throws {
        let cookies: JSON = ["session": "s3cret", "theme": "dark"]
        let sameHost = try test.run("REST", ["url": .string(http + "/redirect?to=/echo"), "cookies": cookies])
        #expect(sameHost.status == .success, "\(sameHost.message)")
        #expect(sameHost["json"]?["path"] == "/echo")
        #expect(sameHost["json"]?["cookies"] == cookies)
        let other = TestEnvironment.httpOtherHostURL
        let otherHost = try test.run("REST", ["url": .string(http + "/redirect?to=\(other)/echo"), "cookies": cookies])
        #expect(otherHost.status == .success, "\(otherHost.message)")
        #expect(otherHost["json"]?["headers"]?["Host"] == .string(String(other.dropFirst("http://".count))), "the redirect reached the other host")
        #expect(otherHost["json"]?["headers"]?["Cookie"] == nil, "cookies went to another host")
        #expect(otherHost["json"]?["cookies"] == .object([:]))
    }

    /// Cookies that would not go out as given, and the message each is refused with. The values
    /// are secrets: no message may show them.
    static let refusedCookieCases: [(JSONObject, String)] = [
        (["session": "s3cret; admin=1"], "input 'cookies' ('session'): the value holds ';', ',' or a control character such as CR, LF or NUL, which would add cookies or header lines; refused, nothing was sent"),
        (["session": "s3cret, admin=1"], "input 'cookies' ('session'): the value holds ';', ',' or a control character"),
        (["session": "s3cret\u{0}admin"], "input 'cookies' ('session'): the value holds ';', ',' or a control character"),
        (["session": "s3cret\tadmin"], "input 'cookies' ('session'): the value holds ';', ',' or a control character"),
        (["admin=1; session": "s3cret"], "input 'cookies' has a cookie name that cannot be sent: 'admin=1; session' (a name may not be empty or hold '=', ';', ',', spaces or control characters such as CR, LF or NUL); nothing was sent"),
        (["my session": "s3cret"], "input 'cookies' has a cookie name that cannot be sent: 'my session'"),
        (["": "s3cret"], "input 'cookies' has a cookie name that cannot be sent: ''"),
        (["__Host-session": "s3cret"], "input 'cookies' ('__Host-session'): a cookie named __Secure-... or __Host-... is sent over https only, and the url is http"),
    ]

    @Test("a cookie with ';', ',', a control character, or a name with '=' or a space is refused naming it, never showing the value", arguments: refusedCookieCases)
    func refusedCookies(cookies: JSONObject, message: String) throws {
        let ended = try test.run("REST", ["url": .string(http + "/echo"), "cookies": .object(cookies)])
        #expect(ended.status == .error)
        #expect(ended.message.contains(message), "\(ended.message)")
        #expect(!ended.message.contains("s3cret"), "the value is shown: \(ended.message)")
        #expect(ended["status_code"] == nil, "a request was sent")
    }

    @Test("a __Host- cookie goes out over https")
    func hostPrefixedCookieOverHTTPS() throws {
        let ended = try test.run("REST", [
            "url": .string(TestEnvironment.httpsURL + "/echo"), "cacert": .string(TestEnvironment.caCertificate),
            "cookies": ["__Host-session": "abc", "plain": "1"],
        ])
        #expect(ended.status == .success, "\(ended.message)")
        #expect(ended["json"]?["cookies"] == ["__Host-session": "abc", "plain": "1"])
    }

    @Test("redirects are followed")
    func redirect() throws {
        let ended = try test.run("REST", ["url": .string(http + "/redirect")])
        #expect(ended.status == .success)
        #expect(ended["json"]?["path"] == "/echo")
    }

    @Test("a status code outside expected_status_code ends error with the code and body, outputs still written")
    func unexpectedStatus() throws {
        let ended = try test.run("REST", ["url": .string(http + "/status/500")])
        #expect(ended.status == .error)
        #expect(ended.message.contains("unexpected status code 500"))
        #expect(ended.message.contains("status 500"))
        #expect(ended["status_code"] == 500)
        #expect(ended["text"] == "status 500")
    }

    @Test("expected_status_code decides what counts as success")
    func expectedStatus() throws {
        let notFound = try test.run("REST", ["url": .string(http + "/status/404"), "expected_status_code": [404]])
        #expect(notFound.status == .success)
        let ok = try test.run("REST", ["url": .string(http + "/echo"), "expected_status_code": [201]])
        #expect(ok.status == .error)
        #expect(ok.message.contains("expected 201"))
    }

    @Test("a refused connection ends error saying so")
    func refused() throws {
        let ended = try test.run("REST", ["url": .string("http://127.0.0.1:\(TestEnvironment.closedPort())/")])
        #expect(ended.status == .error)
        #expect(ended.message.contains("could not connect"))
    }

    @Test("the timeout input ends a slow request in error")
    func timeout() throws {
        let ended = try test.run("REST", ["url": .string(http + "/slow?seconds=5"), "timeout": 0.5])
        #expect(ended.status == .error)
        #expect(ended.message.contains("timed out after 500ms (the timeout input)"))
    }

    @Test("HTTPS with cacert naming the CA's file, or holding its PEM, is verified and succeeds")
    func trustedCA() throws {
        let url = JSON.string(TestEnvironment.httpsURL + "/echo")
        let byPath = try test.run("REST", ["url": url, "cacert": .string(TestEnvironment.caCertificate)])
        #expect(byPath.status == .success, "\(byPath.message)")
        let pem = try FileSystem.readText(TestEnvironment.caCertificate) ?? ""
        let byContent = try test.run("REST", ["url": url, "cacert": .string(pem)])
        #expect(byContent.status == .success, "\(byContent.message)")
        #expect(byContent["json"]?["method"] == "GET")
    }

    @Test("HTTPS without the CA, or with another CA, ends in a clear TLS error")
    func untrustedCA() throws {
        let url = JSON.string(TestEnvironment.httpsURL + "/echo")
        let missing = try test.run("REST", ["url": url])
        #expect(missing.status == .error)
        #expect(missing.message.contains("failed TLS verification"))
        #expect(missing.message.contains("cacert"))
        let wrong = try test.run("REST", ["url": url, "cacert": .string(TestEnvironment.wrongCACertificate)])
        #expect(wrong.status == .error)
        #expect(wrong.message.contains("failed TLS verification"))
    }

    static let badInputCases: [(JSONObject, String)] = [
        (["url": 5], "input 'url' must be a string, not an integer"),
        (["url": "http://127.0.0.1/", "headers": "X: y"], "input 'headers' must be a dictionary, not a string"),
        (["url": "http://127.0.0.1/", "expected_status_code": "200"], "input 'expected_status_code' must be a list"),
        (["url": "http://127.0.0.1/", "pass_user_token": "yes"], "input 'pass_user_token' must be a boolean"),
        (["url": "http://127.0.0.1/", "timeout": -1], "input 'timeout' must be a positive number"),
        (["url": "http://127.0.0.1/", "method": "GE T"], "input 'method' is not an HTTP method"),
        (["url": "ftp://127.0.0.1/"], "input 'url' must start with http:// or https://"),
        (["method": "get"], "input 'url' is required"),
        (["url": "http://127.0.0.1/", "bogus": 1], "unknown input 'bogus' for the REST task"),
    ]

    /// Values that would end a header line and start another: refused before any connection is
    /// made (the port is closed, so a request would have ended "connection refused" instead).
    static let injectionCases: [(JSONObject, String)] = [
        (["headers": ["X-Note": "1\r\nX-Injected: yes"]], "input 'headers' ('X-Note') holds a CR, LF or NUL character"),
        (["headers": ["X-Note": "1\nX-Injected: yes"]], "input 'headers' ('X-Note') holds a CR, LF or NUL character"),
        (["headers": ["X-Injected: yes\r\nX-Note": "1"]], "input 'headers' has a header name that is not an HTTP token: 'X-Injected: yes\\r\\nX-Note'"),
        (["cookies": ["session": "a\r\nX-Injected: yes"]], "input 'cookies' ('session'): the value holds ';', ',' or a control character"),
        (["cookies": ["sess\u{0}ion": "a"]], "input 'cookies' has a cookie name that cannot be sent: 'sess\\x00ion'"),
        (["method": "GET /evil HTTP/1.1\r\nX-Injected: yes\r\n"], "input 'method' is not an HTTP method"),
    ]

    @Test("CR, LF or NUL in a header, a cookie or the method is refused, naming the input, before anything is sent", arguments: injectionCases)
    func headerInjection(inputs: JSONObject, message: String) throws {
        var all = inputs
        all["url"] = .string("http://127.0.0.1:\(TestEnvironment.closedPort())/")
        let ended = try test.run("REST", all)
        #expect(ended.status == .error)
        #expect(ended.message.contains(message), "\(ended.message)")
        #expect(!ended.message.contains("could not connect"), "a connection was tried: \(ended.message)")
    }

    @Test("a URL goes out percent-encoded as python-requests sends it: spaces, non-ASCII, escapes kept, malformed ones encoded", arguments: [
        "/echo?q=\u{FC}&r=a b", "/echo/a b/\u{FC}", "/echo?s=%41%7e%2F&t=a+b&u=100%", "/echo?v=%zz&w=%41", "/echo?x=<y>|{z}\"^`",
    ])
    func urlEncodedAsRequests(path: String) throws {
        let ended = try test.run("REST", ["url": .string(http + path)])
        #expect(ended.status == .success, "\(ended.message)")
        let reference = try runProgram("/usr/bin/env", [
            "python3", "-c", "import json, sys, requests; print(json.dumps(requests.get(sys.argv[1]).json()))", http + path,
        ])
        #expect(reference.exitCode == 0, "\(reference.standardError)")
        let sent = try JSON(parsing: Array(reference.standardOutput.utf8))
        #expect(ended["json"]?["target"] == sent["target"], "requests sent \(sent["target"] ?? .null)")
    }

    @Test("a URL holding a line break is refused before anything is sent")
    func urlInjection() throws {
        let ended = try test.run("REST", ["url": .string("http://127.0.0.1:\(TestEnvironment.closedPort())/a\r\nX-Injected: yes")])
        #expect(ended.status == .error)
        #expect(ended.message.contains("input 'url' holds a CR, LF or NUL character"), "\(ended.message)")
    }

    @Test("inputs of the wrong type end error naming the input", arguments: badInputCases)
    func badInputs(inputs: JSONObject, message: String) throws {
        let ended = try test.run("REST", inputs)
        #expect(ended.status == .error)
        #expect(ended.message.contains(message), "\(ended.message)")
    }

    @Test("user and password in the URL stay out of the log and the message")
    func credentialsInURL() throws {
        let port = TestEnvironment.closedPort()
        let ended = try test.run("REST", ["url": .string("http://alice:s3cret@127.0.0.1:\(port)/")])
        let log = try FileSystem.readText(test.execution(ended.id).path(.log)) ?? ""
        #expect(ended.status == .error)
        #expect(!ended.message.contains("s3cret"))
        #expect(!log.contains("s3cret"))
        #expect(ended.message.contains("****@127.0.0.1"))
    }
}
