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

/// The inputs of python requests that the REST task takes, end to end against the
/// loopback server; RESTDifferentialTests compares them with requests itself.
@Suite("REST task: the inputs of requests")
struct RESTRequestsInputsTests {
    let test: TestSpool
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
        try test.startSupervisor()
    }

    /// A key of this run's own for the server's /flaky counters.
    func key(_ name: String) -> String { name + "-" + Spool.randomToken() }

    /// When each request for /flaky/KEY reached the server, in seconds of its monotonic clock.
    func arrivals(_ key: String) throws -> [Double] {
        let result = try runProgram("/usr/bin/curl", ["-sS", http + "/flaky-times/" + key])
        return try #require(try JSON(parsing: result.standardOutput).arrayValue).compactMap(\.doubleValue)
    }

    /// The waits between the requests that reached the server.
    func gaps(_ key: String) throws -> [Double] {
        let times = try arrivals(key)
        return zip(times.dropFirst(), times).map { $0 - $1 }
    }

    func log(_ ended: Ended) throws -> String {
        try FileSystem.readText(test.execution(ended.id).path(.log)) ?? ""
    }

    @Test("params are added to the query as requests adds them: urlencoded, lists repeated, null left out, after the URL's own query")
    func params() throws {
        let ended = try test.run("REST", ["url": .string(http + "/echo?a=1#top"), "params": [
            "q": "gr\u{FC}n blau&x=y", "n": 2, "f": 1.0, "t": true, "l": ["a", 3], "skip": nil,
        ]])
        #expect(ended.status == .success, "\(ended.message)")
        #expect(ended["json"]?["target"] == "/echo?a=1&q=gr%C3%BCn+blau%26x%3Dy&n=2&f=1.0&t=True&l=a&l=3")
    }

    @Test("protected params go out, and stay out of the log and the message")
    func protectedParams() throws {
        let ended = try test.run("REST", [
            "url": .string(http + "/status/500?page=2"), "params": ["token": "s3cret"], "protect_inputs": ["params"],
        ])
        #expect(ended["status_code"] == 500, "\(ended.message)")
        #expect(ended.message.contains("/status/500?page=2&**** "), "\(ended.message)")
        #expect(!ended.message.contains("s3cret"))
        #expect(try !log(ended).contains("s3cret"))
        let sent = try test.run("REST", ["url": .string(http + "/echo"), "params": ["token": "s3cret"], "protect_inputs": ["params"]])
        #expect(sent["json"]?["query"] == ["token": "s3cret"])
    }

    @Test("a protected url is shown as scheme://host:port/**** in the log and the message, answered or not")
    func protectedURL() throws {
        let answered = try test.run("REST", ["url": .string(http + "/status/404?api_key=SECRET"), "protect_inputs": ["url"]])
        #expect(answered["status_code"] == 404, "\(answered.message)")
        #expect(answered.message.contains("from GET \(http)/**** "), "\(answered.message)")
        #expect(try log(answered).contains("GET \(http)/**** -> 404"))
        let port = TestEnvironment.closedPort()
        let refused = try test.run("REST", ["url": .string("http://127.0.0.1:\(port)/?api_key=SECRET"), "protect_inputs": ["url"],
                                            "retry_backoff": ["initial": 0.1, "deadline": 0.5]])
        #expect(refused.message.contains("GET http://127.0.0.1:\(port)/**** could not connect"), "\(refused.message)")
        #expect(try log(refused).contains("trying again in 100ms"))
        for ended in [answered, refused] {
            #expect(!ended.message.contains("SECRET"), "\(ended.message)")
            #expect(try !log(ended).contains("SECRET"))
        }
    }

    @Test("json goes out as requests' json= writes it, with a JSON content type")
    func json() throws {
        let ended = try test.run("REST", ["url": .string(http + "/echo"), "method": "post", "json": ["a": [1, 2.5, 1e16], "b": "\u{FC}\u{1F600}", "c": nil]])
        #expect(ended["json"]?["body"] == #"{"a": [1, 2.5, 1e+16], "b": "\u00fc\ud83d\ude00", "c": null}"#)
        #expect(ended["json"]?["headers"]?["Content-Type"] == "application/json")
    }

    @Test("data as a dictionary goes out as a form when the headers say so, the header's name in any case")
    func form() throws {
        let ended = try test.run("REST", ["url": .string(http + "/echo"), "method": "post",
            "headers": ["content-type": "application/x-www-form-urlencoded"], "data": ["name": "J\u{FC}rgen M", "tag": ["a", "b&c"]]])
        #expect(ended.status == .success, "\(ended.message)")
        #expect(ended["json"]?["body"] == "name=J%C3%BCrgen+M&tag=a&tag=b%26c")
        #expect(ended["json"]?["form"] == [["name", "J\u{FC}rgen M"], ["tag", "a"], ["tag", "b&c"]])
    }

    @Test("multipart goes out as parts with their names, file names, types and bytes")
    func multipart() throws {
        let bytes = (0...255).map { UInt8($0) }
        let ended = try test.run("REST", ["url": .string(http + "/echo"), "method": "post", "multipart": [
            "note": "Gr\u{FC}\u{DF}e",
            "upload": ["filename": "a \"b\".bin", "content_type": "application/octet-stream", "base64": .string(Base64.encode(bytes))],
        ]])
        #expect(ended.status == .success, "\(ended.message)")
        #expect(ended["json"]?["headers"]?["Content-Type"] == "multipart/form-data; boundary=BOUNDARY")
        #expect(ended["json"]?["parts"] == [
            ["name": "note", "filename": nil, "content_type": nil, "base64": .string(Base64.encode(Array("Gr\u{FC}\u{DF}e".utf8)))],
            ["name": "upload", "filename": "a %22b%22.bin", "content_type": "application/octet-stream", "base64": .string(Base64.encode(bytes))],
        ])
    }

    @Test("along a 302 a POST becomes a GET without its body and Content-Type, a PUT too; along a 307 it keeps both")
    func redirectMethods() throws {
        let post = try test.run("REST", ["url": .string(http + "/redirect?to=/echo"), "method": "post", "json": ["a": 1]])
        #expect(post["json"]?["method"] == "GET")
        #expect(post["json"]?["body"] == "")
        #expect(post["json"]?["headers"]?["Content-Type"] == nil, "the Content-Type went along")
        let put = try test.run("REST", ["url": .string(http + "/redirect?to=/echo"), "method": "put", "data": "x"])
        #expect(put["json"]?["method"] == "GET")
        let kept = try test.run("REST", ["url": .string(http + "/redirect?to=/echo&status=307"), "method": "post", "json": ["a": 1]])
        #expect(kept["json"]?["method"] == "POST")
        #expect(kept["json"]?["body"] == #"{"a": 1}"#)
        #expect(kept["json"]?["headers"]?["Content-Type"] == "application/json")
    }

    @Test("an Authorization header, or the URL's user and password, go along a redirect on the same host and not to another host")
    func authorizationAlongRedirects() throws {
        let other = TestEnvironment.httpOtherHostURL
        let header: JSON = ["Authorization": "Bearer s3cret"]
        let same = try test.run("REST", ["url": .string(http + "/redirect?to=/echo"), "headers": header])
        #expect(same["json"]?["headers"]?["Authorization"] == "Bearer s3cret")
        let away = try test.run("REST", ["url": .string(http + "/redirect?to=\(other)/echo"), "headers": header])
        #expect(away["json"]?["headers"]?["Host"] == .string(String(other.dropFirst("http://".count))), "the redirect reached the other host")
        #expect(away["json"]?["headers"]?["Authorization"] == nil, "the Authorization header went to another host")
        let withUser = http.replacing("://", with: "://alice:s3cret@")
        let basic = JSON.string("Basic " + Base64.encode(Array("alice:s3cret".utf8)))
        #expect(try test.run("REST", ["url": .string(withUser + "/redirect?to=/echo")])["json"]?["headers"]?["Authorization"] == basic)
        let userAway = try test.run("REST", ["url": .string(withUser + "/redirect?to=\(other)/echo")])
        #expect(userAway["json"]?["headers"]?["Authorization"] == nil, "the URL's password went to another host")
    }

    @Test("a Cookie header of the job's is not sent along a redirect, as requests drops it; the cookies input is")
    func cookieHeaderAlongRedirects() throws {
        let ended = try test.run("REST", ["url": .string(http + "/redirect?to=/echo"), "headers": ["Cookie": "raw=1"], "cookies": ["kept": "2"]])
        #expect(ended["json"]?["cookies"] == ["kept": "2"], "\(ended["json"]?["headers"] ?? .null)")
    }

    @Test("allow_redirects false hands the redirect over: an error unless its code is expected")
    func redirectsNotFollowed() throws {
        let unexpected = try test.run("REST", ["url": .string(http + "/redirect?to=/echo"), "allow_redirects": false])
        #expect(unexpected.status == .error)
        #expect(unexpected.message.contains("unexpected status code 302"), "\(unexpected.message)")
        let expected = try test.run("REST", ["url": .string(http + "/redirect?to=/echo"), "allow_redirects": false, "expected_status_code": [302]])
        #expect(expected.status == .success, "\(expected.message)")
        #expect(expected["headers"]?["Location"] == "/echo")
    }

    @Test("30 redirects are followed; the 31st, or one beyond max_redirects, ends error in requests' words")
    func tooManyRedirects() throws {
        #expect(try test.run("REST", ["url": .string(http + "/redirects/30")])["json"]?["path"] == "/redirects/0")
        let tooMany = try test.run("REST", ["url": .string(http + "/redirects/31")])
        #expect(tooMany.status == .error)
        #expect(tooMany.message.contains("Exceeded 30 redirects."), "\(tooMany.message)")
        let limited = try test.run("REST", ["url": .string(http + "/redirects/3"), "max_redirects": 2])
        #expect(limited.message.contains("Exceeded 2 redirects. (the max_redirects input)"), "\(limited.message)")
    }

    @Test("connect_timeout ends a connection that is never answered, naming the input")
    func connectTimeout() throws {
        let port = try #require(try test.run("REST", ["url": .string(http + "/blackhole")])["json"]?["port"]?.intValue)
        let started = Clock.monotonic()
        let ended = try test.run("REST", ["url": .string("http://127.0.0.1:\(port)/"), "connect_timeout": 0.5])
        #expect(ended.status == .error)
        #expect(ended.message.contains("could not connect: timed out after 500ms (the connect_timeout input)"), "\(ended.message)")
        #expect(Clock.monotonic() - started >= 0.5)
    }

    @Test("read_timeout ends an answer that does not come, naming the input, long before timeout")
    func readTimeout() throws {
        let ended = try test.run("REST", ["url": .string(http + "/slow?seconds=10"), "read_timeout": 1, "timeout": 30])
        #expect(ended.status == .error)
        #expect(ended.message.contains("read timed out: no data for 1.0s (the read_timeout input)"), "\(ended.message)")
    }

    @Test("retry_backoff tries again after 503s, waiting initial, then multiplier times longer")
    func retriesWithBackoff() throws {
        let key = key("backoff")
        let ended = try test.run("REST", ["url": .string(http + "/flaky/\(key)?fail=2"), "retry_backoff": ["initial": 0.3, "multiplier": 2]])
        #expect(ended.status == .success, "\(ended.message)")
        #expect(ended["json"] == ["tries": 3])
        let waits = try gaps(key)
        #expect(waits.count == 2)
        #expect(waits.first.map { $0 >= 0.3 && $0 < 10 } == true, "\(waits)")
        #expect(waits.last.map { $0 >= 0.6 && $0 < 10 } == true, "\(waits)")
        #expect(try log(ended).contains("status 503; trying again in 300ms (retry_backoff, retry 1)"))
    }

    @Test("retry_backoff waits as long as Retry-After says, in seconds or as an HTTP date")
    func retryAfter() throws {
        let seconds = key("after")
        let bySeconds = try test.run("REST", ["url": .string(http + "/flaky/\(seconds)?fail=1&status=429&retry_after=1"), "retry_backoff": ["initial": 0.05]])
        #expect(bySeconds["json"] == ["tries": 2], "\(bySeconds.message)")
        #expect(try gaps(seconds).first.map { $0 >= 1 && $0 < 15 } == true)
        let date = key("date")
        let byDate = try test.run("REST", ["url": .string(http + "/flaky/\(date)?fail=1&retry_after_date=2"), "retry_backoff": ["initial": 0.05]])
        #expect(byDate["json"] == ["tries": 2], "\(byDate.message)")
        // The date is written in whole seconds: two seconds ahead is at least one away.
        #expect(try gaps(date).first.map { $0 >= 0.9 && $0 < 15 } == true)
    }

    @Test("retry_backoff stops at its deadline and hands over the last answer")
    func retryDeadline() throws {
        let key = key("deadline")
        let ended = try test.run("REST", ["url": .string(http + "/flaky/\(key)?fail=1000"), "retry_backoff": ["initial": 0.2, "deadline": 1]])
        #expect(ended.status == .error)
        #expect(ended["status_code"] == 503)
        #expect(ended.message.contains("unexpected status code 503"))
        // Tries at 0, 0.2 and 0.6 s; the next would start at 1.4 s, past the deadline.
        let tries = try arrivals(key)
        #expect((2...3).contains(tries.count), "\(tries)")
    }

    @Test("retry_backoff tries again after a dropped connection and a refused one, at least 0.1 s later, and not after an expected 5xx")
    func retriesOfConnections() throws {
        let dropped = key("drop")
        let ended = try test.run("REST", ["url": .string(http + "/flaky/\(dropped)?fail=2&drop=1"), "retry_backoff": ["initial": 0.05]])
        #expect(ended["json"] == ["tries": 3], "\(ended.message)")
        let refused = try test.run("REST", ["url": .string("http://127.0.0.1:\(TestEnvironment.closedPort())/"), "retry_backoff": ["initial": 0.05, "deadline": 0.5]])
        #expect(refused.message.contains("could not connect"), "\(refused.message)")
        // An initial below 0.1 s waits 0.1 s: no retry follows the last try sooner.
        #expect(try log(refused).contains("trying again in 100ms (retry_backoff, retry 1)"))
        let expected = key("expected")
        let answer = try test.run("REST", ["url": .string(http + "/flaky/\(expected)?fail=1"), "retry_backoff": ["initial": 0.05], "expected_status_code": [503]])
        #expect(answer.status == .success)
        #expect(try arrivals(expected).count == 1)
    }

    @Test("without retry_backoff a 503 is not tried again")
    func noRetryByDefault() throws {
        let key = key("once")
        let ended = try test.run("REST", ["url": .string(http + "/flaky/\(key)?fail=1")])
        #expect(ended["status_code"] == 503)
        #expect(try arrivals(key).count == 1)
    }

    @Test("text is decoded in the declared charset, and JSON parsed from that text, as requests does")
    func charsets() throws {
        let windows = try test.run("REST", ["url": .string(http + "/bytes?type=text/plain;%20charset=windows-1252&hex=80e9939f")])
        #expect(windows["text"] == "\u{20AC}\u{E9}\u{201C}\u{178}")
        let utf16 = try test.run("REST", ["url": .string(http + "/bytes?type=text/plain;%20charset=utf-16&hex=fffe6300e900")])
        #expect(utf16["text"] == "c\u{E9}")
        let latinJSON = try test.run("REST", ["url": .string(http + "/bytes?type=text/plain&hex=7b2261223a2263c3a9227d")])
        #expect(latinJSON["json"] == ["a": "c\u{C3}\u{A9}"])
    }

    @Test("request headers as requests sends them: Content-Length 0 for a DELETE, its Accept-Encoding, no Expect for a large body")
    func requestHeaders() throws {
        let delete = try test.run("REST", ["url": .string(http + "/echo"), "method": "delete"])
        #expect(delete["json"]?["headers"]?["Content-Length"] == "0")
        #expect(delete["json"]?["headers"]?["Accept-Encoding"] == "gzip, deflate")
        let large = try test.run("REST", ["url": .string(http + "/echo"), "method": "post", "data": .string(String(repeating: "x", count: 2 << 20))])
        #expect(large.status == .success, "\(large.message)")
        #expect(large["json"]?["headers"]?["Expect"] == nil)
    }

    static let badInputCases: [(JSONObject, String)] = [
        (["params": "a=1"], "input 'params' must be a dictionary, not a string"),
        (["params": ["a": ["b": 1]]], "input 'params' ('a'): a value must be a string, number, boolean or null, or a list of them, not a dictionary"),
        (["data": "x", "json": ["a": 1]], "inputs 'data' and 'json' both give the request's body; give one of them"),
        (["data": [1, 2], "headers": ["Content-Type": "application/x-www-form-urlencoded"]], "input 'data' must be a dictionary to be sent as a form"),
        (["multipart": "a"], "input 'multipart' must be a dictionary of field names to values or a list of parts"),
        (["multipart": ["f": ["base64": "not base64!"]]], "input 'multipart' ('f'): 'base64' must be a string in base64"),
        (["multipart": ["f": ["value": "a", "filname": "x"]]], "input 'multipart' ('f'): unknown key 'filname'"),
        (["multipart": [["value": "a"]]], "input 'multipart': each part of the list must be a dictionary with a string 'name'"),
        (["multipart": ["f": ["value": "a", "content_type": "text/plain\r\nX-Injected: yes"]]], "input 'multipart' ('f') holds a CR, LF or NUL character"),
        (["max_redirects": -1], "input 'max_redirects' must be 0 or more"),
        (["allow_redirects": "no"], "input 'allow_redirects' must be a boolean"),
        (["connect_timeout": 0], "input 'connect_timeout' must be a positive number of seconds"),
        (["read_timeout": -2], "input 'read_timeout' must be a positive number of seconds"),
        (["retry_backoff": ["initial": 1, "maximun": 5]], "input 'retry_backoff' has an unknown key 'maximun'"),
        (["retry_backoff": ["multiplier": 0.5]], "input 'retry_backoff': 'multiplier' must be a number from 1 to 1000"),
        // A first wait of 0 is refused: tries would follow each other with no wait.
        (["retry_backoff": ["initial": 0]], "input 'retry_backoff': 'initial' must be a positive number of seconds up to 2000000, not 0"),
        (["retry_backoff": ["initial": -1]], "input 'retry_backoff': 'initial' must be a positive number of seconds"),
        (["retry_backof": ["initial": 1]], "unknown input 'retry_backof' for the REST task (its inputs: allow_redirects, cacert, connect_timeout, cookies, data, expected_status_code, headers, json, max_redirects, method, multipart, params, pass_user_token, read_timeout, retry_backoff, timeout, url)"),
    ]

    @Test("a new input of the wrong shape ends error naming it, before anything is sent", arguments: badInputCases)
    func badInputs(inputs: JSONObject, message: String) throws {
        var all = inputs
        all["url"] = .string("http://127.0.0.1:\(TestEnvironment.closedPort())/")
        let ended = try test.run("REST", all)
        #expect(ended.status == .error)
        #expect(ended.message.contains(message), "\(ended.message)")
        #expect(!ended.message.contains("could not connect"), "a connection was tried: \(ended.message)")
    }
}
