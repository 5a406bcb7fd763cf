#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import POSIX
import Spool
import Testing

/// The README, as a new user follows it: its commands run verbatim, in order.
@Suite("the README")
struct ReadmeTests {
    /// A fenced block of README.md: its language and its lines.
    struct Block {
        let language: String
        let lines: [String]
    }

    static func blocks() throws -> [Block] {
        let text = try #require(try FileSystem.readText(TestEnvironment.packageRoot + "/README.md"))
        var blocks: [Block] = []
        var current: (language: String, lines: [String])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let open = current {
                    blocks.append(Block(language: open.language, lines: open.lines))
                    current = nil
                } else {
                    current = (String(line.dropFirst(3)), [])
                }
            } else {
                current?.lines.append(String(line))
            }
        }
        return blocks
    }

    /// The commands that stand for a terminal of their own (the supervisor, the example server) are
    /// started by the test in the background; `./bin/test` is what runs this test.
    static func isTerminalOfItsOwn(_ line: String) -> Bool {
        ["./bin/flowspoold", "./bin/example-server", "./bin/test"].contains { line == $0 || line.hasPrefix($0 + " ") }
    }

    @Test("every sh block of the README runs as written against ./bin/flowspoold and ./bin/example-server, in a checkout of its own")
    func everyCommandRuns() throws {
        let checkout = try TemporaryDirectory()
        for part in ["bin", "man", "Sources", "Tests"] {
            _ = try runProgram("/bin/ln", ["-s", TestEnvironment.packageRoot + "/" + part, checkout.path + "/" + part])
        }
        try FileSystem.ensureDirectory(checkout.path + "/home", mode: 0o700)
        // What a user's shell has, with the tests' build standing in for the release build.
        let environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": checkout.path + "/home", "FLOWSPOOL_BIN": TestEnvironment.binDirectory,
            "FLOWSPOOL_SPOOL": "", "FLOWSPOOL_RUNNER_PATH": "",
        ]
        func start(_ program: String) throws -> StartedProgram {
            try StartedProgram("/usr/bin/env", ["-C", checkout.path, checkout.path + "/bin/" + program], environment: environment)
        }
        let supervisor = try start("flowspoold")
        let server = try start("example-server")
        defer {
            for program in [supervisor, server] {
                kill(program.pid, SIGTERM)
                _ = try? program.finish(within: 10)
            }
        }
        try waitUntil("./bin/flowspoold supervises ./spool", timeout: 30) { Spool(root: checkout.path + "/spool").hasSupervisor }
        try server.awaitStandardError(containing: "serving http://127.0.0.1:8080/")

        let blocks = try Self.blocks()
        #expect(blocks.filter { $0.language == "sh" }.count >= 6, "the README's examples are its sh blocks")
        for block in blocks {
            if block.language == "python", let first = block.lines.first, first.hasPrefix("# ") {
                try FileSystem.writeFile(checkout.path + "/" + first.dropFirst(2), Array(block.lines.joined(separator: "\n").utf8))
                continue
            }
            guard block.language == "sh" else { continue }
            let script = block.lines.filter { !Self.isTerminalOfItsOwn($0) }.joined(separator: "\n")
            let result = try runProgram(
                "/usr/bin/env", ["-C", checkout.path, "/bin/bash", "-euo", "pipefail", "-c", script], environment: environment, timeout: 120)
            #expect(result.exitCode == 0, "README block failed:\n\(script)\n--- stdout:\n\(result.standardOutput)\n--- stderr:\n\(result.standardError)")
        }
        #expect(supervisor.standardError.contains("supervising \(checkout.path)/spool"))
    }
}
