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
