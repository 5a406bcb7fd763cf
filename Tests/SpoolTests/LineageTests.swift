import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// An execution's lineage, the flows it runs under (Execution.ancestors): published with its open
/// request in requests/ID.json, walked through inputs.json only for a request published without it.
@Suite("An execution's lineage")
struct LineageTests {
    /// executions/ID/ with the inputs.json of a job submitted under `parent`.
    func admit(_ id: String, parent: String?, in test: TestSpool) throws {
        let execution = test.spool.execution(id)
        try FileSystem.makeDirectory(execution.directory)
        try FileSystem.writeFile(execution.path(.inputs), Array(Job(task: "FLOW", parent: parent).document().prettyText.utf8))
    }

    func chain(in test: TestSpool) throws {
        try admit("top", parent: nil, in: test)
        try admit("middle", parent: "top", in: test)
        try admit("ask", parent: "middle", in: test)
    }

    @Test("publishing a request publishes its lineage, which is then read without walking the parents")
    func published() throws {
        let test = try TestSpool()
        try chain(in: test)
        try test.spool.publishRequest(InputRequest(id: "ask", request: "deploy?", reference: "r", asked: Clock.now(), deadline: nil))
        let json = try JSON(parsing: FileSystem.readFile(test.spool.publishedRequestPath("ask")))
        #expect(json["lineage"] == ["middle", "top"])
        #expect(try test.spool.pendingInputs().map(\.lineage) == [["middle", "top"]])
        // The walk would stop at the missing parent: the published lineage is what is read.
        try FileSystem.removeTree(test.spool.execution("middle").directory)
        #expect(test.spool.execution("ask").ancestors() == ["middle", "top"])
    }

    @Test("a request published without a lineage, by an older flowspoold, has it walked through inputs.json")
    func olderRequest() throws {
        let test = try TestSpool()
        try chain(in: test)
        let older = #"{"id": "ask", "request": "deploy?", "reference": "", "asked": "2026-12-01T10:00:00.000Z", "deadline": null}"#
        try FileSystem.writeFile(test.spool.publishedRequestPath("ask"), Array(older.utf8))
        #expect(test.spool.publishedRequest("ask")?.request == "deploy?")
        #expect(test.spool.publishedRequest("ask")?.lineage == nil)
        #expect(test.spool.execution("ask").ancestors() == ["middle", "top"])
        #expect(test.spool.execution("top").ancestors() == [])
    }

    @Test("a chain of parents that loops is walked once round")
    func loop() throws {
        let test = try TestSpool()
        try admit("a", parent: "b", in: test)
        try admit("b", parent: "a", in: test)
        #expect(test.spool.execution("a").ancestors() == ["b"])
    }
}
