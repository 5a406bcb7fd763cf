import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// The Python side of a flow is Sources/FlowTask/flow_stub.py, embedded in the runner when it is built.
@Suite("FLOW task's Python stub")
struct FlowStubTests {
    static let stubPath = TestEnvironment.packageRoot + "/Sources/FlowTask/flow_stub.py"

    @Test("flow_stub.py is valid Python as it stands in the repository")
    func stubCompiles() throws {
        // Parsed, not compiled: py_compile would leave a __pycache__ in Sources/.
        let check = "import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])"
        let result = try runProgram("/usr/bin/env", ["python3", "-c", check, Self.stubPath])
        #expect(result.exitCode == 0, "\(result.standardError)")
    }

    @Test("a flow's process shows the script, not the stub, and reads /dev/null on standard input")
    func processListing() throws {
        let test = try TestSpool()
        try test.startSupervisor()
        let scripts = try TemporaryDirectory()
        let script = scripts.path + "/listing.py"
        try FileSystem.writeFile(script, Array("""
            import os, sys
            def handler(c):
                with open('/proc/self/cmdline', 'rb') as f:
                    words = [w.decode() for w in f.read().split(b'\\0') if w]
                c.setOutput('words', words[1:])
                c.setOutput('stdin', os.readlink('/proc/self/fd/0'))
                c.setOutput('read', sys.stdin.read())
            """.utf8))
        let ended = try test.run("FLOW", ["script": .string(script)], timeout: 60)
        #expect(ended.status == .success, "\(ended.message)")
        #expect(ended["words"] == .array([.string("-"), .string(script)]))
        #expect(ended["stdin"] == .string("/dev/null"))
        #expect(ended["read"] == .string(""))
    }
}
