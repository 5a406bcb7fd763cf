import FlowspoolTestSupport
import POSIX
import Testing

@Suite("man pages")
struct ManPageTests {
    static let pages = ["flowspoold.8", "flowspool.1", "flowspool-spool.5", "flowspool-tasks.7", "flowspool-flows.7", "respond.1"]

    @Test("every page is there and lint-clean under mandoc -T lint -W warning", arguments: pages)
    func lint(page: String) throws {
        let path = TestEnvironment.packageRoot + "/man/" + page
        #expect(FileSystem.exists(path), "man/\(page) is missing")
        let result = try runProgram("/usr/bin/mandoc", ["-T", "lint", "-W", "warning", path])
        #expect(result.exitCode == 0 && result.standardOutput.isEmpty && result.standardError.isEmpty,
                "mandoc: \(result.standardOutput)\(result.standardError)")
    }

    @Test("every page in man/ is one the test knows, so none goes unchecked")
    func allPagesChecked() throws {
        let present = try FileSystem.listDirectory(TestEnvironment.packageRoot + "/man").filter { $0.first != "." }
        #expect(Set(present) == Set(Self.pages))
    }
}
