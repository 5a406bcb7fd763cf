#if canImport(Glibc)
import Glibc
#endif
import Basics
import FlowspoolTestSupport
import DropGate
import JSON
import POSIX
import Responder
import Spool
import Testing

/// The trust boundary (flowspool-spool(5), SECURITY): each attack a member of the responders'
/// group, or a user who may write a directory on the way to the spool, tried against flowspoold,
/// run as that user. After each, flowspoold still runs the next job and stops on SIGTERM.
@Suite("the trust boundary: the gate, the held spool, nothing acted on by path where others write")
struct TrustBoundaryTests: ResponderSpool {
    let test: TestSpool

    init() throws {
        test = try Self.openToResponders()
    }

    /// A root-only directory of files f1 to f100, the names the attack's trees hold, for the
    /// attacks to aim at.
    func victim() throws -> String {
        let victim = test.directory.path + "/victim"
        try FileSystem.makeDirectory(victim, mode: 0o700)
        for n in 1...100 { try FileSystem.writeFile(victim + "/f\(n)", Array("root's own".utf8)) }
        return victim
    }

    @Test("a responder cannot plant a tree in the drop box to swap a link into while flowspoold removes it: 200 tries, each refused")
    func removeTreeSwapRace() throws {
        let victim = try victim()
        let answers = test.spool.answers
        // The attack: a tree made elsewhere and renamed into answers/, whose subdirectory is swapped
        // back and forth for a link to a root-only directory while flowspoold walks it to remove it.
        let script = """
            stage=$(mktemp -d)
            denied=0
            for n in $(seq 1 200); do
                mkdir -p "$stage/t$n/sub" && for i in $(seq 1 100); do : > "$stage/t$n/sub/f$i"; done
                if mv "$stage/t$n" "\(answers)/t$n" 2>/dev/null; then
                    for k in 1 2 3 4 5 6 7 8 9 10; do
                        mv "\(answers)/t$n/sub" "\(answers)/t$n/old" 2>/dev/null && ln -s "\(victim)" "\(answers)/t$n/sub" 2>/dev/null
                        rm -f "\(answers)/t$n/sub" 2>/dev/null; mv "\(answers)/t$n/old" "\(answers)/t$n/sub" 2>/dev/null
                    done
                else
                    denied=$((denied + 1))
                    rm -rf "$stage/t$n"
                fi
            done
            rm -rf "$stage"
            echo "denied $denied"
            """
        let result = try runProgram(as: responder, "/bin/sh", ["-c", script], timeout: 300)
        #expect(result.standardOutput == "denied 200\n", "\(result.standardOutput)")
        let left = try FileSystem.listDirectory(victim).count
        #expect(left == 100, "flowspoold removed \(100 - left) files of a root-only directory through a planted link")
        try expectSupervisorStillServes()
    }

    @Test("a responder can neither see nor link another's answer, even with fs.protected_hardlinks off, and cannot write an answer in place")
    func hardLinkForgeryAndInPlaceAnswers() throws {
        let id = try openRequest()
        let sysctl = "/proc/sys/fs/protected_hardlinks"
        let before = try #require(try FileSystem.readText(sysctl))
        defer { try? FileSystem.writeFile(sysctl, Array(before.utf8), sync: false) }
        try FileSystem.writeFile(sysctl, Array("0\n".utf8), sync: false)
        // Root's answer waits in the drop box while no supervisor runs.
        try test.stopSupervisor()
        let dropped = try runProgram(TestEnvironment.program("respond"), ["--spool", test.root, "--wait", "0", id, "root says yes"])
        #expect(dropped.exitCode == ProgramExit.noVerdict)
        let own = test.directory.path + "/mine"
        try FileSystem.makeDirectory(own, mode: 0o777)
        let attacks = [
            "listing the drop box": "ls \(test.spool.answers)",
            "linking every answer": "ln \(test.spool.answers)/* \(own)/",
            "finding answers": "find \(test.spool.answers) -type f",
            "writing an answer in place": "printf 'yes' > \(test.spool.answers)/\(id).0123456789abcdef",
            "making a directory there": "mkdir \(test.spool.answers)/tree",
        ]
        for (attack, command) in attacks {
            let result = try runShell(as: responder, command)
            #expect(result.exitCode != 0, "\(attack) succeeded")
            #expect(result.standardError.contains("Permission denied"), "\(attack): \(result.standardError)")
        }
        #expect(try FileSystem.listDirectory(own).isEmpty)
        try test.startSupervisor(["--responders", TestEnvironment.respondersGroup])
        let ended = try test.ended(id)
        #expect(ended.outputs["response"] == "root says yes")
        #expect(try FileSystem.readText(test.execution(id).path(.log))?.contains("answered by root") == true)
        try expectSupervisorStillServes()
    }

