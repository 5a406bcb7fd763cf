import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

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
