#if canImport(Glibc)
import Glibc
#endif
import Basics
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// Who may do what (flowspool-spool(5), SECURITY): a spool set up with a responders' group, and
/// each attack a hostile member of that group tried, run as that member.
@Suite("roles: owner, responders, everyone else")
struct RolesTests: ResponderSpool {
    let test: TestSpool

    init() throws {
        test = try Self.openToResponders()
    }

    func mode(_ path: String) throws -> (permissions: FilePermissions, group: String) {
        let info = try #require(try FileSystem.status(path, followLinks: false))
        return (info.permissions, Group.name(of: info.group))
    }

    @Test("the spool's modes: owner-only trees, a drop box only the gate and the owner may write, requests responders may read")
    func modes() throws {
        let group = TestEnvironment.respondersGroup
        #expect(try mode(test.root) == (0o710, group))
        for directory in [test.spool.tmp, test.spool.incoming, test.spool.executions, test.spool.failed, test.spool.settings] {
            #expect(try mode(directory).permissions == 0o700, "\(directory)")
        }
        #expect(try mode(test.spool.answers) == (0o1730, "flowspool-drop"))
        #expect(try mode(test.spool.requests) == (0o2750, group))
        #expect(try mode(test.spool.verdicts) == (0o2750, group))
        #expect(try mode(test.spool.trigger).permissions == 0o600)
        #expect(try mode(test.spool.control).permissions == 0o600)
    }

    @Test("a spool set up the old way, group-writable, is tightened when flowspoold starts")
    func oldSetUpIsTightened() throws {
        try test.stopSupervisor()
        for directory in [test.root, test.spool.tmp, test.spool.executions] { chmod(directory, 0o2770) }
        chmod(test.spool.trigger, 0o620)
        try test.startSupervisor(["--responders", TestEnvironment.respondersGroup])
        #expect(try mode(test.root).permissions == 0o710)
        #expect(try mode(test.spool.tmp).permissions == 0o700)
        #expect(try mode(test.spool.executions).permissions == 0o700)
        #expect(try mode(test.spool.trigger).permissions == 0o600)
        #expect(test.supervisorLogText.contains("secured \(test.spool.executions): mode 2770 -> 700"))
    }

