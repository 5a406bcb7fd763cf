#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// `flowspool gc`: cleaning up after a spool without ever touching what runs, or a child before
/// its flow.
@Suite("flowspool gc")
struct GCTests {
    let test: TestSpool
    let scratch: TemporaryDirectory
    let http = TestEnvironment.httpURL

    init() throws {
        test = try TestSpool()
        scratch = try TemporaryDirectory()
        try test.startSupervisor()
    }

    func gc(_ arguments: String...) throws -> CommandResult {
        try runProgram(TestEnvironment.program("flowspool"), ["gc", "--spool", test.root] + arguments, timeout: 60)
    }

    func flow(_ source: String) throws -> String {
        try test.spool.submit(Job(task: "FLOW", inputs: ["script": .string(source)]))
    }

    @Test("gc removes ended executions older than the cutoff, a flow with its children, never what has not ended or a child before its flow")
    func removesWholeEndedTrees() throws {
        let lone = try test.run("REST", ["url": .string(http + "/echo")])
        let failed = try test.run("REST", ["url": .string(http + "/status/500")])
        let parent = try test.ended(try flow("def handler(c):\n    c.task('REST', url='\(http)/echo').run()\n"))
        let child = try #require(test.execution(parent.id).children().first)
        let asking = try flow("def handler(c):\n    c.task('REST', url='\(http)/echo').run()\n    c.task('INPUT', request='keep me?').run()\n")
        try waitUntil("the flow's question waits", timeout: 30) { test.spool.jobState(asking) == .pending && test.execution(asking).children().count == 2 }
        let askingChildren = test.execution(asking).children()
        try waitUntil("its REST child has ended", timeout: 30) { test.execution(askingChildren[0]).status()?.isFinal == true }

        let tooYoung = try gc("--older-than", "1h")
        #expect(tooYoung.exitCode == 0 && tooYoung.standardOutput.isEmpty, "\(tooYoung)")
        let dryRun = try gc("--older-than", "0s", "--dry-run")
        #expect(dryRun.exitCode == 0, "\(dryRun.standardError)")
        let planned = dryRun.standardOutput.split(separator: "\n")
        #expect(planned.count == 3, "\(dryRun.standardOutput)")
        #expect(planned.contains { $0.hasPrefix("would remove \(parent.id) (success, ended ") && $0.hasSuffix(" and 1 execution it started") })
        #expect(!dryRun.standardOutput.contains(asking) && !dryRun.standardOutput.contains(askingChildren[0]))
        #expect(test.execution(lone.id).exists)

        let onlyErrors = try gc("--older-than", "0s", "--status", "error")
        #expect(onlyErrors.standardOutput.hasPrefix("removed \(failed.id) (error, ended "))
        #expect(!test.execution(failed.id).exists && test.execution(lone.id).exists)

        let archive = scratch.path + "/archive"
        let archived = try gc("--older-than", "0s", "--archive", archive)
        #expect(archived.exitCode == 0, "\(archived.standardError)")
        let day = String(Clock.iso8601(Clock.now()).prefix(10))
        let tarball = archive + "/flowspool-\(day).tar.gz"
        #expect(try FileSystem.status(tarball)?.permissions == 0o600)
        let contents = try runProgram("/usr/bin/tar", ["-tzf", tarball]).standardOutput
        for id in [lone.id, parent.id, child] {
            #expect(contents.contains("\(id)/status"), "\(id) is not in the archive")
            #expect(!test.execution(id).exists, "\(id) is still there")
        }
        #expect(test.execution(asking).status() == .waiting)
        #expect(test.execution(askingChildren[0]).exists, "a child went before its flow")
        let listed = try flowspool("list", spool: test).standardOutput
        #expect(!listed.contains(lone.id) && listed.contains(asking))
        #expect(try FileSystem.readText(test.root + "/index").map { !$0.contains(lone.id) } ?? true)

        // Once the flow has ended, it goes with its children; an archive of the same day is a second file.
        let request = try #require(askingChildren.last)
        #expect(try runProgram(TestEnvironment.program("respond"), ["--spool", test.root, request, "no"]).exitCode == 0)
        _ = try test.ended(asking)
        #expect(try gc("--older-than", "0s", "--archive", archive).exitCode == 0)
        #expect(!test.execution(asking).exists && !test.execution(request).exists)
        #expect(FileSystem.exists(archive + "/flowspool-\(day).2.tar.gz"))
    }

