import ArgumentParser
import Basics
import Commands
import DropGate
import POSIX
import Spool

/// `flowspool doctor`: looks at what a spool and its supervisor need, and says what to fix.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the spool, its supervisor, the kernel's limits and the runners, and say what to fix.",
        discussion: "Prints one line per check: ok, warn or FAIL. Exits 0 unless a check failed.")

    @OptionGroup(title: "Spool or cluster") var place: BackendOptions

    @Option(help: "The runner path flowspoold is given (default: as flowspoold finds its runners).")
    var runnerPath: String?

    /// A check's verdict: a line of the report.
    enum Verdict: String {
        case ok = "ok  "
        case warn = "warn"
        case fail = "FAIL"
    }

    func run() throws {
        var verdicts: [Verdict] = []
        func say(_ verdict: Verdict, _ text: String) {
            verdicts.append(verdict)
            printLine(verdict.rawValue + "  " + text.escapingControlCharacters())
        }
        try reportingFailures { try place.refuseCluster(for: "doctor") }
        let spool = Spool.locate(place.spool)
        checkSpool(spool, say)
        checkLimits(spool, say)
        checkRunners(say)
        if verdicts.contains(.fail) { throw ExitCode(ProgramExit.failure) }
    }

    /// The layout, its owner and modes (as flowspoold would find them), and the supervisor.
    func checkSpool(_ spool: Spool, _ say: (Verdict, String) -> Void) {
        guard let root = try? FileSystem.status(spool.root, followLinks: false) else {
            say(.fail, "\(spool.root) does not exist: start flowspoold on it (./bin/flowspoold, or systemctl start flowspoold), or name another spool with --spool")
            return
        }
        // The way from / to it, as flowspoold checks it at every start.
        do {
            _ = try SpoolPath(spool.path)
            say(.ok, "\(spool.path): the way to it is root's and its owner's alone, with no symbolic link")
        } catch {
            say(.fail, "\(error)")
        }
        // A spool open to responders has its root group-searchable and owned by their group, and
        // its answers/ belongs to the gate's group.
        let responders = root.permissions.rawValue & 0o070 != 0 ? root.group : nil
        if responders != nil {
            let path = RunnerPath.default()
            if let gate = DropGate.installed(in: path) {
                say(.ok, "responders answer through \(gate)")
            } else {
                say(.fail, DropGate.notInstalled(in: path))
            }
        }
        let roles = SpoolRoles(responders: responders, gate: responders == nil ? nil : Group.id(named: DropGate.group))
        let problems = spool.layoutProblems(roles, owner: root.owner)
        for problem in problems {
            say(problem.severity == .warning ? .warn : .fail, problem.description)
        }
        if problems.isEmpty {
            let roles = responders.map { ", open to the responders' group \(Group.name(of: $0))" } ?? ""
            say(.ok, "\(spool.root): layout, owner (\(User.name(of: root.owner))) and modes as flowspool-spool(5) says\(roles)")
        }
        if User.effective != root.owner && User.effective != User.root {
            say(.warn, "you are \(User.name(of: User.effective)), not \(User.name(of: root.owner)), who owns the spool: only the owner and root may run and read executions")
        }
        switch spool.supervisorPresence {
        case .running: say(.ok, "a flowspoold supervises \(spool.root)")
        case .absent: say(.warn, "no flowspoold supervises \(spool.root): jobs wait in incoming/ until one starts (./bin/flowspoold, or systemctl start flowspoold)")
        case .unknown: say(.warn, "cannot tell whether a flowspoold supervises \(spool.root): its control FIFO is the owner's")
        }
    }

    /// inotify's limits, which every supervisor and parked execution uses, and the spool's disk.
    func checkLimits(_ spool: Spool, _ say: (Verdict, String) -> Void) {
        let instances = Inotify.limit("max_user_instances").flatMap { Int($0) } ?? 0
        let watches = Inotify.limit("max_user_watches").flatMap { Int($0) } ?? 0
        if instances < 128 || watches < 8192 {
            say(.warn, "inotify allows \(instances) instances and \(watches) watches per user; raise them: sysctl fs.inotify.max_user_instances=512 fs.inotify.max_user_watches=65536")
        } else {
            say(.ok, "inotify allows \(instances) instances and \(watches) watches per user")
        }
        guard let space = try? FileSystem.space(FileSystem.exists(spool.root) ? spool.root : FileSystem.currentDirectory()) else { return }
        let bytesLeft = space.totalBytes == 0 ? 1 : Double(space.availableBytes) / Double(space.totalBytes)
        let filesLeft = space.totalFiles == 0 ? 1 : Double(space.availableFiles) / Double(space.totalFiles)
        let summary = "\(space.availableBytes >> 20) MiB and \(space.availableFiles) inodes free on the spool's file system"
        if bytesLeft < 0.05 || filesLeft < 0.05 || space.availableBytes < 100 << 20 {
            say(.warn, summary + ": jobs wait in incoming/ while it is full; remove old executions with flowspool gc")
        } else {
            say(.ok, summary)
        }
    }

    /// Each built-in task type's runner on the runner path, started with --version, which fails
    /// when a C library it needs cannot be loaded; and the Python that flows need.
    func checkRunners(_ say: (Verdict, String) -> Void) {
        let directories = runnerPath.map(RunnerPath.parse) ?? RunnerPath.default()
        let path = directories.joined(separator: ":")
        for type in TaskType.builtIn {
            guard let runner = RunnerPath.runner(for: type, in: directories) else {
                say(.fail, "no \(TaskType.runnerPrefix + type) on the runner path (\(path)): \(type) jobs fail; install flowspool (bin/install) or give --runner-path")
                continue
            }
            guard let (status, output) = try? Spawn.capture(runner, arguments: ["--version"], withErrors: true, timeout: 10) else {
                say(.fail, "\(runner) cannot be started")
                continue
            }
            let lines = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
            let text = lines.first ?? ""
            if status == .exited(0) {
                say(.ok, "\(type): \(runner) (\(text))")
                // What else the runner says of itself (whose AWS models it reads, the libssh2 it
                // loads), as it finds things with doctor's environment.
                for detail in lines.dropFirst() {
                    let isWarning = detail.hasPrefix("warning: ")
                    say(isWarning ? .warn : .ok, "\(type): " + (isWarning ? String(detail.dropFirst(9)) : detail))
                }
                if type == "SSH", let library = lines.dropFirst().first { checkLibSSH2(library, say) }
            } else {
                say(.fail, "\(type): \(runner) \(status): \(text.isEmpty ? "no message" : text)" + (text.contains("shared librar") ? "; install the library's Debian package (see flowspool-install(8))" : ""))
            }
        }
        let searchPath = (Environment.value("PATH") ?? "/usr/bin:/bin").split(separator: ":")
        if let python = Environment.value("FLOWSPOOL_PYTHON") ?? searchPath.map({ $0 + "/python3" }).first(where: FileSystem.isExecutableFile) {
            say(.ok, "Python flows run with \(python)")
        } else {
            say(.warn, "no python3 on PATH: Python flows fail (install python3, or set FLOWSPOOL_PYTHON)")
        }
    }
}
