import FlowspoolTestSupport
import POSIX
import Spool
import Testing

/// Spool.write and its policies (flowspool-spool(5), Writing files): what each does when the file is
/// there already, where a file is staged, and the order of its steps as inotify sees them.
@Suite("Writing spool files")
struct FileWritesTests {
    func names(in directory: String) throws -> [String] {
        try FileSystem.listDirectory(directory).sorted()
    }

    @Test("replace: the last writer wins, staged in tmp/, which is left empty")
    func replace() throws {
        let test = try TestSpool()
        let path = test.spool.settings + "/example.json"
        #expect(try test.spool.write("first\n", to: path))
        #expect(try test.spool.write("second\n", to: path, .volatile))
        #expect(try FileSystem.readText(path) == "second\n")
        #expect(try names(in: test.spool.tmp).isEmpty)
    }

    @Test("create-once and no-replace: the first writer wins, the second is told, and nothing staged is left", arguments: [
        WritePolicy.createOnce, WritePolicy(.noReplace), WritePolicy(.noReplace, staging: .besideTarget, durability: .file),
        WritePolicy.published(replacing: false),
    ])
    func firstWins(policy: WritePolicy) throws {
        let test = try TestSpool()
        let path = test.spool.settings + "/example.json"
        #expect(try test.spool.write("first\n", to: path, policy))
        #expect(try !test.spool.write("second\n", to: path, policy))
        #expect(try FileSystem.readText(path) == "first\n")
        #expect(try names(in: test.spool.settings) == ["example.json"])
        #expect(try names(in: test.spool.tmp).isEmpty)
    }

    @Test("several files: those whose target is free are placed, and false says one was not")
    func severalFirstWins() throws {
        let test = try TestSpool()
        let (taken, free) = (test.spool.settings + "/taken", test.spool.settings + "/free")
        try test.spool.write("mine\n", to: taken)
        #expect(try !test.spool.write([.init(taken, "theirs\n"), .init(free, "theirs\n")], WritePolicy(.noReplace)))
        #expect(try FileSystem.readText(taken) == "mine\n")
        #expect(try FileSystem.readText(free) == "theirs\n")
        #expect(try names(in: test.spool.tmp).isEmpty)
    }

    @Test("staged beside the target, a file has its mode whatever the umask, and tmp/ never sees it")
    func besideTarget() throws {
        let test = try TestSpool()
        let inotify = try Inotify()
        _ = try inotify.watch(test.spool.tmp, for: [.created, .movedIn, .movedOut, .deleted])
        let path = test.spool.requests + "/open.json"
        #expect(try test.spool.write("{}\n", to: path, mode: 0o666, .published(replacing: true)))
        #expect(try FileSystem.status(path)?.permissions == 0o666)
        #expect(try names(in: test.spool.requests) == ["open.json"])
        #expect(inotify.events()?.isEmpty == true)
    }

    @Test("a file is written and closed under its staged name before its own name appears, several appear in the order given, and a link's staged name goes after", arguments: [
        WritePolicy.durable, WritePolicy.volatile, WritePolicy(.noReplace, staging: .besideTarget), WritePolicy.createOnce,
    ])
    func order(policy: WritePolicy) throws {
        let test = try TestSpool()
        let inotify = try Inotify()
        let events: Inotify.Events = [.closedAfterWriting, .created, .movedIn, .movedOut, .deleted]
        _ = try inotify.watch(test.spool.tmp, for: events)
        _ = try inotify.watch(test.spool.settings, for: events)
        let targets = ["c", "a", "b"]
        #expect(try test.spool.write(targets.map { .init(test.spool.settings + "/" + $0, $0 + "\n") }, policy))
        let seen = try #require(inotify.events(), "the event queue overflowed")
        let closed = seen.enumerated().filter { $0.element.mask & Inotify.Events.closedAfterWriting.rawValue != 0 }
        let appeared = seen.enumerated().filter { targets.contains($0.element.name) && $0.element.mask & Inotify.Events([.movedIn, .created]).rawValue != 0 }
        #expect(closed.count == 3 && appeared.count == 3, "\(seen.map { ($0.name, $0.mask) })")
        #expect(closed.allSatisfy { !targets.contains($0.element.name) }, "written under a staged name")
        #expect(closed.map(\.offset).max()! < appeared.map(\.offset).min()!, "every file written whole before the first name appears")
        #expect(appeared.map(\.element.name) == targets)
        let removed = seen.enumerated().filter { $0.element.mask & Inotify.Events.deleted.rawValue != 0 }
        #expect(removed.count == (policy.collision == .createOnce ? 3 : 0))
        #expect(removed.allSatisfy { $0.offset > appeared.map(\.offset).max()! }, "a staged name is removed once every file is in place")
        #expect(try names(in: test.spool.settings) == ["a", "b", "c"])
    }

    @Test("what a failure leaves staged is removed: a target in a directory that is not there")
    func failure() throws {
        let test = try TestSpool()
        #expect(throws: SystemError.self) { try test.spool.write("x\n", to: test.spool.settings + "/missing/x") }
        #expect(try names(in: test.spool.tmp).isEmpty)
    }
}
