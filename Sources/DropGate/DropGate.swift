import Basics
import POSIX
import Spool

/// flowspool-drop, the gate through which answers enter a spool, as Postfix's postdrop is for
/// maildrop/. It is installed setgid to the group flowspool-drop, which owns answers/ (mode 1730)
/// and of which no person is a member: responders cannot write into answers/ themselves, only
/// through this program, which writes one complete file there, owned by them (the kernel says who
/// wrote it, not the file), 0444, renamed into place under a name the gate chooses.
///
/// Running setgid, it trusts nothing of its caller but the real user id: it takes the spool's path,
/// the kind of message and the message, checks the way to the spool as flowspoold does (SpoolPath),
/// and lets through only root, the spool's owner and the responders' group (the spool root's
/// group, when the root lets its group pass). Its standard output is the answer's token; its exit
/// status that of ProgramExit.
public enum DropGate {
    public static let program = "flowspool-drop"
    /// The group the gate runs as, and that owns answers/.
    public static let group = "flowspool-drop"
    /// answers/ with a gate: the owner's, group flowspool-drop, which may only add names (postdrop's 1730).
    public static let answersMode: FilePermissions = 0o1730

    /// What the gate was asked to do, or why it refuses.
    public struct Failure: Error {
        public let message: String
        public let exitCode: Int32
    }

    /// The program: `flowspool-drop SPOOL answer ID`, the answer on standard input.
    public static func main(_ arguments: [String]) -> Int32 {
        if arguments == ["--version"] {
            try? FileDescriptor.standardOutput.write(FlowspoolVersion.line(for: program) + "\n")
            return ProgramExit.success
        }
        do {
            let (spool, id) = try parse(arguments)
            let token = try drop(try readValue(), for: id, in: spool)
            try? FileDescriptor.standardOutput.write(token + "\n")
            return ProgramExit.success
        } catch {
            OperatorLine.write("\(program): \(error.message)")
            return error.exitCode
        }
    }

    static func readValue() throws(Failure) -> [UInt8] {
        guard let bytes = try? FileDescriptor.standardInput.readAll(limit: DroppedAnswer.maximumSize) else {
            throw Failure(message: "cannot read the answer from standard input (at most \(DroppedAnswer.maximumSize >> 20) MiB)", exitCode: ProgramExit.failure)
        }
        return bytes
    }

    /// The spool's path and the execution id, before anything is read.
    static func parse(_ arguments: [String]) throws(Failure) -> (spool: String, id: String) {
        guard arguments.count == 3, arguments[1] == "answer", arguments[0].hasPrefix("/") else {
            throw Failure(message: "usage: \(program) SPOOL answer ID (SPOOL absolute, the answer on standard input)", exitCode: ProgramExit.usage)
        }
        guard ExecutionID.isValid(arguments[2]) else {
            throw Failure(message: "'\(arguments[2].escapingControlCharacters())' is not an execution id", exitCode: ProgramExit.usage)
        }
        return (arguments[0], arguments[2])
    }

    /// Checks the way, the caller and answers/, and drops the answer; returns its token.
    static func drop(_ value: [UInt8], for id: String, in path: String) throws(Failure) -> String {
        let spool: SpoolPath
        do {
            spool = try SpoolPath(path)
        } catch {
            throw Failure(message: error.description, exitCode: PermissionDenial(error) == nil ? ProgramExit.failure : ProgramExit.permissionDenied)
        }
        try checkCaller(spool, path: path)
        let answers = try openAnswers(spool, path: path)
        return try write(value, for: id, into: answers)
    }

    /// Root, the spool's owner, and the members of the responders' group may answer.
    static func checkCaller(_ spool: SpoolPath, path: String) throws(Failure) {
        let caller = User.real
        if caller == User.root || caller == spool.owner { return }
        let groupMayPass = spool.status.permissions.rawValue & 0o010 != 0
        if groupMayPass && User.isMember(caller, of: spool.status.group) { return }
        let group = groupMayPass ? "not a member of \(Group.name(of: spool.status.group)), the spool's responders' group" : "the spool has no responders' group (flowspoold --responders)"
        throw Failure(
            message: "permission denied: \(User.name(of: caller)) may not answer in \(path): not root, not its owner \(User.name(of: spool.owner)), and \(group)",
            exitCode: ProgramExit.permissionDenied)
    }

    /// answers/, which must be the owner's, of the gate's group, mode 1730.
    static func openAnswers(_ spool: SpoolPath, path: String) throws(Failure) -> Directory {
        let answers: Directory
        let info: FileSystem.Status
        do {
            answers = try spool.root.subdirectory("answers", searchOnly: true)
            info = try answers.status()
        } catch {
            throw Failure(message: "cannot open \(path)/answers: \(error)", exitCode: ProgramExit.failure)
        }
        guard info.owner == spool.owner, info.group == Group.effective, info.permissions == answersMode else {
            throw Failure(
                message: "\(path)/answers is \(info.ownership), not set up for the gate (owned by the spool's owner, group \(group), mode \(answersMode.octal)): flowspoold --responders GROUP started as root sets it up; see flowspool-install(8)",
                exitCode: ProgramExit.failure)
        }
        return answers
    }

    /// Writes the answer under a dot name of its own, 0444, makes it durable, and renames it into
    /// place: flowspoold never sees half an answer.
    static func write(_ value: [UInt8], for id: String, into answers: Directory) throws(Failure) -> String {
        let answer = DroppedAnswer(id: id, token: DroppedAnswer.newToken())
        let temporary = "." + answer.fileName
        do {
            let file = try answers.openFile(temporary, .writeOnly, options: [.create, .exclusiveCreate], permissions: 0o444)
            defer { try? file.close() }
            do {
                try file.changeMode(0o444)  // whatever the caller's umask
                try file.write(value)
                try file.sync()
                try answers.move(temporary, to: answers, as: answer.fileName)
                // The directory cannot be opened to fsync it (the gate may not read it): one syncfs.
                try file.syncFileSystem()
            } catch {
                try? answers.removeFile(temporary)
                throw error
            }
        } catch {
            throw Failure(message: "cannot write into \(answers.path): \(error)", exitCode: ProgramExit.failure)
        }
        return answer.token
    }

    /// The first gate on `directories` that is installed as the gate must be; nil when none is.
    public static func installed(in directories: [String]) -> String? {
        directories.lazy.map { $0 + "/" + program }.first { installProblem($0) == nil }
    }

    /// Why the program at `path` cannot serve as the gate (not there, not setgid to flowspool-drop,
    /// not root's, writable by others); nil when it can.
    public static func installProblem(_ path: String) -> String? {
        guard let gid = Group.id(named: group) else { return "there is no group \(group)" }
        guard let info = (try? FileSystem.status(path)) ?? nil, info.isRegularFile else { return "\(path) is missing" }
        let mode = info.permissions.rawValue
        guard info.owner == User.root, info.group == gid, mode & 0o2000 != 0, mode & 0o022 == 0 else {
            return "\(path) is \(info.ownership), not root's, setgid to \(group) and writable by root alone"
        }
        return nil
    }

    /// Why no gate on `directories` may serve, for the operator: what is wrong with each one there,
    /// and the command that installs it.
    public static func notInstalled(in directories: [String]) -> String {
        let problems = directories.compactMap { installProblem($0 + "/" + program) }
        return "responders answer through the gate \(program), and none is installed on the runner path (\(problems.joined(separator: "; "))); install it with \(installCommand)"
    }

    /// The command that installs the gate, for messages.
    public static let installCommand = "sudo bin/install (it makes \(program) setgid to the group \(group)), or for a build sudo bin/install-gate DIR"
}