    @Test("executions that name themselves or each other as parent (job files written by hand) are removed once ended, like any other; one naming such an execution goes with it")
    func parentCycles() throws {
        let echo: JSON = ["url": .string(http + "/echo")]
        // Admission refuses a job naming itself, but a spool may hold one admitted before it did.
        let ownParent = try test.run("REST", ["url": .string(http + "/echo")]).id
        var job = try test.execution(ownParent).job()
        job.parent = ownParent
        try FileSystem.writeFile(test.execution(ownParent).path(.inputs), Array((job.document(submitted: Clock.now()).prettyText + "\n").utf8), mode: 0o600)
        try test.drop("cycle-a.json", ["task": "REST", "parent": "cycle-b", "inputs": echo])
        try test.drop("cycle-b.json", ["task": "REST", "parent": "cycle-a", "inputs": echo])
        for id in ["cycle-a", "cycle-b"] { _ = try test.ended(id) }
        try test.drop("below-cycle.json", ["task": "REST", "parent": "cycle-a", "inputs": echo])
        _ = try test.ended("below-cycle")

        let removed = try gc("--older-than", "0s")
        #expect(removed.exitCode == 0, "\(removed.standardError)")
        let lines = removed.standardOutput.split(separator: "\n")
        #expect(lines.count == 3, "\(removed.standardOutput)")
        #expect(lines.contains { $0.hasPrefix("removed \(ownParent) (success, ended ") && !$0.contains("it started") }, "\(removed.standardOutput)")
        #expect(lines.contains { $0.hasPrefix("removed cycle-a (") && $0.hasSuffix(" and 1 execution it started") }, "\(removed.standardOutput)")
        #expect(lines.contains { $0.hasPrefix("removed cycle-b (") && !$0.contains("it started") }, "\(removed.standardOutput)")
        #expect(try FileSystem.listDirectory(test.spool.executions).isEmpty)
    }

    /// The day an archive of what ended now is named by.
    var today: String { String(Clock.iso8601(Clock.now()).prefix(10)) }

    @Test("gc --archive refuses a directory another user owns, or others may write: its owner would plant a link that root's gc writes through")
    func archiveDirectoryOfAnotherUser() throws {
        let responder = TestEnvironment.responder
        let ended = try test.run("REST", ["url": .string(http + "/echo")])
        let victim = try scratch.file("root-only", "secret\n", mode: 0o600)
        try FileSystem.changeMode(scratch.path, 0o711)  // the responder reaches a directory of her own in it
        let theirs = scratch.path + "/theirs"
        try FileSystem.makeDirectory(theirs, mode: 0o755)
        #expect(chown(theirs, try #require(getpwnam(responder)).pointee.pw_uid, gid_t.max) == 0)
        let planted = try runShell(as: responder, "ln -s \(victim) \(theirs)/.flowspool-\(today).tar.gz.list")
        #expect(planted.exitCode == 0, "\(planted.standardError)")

        let refused = try gc("--older-than", "0s", "--archive", theirs)
        #expect(refused.exitCode == 1, "\(refused)")
        #expect(refused.standardError.contains("refused the archive directory \(theirs) (owned by \(responder), "), "\(refused.standardError)")
        #expect(refused.standardError.contains("nothing was removed"))
        #expect(try FileSystem.readText(victim) == "secret\n", "gc wrote through the planted link")
        #expect(test.execution(ended.id).exists)

        let shared = scratch.path + "/shared"
        try FileSystem.makeDirectory(shared, mode: 0o700)
        try FileSystem.changeMode(shared, 0o1777)
        let writable = try gc("--older-than", "0s", "--archive", shared)
        #expect(writable.exitCode == 1, "\(writable)")
        #expect(writable.standardError.contains("refused the archive directory \(shared) (owned by root, group root, mode 1777): others may write in it"), "\(writable.standardError)")
        #expect(try FileSystem.listDirectory(shared).isEmpty && test.execution(ended.id).exists)
    }

