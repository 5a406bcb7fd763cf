import FlowspoolTestSupport
import POSIX
import Spool
import Testing

/// What Spool.layoutProblems says of a spool's layout, typed: a warning for what flowspoold sets
/// right when it starts, a failure for what it refuses (flowspool doctor reports them so).
@Suite("Layout problems")
struct LayoutProblemTests {
    let owner = SpoolRoles(responders: nil)

    @Test("a fresh layout has none")
    func none() throws {
        let test = try TestSpool()
        #expect(test.spool.layoutProblems(owner, owner: User.effective).isEmpty)
    }

    @Test("a mode flowspoold sets at its start is a warning about that part")
    func warning() throws {
        let test = try TestSpool()
        try FileSystem.changeMode(test.spool.requests, 0o750)
        let problems = test.spool.layoutProblems(owner, owner: User.effective)
        #expect(problems.map(\.severity) == [.warning])
        #expect(problems.map(\.path) == [test.spool.requests])
        #expect(problems.first?.description.contains("has the mode 750, not 700") == true)
    }

    @Test("a part missing or of another kind is a failure, beside the warnings")
    func failure() throws {
        let test = try TestSpool()
        try FileSystem.unlink(test.spool.trigger)
        try FileSystem.writeFile(test.spool.trigger, Array("not a FIFO\n".utf8))
        try FileSystem.removeTree(test.spool.held)
        try FileSystem.changeMode(test.spool.verdicts, 0o755)
        let problems = test.spool.layoutProblems(owner, owner: User.effective)
        #expect(problems.filter { $0.severity == .failure }.map(\.path).sorted() == [test.spool.held, test.spool.trigger].sorted())
        #expect(problems.filter { $0.severity == .warning }.map(\.path) == [test.spool.verdicts])
        #expect(problems.first { $0.path == test.spool.trigger }?.description.contains("is a regular file, not a FIFO") == true)
    }

    @Test("a layout of another owner than the one asked about fails in every part")
    func anotherOwner() throws {
        let test = try TestSpool()
        let someoneElse = UserID(User.effective.rawValue &+ 4321)
        let problems = test.spool.layoutProblems(owner, owner: someoneElse)
        #expect(!problems.isEmpty)
        #expect(problems.allSatisfy { $0.severity == .failure })
    }
}