    @Test("a spool whose executions/ belongs to someone else is refused: flowspoold would run what they plant")
    func foreignSpoolIsRefused() throws {
        try test.stopSupervisor()
        let user = try #require(getpwnam(responder)).pointee.pw_uid
        chown(test.spool.executions, user, gid_t.max)
        let result = try runProgram(
            TestEnvironment.program("flowspoold"), ["--spool", test.root, "--runner-path", TestEnvironment.binDirectory], timeout: 10)
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("\(test.spool.executions) is owned by \(responder)"), "\(result.standardError)")
        #expect(result.standardError.contains("not owned by root, the user flowspoold runs as"))
    }

    @Test("a responder can neither plant a claim, an execution or a job, nor rename, fill or read an execution")
    func responderCannotTouchTheTrees() throws {
        let flow = try test.spool.submit(Job(task: "FLOW", inputs: ["script": "def handler(c):\n    c.end('success')\n", "inputs": ["token": "s3cret"]]))
        _ = try test.ended(flow)
        let waiting = try openRequest()
        let marker = test.directory.path + "/owned"
        let evilJob = #"{"task": "FLOW", "inputs": {"script": "import os\ndef handler(c):\n    open(\"\#(marker)\", \"w\")\n"}}"#
        let attacks = [
            "planting a claim": "mkdir -p \(test.spool.tmp)/evil.admit && printf '%s' '\(evilJob)' > \(test.spool.tmp)/evil.admit/job.json",
            "planting an execution": "mkdir \(test.spool.executions)/evil2 && echo queued > \(test.spool.executions)/evil2/status",
            "dropping a job": "printf '%s' '\(evilJob)' > \(test.spool.incoming)/evil3.json",
            "renaming an execution": "mv \(test.spool.executions)/\(flow) \(test.spool.executions)/stolen",
            "a FIFO named children": "mkfifo \(test.execution(waiting).path(.children))",
            "reading a flow's inputs": "cat \(test.execution(flow).path(.inputs))",
            "listing the executions": "ls \(test.spool.executions)",
            "writing a setting": "echo '{}' > \(test.spool.settings)/aws.json",
            "poking the control FIFO": "echo 'cancel \(waiting)' > \(test.spool.control)",
        ]
        for (attack, command) in attacks {
            let result = try runShell(as: responder, command)
            #expect(result.exitCode != 0, "\(attack) succeeded")
            #expect(result.standardError.contains("Permission denied"), "\(attack): \(result.standardError)")
            #expect(!result.standardOutput.contains("s3cret"), "\(attack)")
        }
        try test.stopSupervisor()
        try test.startSupervisor(["--responders", TestEnvironment.respondersGroup])  // a restart's repair and rescan run too
        #expect(!FileSystem.exists(marker), "a planted flow ran")
        #expect(test.execution(flow).exists && !test.execution("stolen").exists)
        #expect(test.execution(waiting).status() == .waiting)
        try expectSupervisorStillServes()
    }

    @Test("a responder lists the open requests (and nothing of the flow) and answers one; the answer records who")
    func responderAnswers() throws {
        let id = try openRequest("deploy 42?")
        let listed = try flowspool(as: responder, "inputs", "--json")
        #expect(listed.exitCode == 0, "\(listed.standardError)")
        let requests = try JSON(parsing: listed.standardOutput).arrayValue ?? []
        #expect(requests.map { $0["id"] } == [.string(id)])
        #expect(requests.first?["request"] == "deploy 42?")
        let answered = try respond(as: responder, id, "yes")
        #expect(answered.exitCode == 0, "\(answered.standardError)")
        let ended = try test.ended(id)
        #expect(ended.outputs["response"] == "yes")
        #expect(try FileSystem.readText(test.execution(id).path(.log))?.contains("answered by \(responder)") == true)
        #expect(try JSON(parsing: flowspool(as: responder, "inputs", "--json").standardOutput) == .array([]))
        #expect(try FileSystem.listDirectory(test.spool.answers).isEmpty, "the drop box is emptied")
    }

    @Test("a responder cannot answer what is not an open INPUT request, nor answer twice")
    func responderRefusals() throws {
        let rest = try test.run("REST", ["url": .string(TestEnvironment.httpURL + "/echo")])
        let notInput = try respond(as: responder, rest.id, "x")
        #expect(notInput.exitCode == 1)
        #expect(notInput.standardError == "respond: \(rest.id) has ended already (success)\n")
        let unknown = try respond(as: responder, "nosuch", "x")
        #expect(unknown.standardError == "respond: no execution nosuch\n")
        let id = try openRequest()
        #expect(try respond(as: responder, id, "first").exitCode == 0)
        let again = try respond(as: responder, id, "second")
        #expect(again.exitCode == 1)
        #expect(again.standardError == "respond: \(id) was already answered\n")
        #expect(try test.ended(id).outputs["response"] == "first")
    }

    @Test("a responder who asks for executions (list, show, log) is told they are the owner's, not shown nothing")
    func responderCannotInspect() throws {
        let id = try openRequest()
        for command in [["list"], ["show", id], ["log", id], ["status", id]] {
            let result = try runProgram(as: responder, TestEnvironment.program("flowspool"), command + ["--spool", test.root])
            #expect(result.exitCode == 77, "\(command)")
            #expect(result.standardOutput.isEmpty, "\(command)")
            #expect(result.standardError.hasPrefix("flowspool: permission denied: \(test.spool.executions) (owned by root, group root, mode 700)"), "\(command): \(result.standardError)")
        }
    }

    @Test("every command a responder or an outsider may not carry out exits 77 with the permission message, whatever call was refused", arguments: [
        ["submit", "REST", "url=http://127.0.0.1:9/"], ["run", "REST", "url=http://127.0.0.1:9/"], ["wait", "ID"], ["status", "ID"],
        ["show", "ID"], ["log", "ID"], ["cancel", "ID"], ["list"], ["top", "--once"], ["gc", "--older-than", "0"],
        ["settings", "list"], ["settings", "get", "aws"], ["settings", "set", "aws", "{}"], ["settings", "rm", "aws"],
    ])
    func permissionDeniedExits77(command: [String]) throws {
        let id = try openRequest()
        let arguments = command.map { $0 == "ID" ? id : $0 }
        for user in [responder, outsider] {
            let result = try flowspool(as: user, arguments)
            #expect(result.exitCode == ProgramExit.permissionDenied, "\(user): \(command): \(result.standardError)")
            #expect(result.standardOutput.isEmpty, "\(user): \(command)")
            #expect(result.standardError.hasPrefix("flowspool: permission denied: \(test.root)"), "\(user): \(command): \(result.standardError)")
        }
        #expect(test.execution(id).status() == .waiting)
        #expect(!FileSystem.exists(test.spool.settings + "/aws.json"))
    }

    @Test("a responder is told which directory refused and what was being done")
    func permissionDeniedNamesTheDirectory() throws {
        let id = try openRequest()
        let owned = "(owned by root, group root, mode 700)"
        let cases: [([String], String)] = [
            (["submit", "REST", "url=http://127.0.0.1:9/"], "permission denied: \(test.spool.tmp) \(owned); cannot submit the job to \(test.root): open \(test.spool.tmp)/"),
            (["wait", id], "permission denied: \(test.spool.executions) \(owned); only root and the user flowspoold runs as may read executions"),
            (["settings", "list"], "permission denied: \(test.spool.settings) \(owned); cannot list settings: opendir \(test.spool.settings): Permission denied"),
            (["settings", "rm", "aws"], "permission denied: \(test.spool.settings) \(owned); cannot remove setting 'aws': unlink \(test.spool.settings)/aws.json: Permission denied"),
        ]
        for (command, message) in cases {
            let result = try flowspool(as: responder, command)
            #expect(result.exitCode == 77, "\(command)")
            #expect(result.standardError.hasPrefix("flowspool: \(message)"), "\(command): \(result.standardError)")
        }
    }

    @Test("someone outside the group can neither list nor answer, and is told so plainly")
    func outsiderIsRefused() throws {
        let id = try openRequest()
        let listed = try flowspool(as: outsider, "inputs")
        #expect(listed.exitCode == 77)
        #expect(listed.standardOutput.isEmpty)
        #expect(listed.standardError.contains("permission denied: \(test.root) (owned by root, group \(TestEnvironment.respondersGroup), mode 710)"), "\(listed.standardError)")
        let answered = try respond(as: outsider, id, "x")
        #expect(answered.exitCode == 77)
        #expect(answered.standardError.contains("respond: you may not answer \(id): permission denied: \(test.root)"), "\(answered.standardError)")
        #expect(test.execution(id).status() == .waiting)
    }

    @Test("an answer in the drop box from someone outside the group is refused by flowspoold itself")
    func foreignAnswerIsRefused() throws {
        let id = try openRequest()
        let answer = DroppedAnswer(id: id, token: "0123456789abcdef")
        let path = test.spool.answers + "/" + answer.fileName
        try FileSystem.writeFile(test.spool.answers + "/.planted", Array("yes".utf8), mode: 0o644)
        chown(test.spool.answers + "/.planted", try #require(getpwnam(outsider)).pointee.pw_uid, gid_t.max)
        try FileSystem.rename(test.spool.answers + "/.planted", path)
        // The verdict is written first, then the answer removed.
        try waitUntil("a verdict, and the answer removed", timeout: 10, watching: [test.spool.verdicts, test.spool.answers]) {
            ((try? test.spool.verdict(on: answer)) ?? nil) != nil && !FileSystem.exists(path)
        }
        #expect(try test.spool.verdict(on: answer) == .refused("you may not answer \(id): nobody is not root, not root (the spool's owner) and not in the responders' group \(TestEnvironment.respondersGroup)"))
        #expect(test.execution(id).status() == .waiting)
        #expect(!FileSystem.exists(path))
    }

    @Test("a FIFO, a link, a directory tree or a stray name in the drop box is moved aside once, never walked; a hard link is refused; flowspoold goes on")
    func hostileAnswers() throws {
        let id = try openRequest()
        let victim = test.directory.path + "/victim"
        try FileSystem.makeDirectory(victim)
        try FileSystem.writeFile(victim + "/precious", Array("root's own".utf8))
        let tokens = ["000000000000000a", "000000000000000b", "000000000000000c", "000000000000000d"]
        let paths = tokens.map { test.spool.answers + "/" + DroppedAnswer(id: id, token: $0).fileName }
        mkfifo(paths[0], 0o644)
        symlink("/etc/shadow", paths[1])
        // A tree with a link to a root-only directory deep inside: walking it would remove what is there.
        mkdir(paths[2], 0o755)
        mkdir(paths[2] + "/sub", 0o755)
        symlink(victim, paths[2] + "/sub/link")
        try FileSystem.writeFile(test.directory.path + "/secret", Array("root's own".utf8))
        link(test.directory.path + "/secret", paths[3])
        for n in 0..<50 { try FileSystem.writeFile(test.spool.answers + "/junk-\(n)", Array("x".utf8)) }
        _ = try test.spool.sendControl("rescan")
        // The set-asides are logged once the pass over the drop box is done, after the moves.
        try waitUntil("all but the hard link set aside and logged, and a verdict on the hard link", timeout: 10,
                      watching: [test.spool.verdicts, test.spool.answers, test.directory.path]) {
            ((try? test.spool.verdict(on: DroppedAnswer(id: id, token: tokens[3]))) ?? nil) != nil
                && (try? FileSystem.listDirectory(test.spool.answers))?.isEmpty == true
                && test.supervisorLogText.contains("set aside into tmp/, 50 in all")
        }
        guard case .refused(let reason)? = try test.spool.verdict(on: DroppedAnswer(id: id, token: tokens[3])) else {
            Issue.record("the hard link was taken")
            return
        }
        #expect(reason.contains("hard links"), "\(reason)")
        for token in tokens.prefix(3) { #expect(try test.spool.verdict(on: DroppedAnswer(id: id, token: token)) == nil) }
        #expect(try FileSystem.readText(victim + "/precious") == "root's own", "flowspoold walked the planted tree")
        let asides = try FileSystem.listDirectory(test.spool.tmp).filter { $0.hasPrefix("answer-aside.") }
        #expect(asides.count == 53, "\(asides)")
        // Reported once per cause, not once per name.
        let log = test.supervisorLogText
        #expect(log.contains("answers/: a file not named ID.TOKEN: set aside into tmp/, 50 in all"), "\(log)")
        #expect(log.contains("answers/: a FIFO, where only files belong: set aside into tmp/, 1 in all"), "\(log)")
        #expect(log.contains("answers/: a directory, where only files belong: set aside into tmp/, 1 in all"), "\(log)")
        #expect(log.split(separator: "\n").filter { $0.contains("junk-") }.count == 1, "one line names one example")
        #expect(test.execution(id).status() == .waiting)
        #expect(try respond(as: responder, id, "still open").exitCode == 0)
        #expect(try test.ended(id).outputs["response"] == "still open")
        try expectSupervisorStillServes()
    }
}