    @Test("gc --archive never writes through a name that is there already, a link among them: O_EXCL refuses it, saying which, and nothing is removed; a normal archive is a tar.gz of the executions")
    func archiveNeverFollowsAPlantedName() throws {
        let ended = try test.run("REST", ["url": .string(http + "/echo")])
        let victim = try scratch.file("root-only", "secret\n", mode: 0o600)
        let archive = scratch.path + "/archive"
        try FileSystem.makeDirectory(archive, mode: 0o700)
        for suffix in ["list", "partial"] {
            let planted = "\(archive)/.flowspool-\(today).tar.gz.\(suffix)"
            #expect(symlink(victim, planted) == 0)
            let refused = try gc("--older-than", "0s", "--archive", archive)
            #expect(refused.exitCode == 1, "\(refused)")
            #expect(refused.standardError.contains("\(planted) is there already (a symbolic link)"), "\(refused.standardError)")
            #expect(refused.standardError.contains("nothing was removed"))
            #expect(try FileSystem.readText(victim) == "secret\n", "gc wrote through the planted .\(suffix)")
            #expect(try FileSystem.status(planted, followLinks: false)?.type == .symbolicLink, "gc removed what it had not made")
            #expect(test.execution(ended.id).exists)
            try FileSystem.unlink(planted)
        }

        let archived = try gc("--older-than", "0s", "--archive", archive)
        #expect(archived.exitCode == 0, "\(archived.standardError)")
        let tarball = archive + "/flowspool-\(today).tar.gz"
        #expect(try FileSystem.listDirectory(archive) == ["flowspool-\(today).tar.gz"], "a list or a partial archive was left")
        #expect(try FileSystem.status(tarball)?.permissions == 0o600)
        #expect(try runProgram("/usr/bin/gzip", ["-t", tarball]).exitCode == 0)
        let listing = try runProgram("/usr/bin/tar", ["-tzf", tarball])
        #expect(listing.exitCode == 0, "\(listing.standardError)")
        #expect(listing.standardOutput.contains("\(ended.id)/status") && listing.standardOutput.contains("\(ended.id)/outputs.json"), "\(listing.standardOutput)")
        #expect(!test.execution(ended.id).exists)
    }

    @Test("flowspoold --gc-older-than runs gc itself, at its first rescan and then daily, and logs it")
    func dailyGC() throws {
        let old = try test.run("REST", ["url": .string(http + "/echo")])
        try test.stopSupervisor()
        try test.startSupervisor(["--gc-older-than", "0s", "--gc-archive", scratch.path + "/archive", "--rescan-interval", "0.2"])
        try waitUntil("the gc removes \(old.id)", timeout: 20) { !test.execution(old.id).exists }
        #expect(test.supervisorLogText.contains("gc: \(TestEnvironment.program("flowspool")) gc --spool \(test.root) --older-than 0s --archive \(scratch.path)/archive (pid "))
        #expect(try FileSystem.listDirectory(scratch.path + "/archive").contains { $0.hasPrefix("flowspool-") && $0.hasSuffix(".tar.gz") })
    }

    @Test("on a full disk, an archive that cannot be written removes nothing; without one, gc frees the space")
    func fullDisk() throws {
        let small = try TestSpool(diskSize: 4 << 20)
        try small.startSupervisor()
        let ended = try small.run("REST", ["url": .string(http + "/echo")])
        try small.fillDisk()
        let archive = small.root + "/archive"
        let refused = try runProgram(TestEnvironment.program("flowspool"), ["gc", "--spool", small.root, "--older-than", "0s", "--archive", archive])
        #expect(refused.exitCode == 1)
        #expect(refused.standardError.contains("nothing was removed"), "\(refused.standardError)")
        #expect(small.execution(ended.id).status() == .success)
        let freed = try runProgram(TestEnvironment.program("flowspool"), ["gc", "--spool", small.root, "--older-than", "0s"])
        #expect(freed.exitCode == 0, "\(freed.standardError)")
        #expect(!small.execution(ended.id).exists)
        try small.freeDisk()
    }

    @Test("a thousand ended executions go in one gc, and list is empty afterwards")
    func aThousand() throws {
        let ids = try (0..<1000).map { _ in try test.spool.submit(Job(task: "REST", inputs: ["url": .string(http + "/echo")]), durable: false) }
        for id in ids { _ = try test.waitForEnd(of: id, timeout: 120) }
        #expect(try flowspool("list", "--status", "success", spool: test).standardOutput.split(separator: "\n").count == 1001)
        let removed = try gc("--older-than", "0s")
        #expect(removed.exitCode == 0, "\(removed.standardError)")
        #expect(removed.standardOutput.split(separator: "\n").count == 1000)
        #expect(try FileSystem.listDirectory(test.spool.executions).isEmpty)
        #expect(try flowspool("list", spool: test).standardOutput.split(separator: "\n").count == 1)
    }

    @Test("gc refuses an age it cannot read, and a status that is not final")
    func usage() throws {
        let badAge = try gc("--older-than", "soon")
        #expect(badAge.exitCode == 64)
        #expect(badAge.standardError.contains("--older-than takes an age such as 7d"))
        let badStatus = try gc("--older-than", "7d", "--status", "running")
        #expect(badStatus.exitCode == 64)
        #expect(badStatus.standardError.contains("'running' is not a final status"))
    }
}