    @Test("runners reach the spool through the root flowspoold holds; what a task starts inherits neither that descriptor nor its variable, and sees the spool's path")
    func runnersAreHandedTheSpool() throws {
        let script = #"""
            #!/bin/sh
            for fd in /proc/$$/fd/*; do printf 'fd %s -> %s\n' "${fd##*/}" "$(readlink "$fd")"; done
            printf 'spool: %s\n' "$FLOWSPOOL_SPOOL"
            printf 'fd variable: %s\n' "${FLOWSPOOL_SPOOL_FD:-none}"
            """#
        let ended = try test.run("FLOW", ["script": .string(script)])
        #expect(ended.status == .success)
        let log = try #require(try FileSystem.readText(test.execution(ended.id).path(.log)))
        // The shell's own descriptors (a command substitution's pipe) may take any number: what
        // matters is that none of them is the spool's root.
        let targets = log.split(separator: "\n").filter { $0.hasPrefix("fd ") }.compactMap { $0.split(separator: " -> ").last.map(String.init) }
        #expect(targets.count >= 3, "\(log)")
        #expect(!targets.contains(test.root), "the task inherited the spool's descriptor: \(log)")
        #expect(log.contains("spool: \(test.root)\n"), "\(log)")
        #expect(log.contains("fd variable: none\n"), "\(log)")
    }

    @Test("the gate writes one complete file, the caller's, mode 0444, of the gate's group, under a name of its own")
    func whatTheGateWrites() throws {
        let id = try openRequest()
        try test.stopSupervisor()
        let waiting = try respond(as: responder, "--wait", "0", id, "-", input: "from the gate\n")
        #expect(waiting.exitCode == ProgramExit.noVerdict, "\(waiting.standardError)")
        let names = try FileSystem.listDirectory(test.spool.answers)
        #expect(names.count == 1)
        let name = try #require(names.first)
        #expect(DroppedAnswer(fileName: name)?.id == id, "\(name)")
        let info = try #require(try FileSystem.status(test.spool.answers + "/" + name, followLinks: false))
        #expect(User.name(of: info.owner) == responder)
        #expect(Group.name(of: info.group) == "flowspool-drop")
        #expect(info.permissions == 0o444)
        #expect(info.linkCount == 1)
        #expect(try FileSystem.readText(test.spool.answers + "/" + name) == "from the gate")
        try test.startSupervisor(["--responders", TestEnvironment.respondersGroup])
        #expect(try test.ended(id).outputs["response"] == "from the gate")
        try expectSupervisorStillServes()
    }

    @Test("the gate refuses an outsider (77), a bad call (64), and a spool on a way others may write (1)")
    func gateRefusals() throws {
        let gate = try #require(DropGate.installed(in: TestEnvironment.runnerPath.split(separator: ":").map(String.init)))
        let id = try openRequest()
        let outsiders = try runProgram(as: outsider, gate, [test.root, "answer", id], input: "x")
        #expect(outsiders.exitCode == ProgramExit.permissionDenied, "\(outsiders.standardError)")
        #expect(outsiders.standardError.contains("permission denied"), "\(outsiders.standardError)")
        for arguments in [[test.root, "answer"], ["spool", "answer", id], [test.root, "cancel", id], [test.root, "answer", "../x"]] {
            let usage = try runProgram(as: responder, gate, arguments, input: "x")
            #expect(usage.exitCode == ProgramExit.usage, "\(arguments): \(usage.standardError)")
        }
        chmod(test.directory.path, 0o777)
        defer { chmod(test.directory.path, 0o711) }
        let unsafe = try runProgram(as: responder, gate, [test.root, "answer", id], input: "x")
        #expect(unsafe.exitCode == ProgramExit.failure)
        #expect(unsafe.standardError.contains("\(test.directory.path) is owned by root, group root, mode 777: group or others may write it"), "\(unsafe.standardError)")
        #expect(try FileSystem.listDirectory(test.spool.answers).isEmpty)
        #expect(test.execution(id).status() == .waiting)
    }

    @Test("flowspoold --responders refuses to start without an installed gate, and names the command that installs it")
    func respondersNeedTheGate() throws {
        try test.stopSupervisor()
        let result = try runProgram(
            TestEnvironment.program("flowspoold"),
            ["--spool", test.root, "--runner-path", TestEnvironment.binDirectory, "--responders", TestEnvironment.respondersGroup], timeout: 10)
        #expect(result.exitCode == ProgramExit.usage)
        #expect(result.standardError.contains("responders answer through the gate flowspool-drop, and none is installed"), "\(result.standardError)")
        #expect(result.standardError.contains("bin/install-gate"), "\(result.standardError)")
        #expect(result.standardError.contains("not root's, setgid to flowspool-drop"), "\(result.standardError)")
    }

    @Test("an answer on behalf of someone is taken only from the owner's files, for a member of the group; a responder cannot set the field")
    func onBehalfOf() throws {
        // Through the gate, the envelope is only the answer's text, and the responder its author.
        let first = try openRequest()
        let envelope = #"{"value":"no","on_behalf_of":"root","via":"web"}"#
        #expect(try respond(as: responder, first, envelope).exitCode == 0)
        #expect(try test.ended(first).outputs["response"] == .string(envelope))
        #expect(test.supervisorLogText.contains("\(first) answered by \(responder)\n"))
        // The envelope form in a file a responder owns (planted by root, as nothing else could) is refused.
        let second = try openRequest()
        let planted = DroppedAnswer(id: second, token: "00000000000000aa", onBehalf: true)
        let path = test.spool.answers + "/" + planted.fileName
        try FileSystem.writeFile(test.spool.answers + "/.planted", Array(envelope.utf8), mode: 0o444)
        chown(test.spool.answers + "/.planted", try #require(getpwnam(responder)).pointee.pw_uid, gid_t.max)
        try FileSystem.rename(test.spool.answers + "/.planted", path)
        try waitUntil("a verdict on the planted envelope", timeout: 10, watching: [test.spool.verdicts]) { ((try? test.spool.verdict(on: planted)) ?? nil) != nil }
        #expect(try test.spool.verdict(on: planted) == .refused("only the spool's owner answers on behalf of someone"))
        #expect(test.execution(second).status() == .waiting)
        // The owner's program answers for a member of the group: taken, recorded as theirs.
        let taken = Responding(spool: test.spool).answer(second, with: Array("yes".utf8), wait: 10, onBehalfOf: (responder, "web"))
        #expect(taken == .taken)
        #expect(try test.ended(second).outputs["response"] == "yes")
        #expect(test.supervisorLogText.contains("\(second) answered by \(responder) via web"))
        // ... and not for someone outside it.
        let third = try openRequest()
        let refused = Responding(spool: test.spool).answer(third, with: Array("yes".utf8), wait: 10, onBehalfOf: (outsider, "web"))
        #expect(refused == .refused("you may not answer \(third): \(outsider) is not root, not root (the spool's owner) and not in the responders' group \(TestEnvironment.respondersGroup)"))
        #expect(test.execution(third).status() == .waiting)
        try expectSupervisorStillServes()
    }

    @Test("an answer that comes before its request is held and taken when it is asked; one to an unknown id or a job that is no INPUT is refused")
    func earlyAnswers() throws {
        try test.stopSupervisor()
        let input = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "early?"]))
        let rest = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(TestEnvironment.httpURL + "/echo")]))
        for id in [input, rest] {
            #expect(try respond(as: responder, "--wait", "0", id, "early").exitCode == ProgramExit.noVerdict)
        }
        try test.startSupervisor(["--responders", TestEnvironment.respondersGroup])
        #expect(try test.ended(input).outputs["response"] == "early")
        _ = try test.ended(rest)
        _ = try test.spool.sendControl("rescan")
        try waitUntil("the held answers are settled", timeout: 10, watching: [test.spool.held]) {
            (try? FileSystem.listDirectory(test.spool.held))?.isEmpty == true
        }
        #expect(!test.supervisorLogText.contains("\(rest) answered"))
        let unknown = try respond(as: responder, "nosuchid", "x")
        #expect(unknown.exitCode == 1)
        #expect(unknown.standardError == "respond: no execution nosuchid\n")
        try expectSupervisorStillServes()
    }

    @Test("answers held for an execution that has not asked are limited, so that a responder answering in a loop fills neither the disk nor the rescans; a job that is no INPUT request is refused, not held")
    func heldAnswersAreLimited() throws {
        try test.stopSupervisor()
        try test.startSupervisor(["--responders", TestEnvironment.respondersGroup, "--max-running", "1"])
        let busy = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(TestEnvironment.httpURL + "/slow?seconds=120")]))
        try waitUntil("the only slot is busy", timeout: 20, watching: [test.execution(busy).directory]) { test.execution(busy).status() == .running }
        let input = try test.spool.submit(Job(task: "INPUT", inputs: ["request": "queued?"]))
        let rest = try test.spool.submit(Job(task: "REST", inputs: ["url": .string(TestEnvironment.httpURL + "/echo")]))
        try waitUntil("both are queued", timeout: 20, watching: [test.spool.executions]) {
            test.execution(input).status() == .queued && test.execution(rest).status() == .queued
        }
        for n in 1...TrustBoundaryTestsLimits.heldPerExecution {
            let held = try respond(as: responder, input, "answer \(n)")
            #expect(held.exitCode == 0, "\(held.standardError)")
            #expect(held.standardError.hasPrefix("respond: held until \(input) asks"), "\(held.standardError)")
        }
        let tooMany = try respond(as: responder, input, "one too many")
        #expect(tooMany.exitCode == 1)
        #expect(tooMany.standardError.contains("\(TrustBoundaryTestsLimits.heldPerExecution) answers to it wait already"), "\(tooMany.standardError)")
        let notInput = try respond(as: responder, rest, "x")
        #expect(notInput.exitCode == 1)
        #expect(notInput.standardError == "respond: \(rest) is not an INPUT request\n", "\(notInput.standardError)")
        _ = try test.spool.sendControl("cancel \(busy)")
        let ended = try test.ended(input)
        #expect(ended.outputs["response"] == "answer 1")
        try waitUntil("the other held answers are refused and gone", timeout: 20, watching: [test.spool.held]) {
            (try? FileSystem.listDirectory(test.spool.held))?.isEmpty == true
        }
        try expectSupervisorStillServes()
    }
}

/// The way to the spool (flowspool-spool(5), "The way to the spool"): the renamed-spool swap.
@Suite("the way to the spool: checked at start, held after")
struct SpoolPathTests {
    let responder = TestEnvironment.responder

    @Test("a spool under a directory others may write, behind a symbolic link, or of another user is refused before anything is made in it")
    func refusedAtStart() throws {
        let test = try TestSpool()
        chmod(test.directory.path, 0o777)
        let result = try runProgram(TestEnvironment.program("flowspoold"), ["--spool", test.root, "--runner-path", TestEnvironment.runnerPath], timeout: 10)
        #expect(result.exitCode == ProgramExit.failure)
        #expect(result.standardError.contains("\(test.directory.path) is owned by root, group root, mode 777: group or others may write it"), "\(result.standardError)")
        #expect(result.standardError.contains("chmod go-w \(test.directory.path)"))
        let doctor = try runProgram(TestEnvironment.program("flowspool"), ["doctor", "--spool", test.root])
        #expect(doctor.standardOutput.contains("FAIL  \(test.directory.path) is owned by root, group root, mode 777: group or others may write it"), "\(doctor.standardOutput)")
        chmod(test.directory.path, 0o700)

        let linked = test.directory.path + "/linked"
        symlink(test.root, linked)
        let viaLink = try runProgram(TestEnvironment.program("flowspoold"), ["--spool", linked, "--runner-path", TestEnvironment.runnerPath], timeout: 10)
        #expect(viaLink.exitCode == ProgramExit.failure)
        #expect(viaLink.standardError.contains("\(linked) is a symbolic link"), "\(viaLink.standardError)")

        let foreign = test.directory.path + "/foreign"
        try FileSystem.makeDirectory(foreign, mode: 0o755)
        chown(foreign, try #require(getpwnam(responder)).pointee.pw_uid, gid_t.max)
        let theirs = try runProgram(TestEnvironment.program("flowspoold"), ["--spool", foreign + "/spool", "--runner-path", TestEnvironment.runnerPath], timeout: 10)
        #expect(theirs.exitCode == ProgramExit.failure)
        #expect(theirs.standardError.contains("\(foreign) is owned by \(responder)"), "\(theirs.standardError)")
        #expect(try FileSystem.listDirectory(foreign).isEmpty, "something was made in another user's directory")
    }

    @Test("when a directory on the way is opened to others after the start and the spool swapped for another, flowspoold runs nothing of it and stops, saying why")
    func swappedAfterStart() throws {
        let test = try TestSpool()
        chmod(test.directory.path, 0o755)
        try test.startSupervisor(["--rescan-interval", "0.5"])
        let before = try test.run("REST", ["url": .string(TestEnvironment.httpURL + "/echo")])
        #expect(before.status == .success)
        chmod(test.directory.path, 0o777)
        let marker = test.directory.path + "/owned"
        let job = #"{"task": "FLOW", "inputs": {"script": "def handler(c):\n    open(\"\#(marker)\", \"w\")\n"}}"#
        let swap = """
            mv \(test.root) \(test.root).old && mkdir -p \(test.root)/tmp \(test.root)/incoming \(test.root)/executions \
            && printf '%s' '\(job)' > \(test.root)/tmp/evil.json && mv \(test.root)/tmp/evil.json \(test.root)/incoming/evil.json
            """
        let swapped = try runShell(as: responder, swap)
        #expect(swapped.exitCode == 0, "\(swapped.standardError)")
        let pid = try #require(test.supervisorPID)
        try waitUntil("flowspoold stops, or the planted flow runs", timeout: 20) {
            hasExited(pid) || FileSystem.exists(marker) || FileSystem.exists(test.root + "/executions/evil/status")
        }
        let status = try test.stopSupervisor()
        #expect(status == .exited(1))
        #expect(test.supervisorLogText.contains("stopping: \(test.directory.path) is owned by root, group root, mode 777: group or others may write it"), "\(test.supervisorLogText)")
        #expect(!FileSystem.exists(marker), "the planted flow ran")
        #expect(!FileSystem.exists(test.root + "/executions/evil"))
        let again = try runProgram(TestEnvironment.program("flowspoold"), ["--spool", test.root, "--runner-path", TestEnvironment.runnerPath], timeout: 10)
        #expect(again.exitCode == ProgramExit.failure)
        #expect(!FileSystem.exists(marker))
    }
}

/// The limits the tests hold flowspoold to (Supervisor.heldPerExecution).
enum TrustBoundaryTestsLimits {
    static let heldPerExecution = 16
}
