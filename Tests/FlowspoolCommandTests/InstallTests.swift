#if canImport(Glibc)
import Glibc
#endif
import FlowspoolTestSupport
import JSON
import POSIX
import Spool
import Testing

/// bin/install, bin/uninstall and the bin/ wrappers, as a new user and cron meet them
/// (flowspool-install(8)).
@Suite("installing flowspool")
struct InstallTests {
    let scratch: TemporaryDirectory
    let http = TestEnvironment.httpURL
    var prefix: String { scratch.path + "/prefix" }

    init() throws {
        scratch = try TemporaryDirectory()
    }

    func script(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try runProgram(TestEnvironment.packageRoot + "/bin/" + name, arguments, environment: environment, timeout: 120)
    }

    /// A program of the installed tree, run with nothing of the checkout on PATH or in the environment.
    func installed(_ arguments: [String]) throws -> CommandResult {
        try runProgram("/usr/bin/env", ["-i", "PATH=\(prefix)/bin:/usr/bin:/bin", "HOME=\(scratch.path)"] + arguments, timeout: 60)
    }

    @Test("bin/install puts programs, runners, man pages, completions and units under a prefix; from there a REST job and a flow run; bin/uninstall removes exactly that")
    func installRunUninstall() throws {
        try FileSystem.ensureDirectory(prefix, mode: 0o755)
        try FileSystem.ensureDirectory(prefix + "/bin", mode: 0o755)
        try FileSystem.writeFile(prefix + "/bin/someone-elses", Array("keep me\n".utf8))
        // Without $SHELL, as from cron or CI: each completion is still for its own shell.
        let install = try runProgram(
            "/usr/bin/env", ["-u", "SHELL", "FLOWSPOOL_BIN=" + TestEnvironment.binDirectory, TestEnvironment.packageRoot + "/bin/install", "--prefix", prefix],
            timeout: 120)
        #expect(install.exitCode == 0, "\(install.standardError)")
        for file in [
            "bin/flowspool", "bin/flowspoold", "bin/respond", "libexec/flowspool/flowspool-task-REST", "libexec/flowspool/flowspool-task-FLOW",
            "share/man/man1/flowspool.1", "share/man/man5/flowspool-spool.5", "share/man/man7/flowspool-tasks.7", "share/man/man8/flowspoold.8",
            "share/bash-completion/completions/flowspool", "share/zsh/site-functions/_flowspool", "share/fish/vendor_completions.d/flowspool.fish",
            "lib/systemd/system/flowspoold.service", "lib/systemd/user/flowspoold.service",
            "lib/sysusers.d/flowspool.conf", "lib/tmpfiles.d/flowspool.conf",
        ] {
            #expect(FileSystem.exists(prefix + "/" + file), "\(file) is not installed")
        }
        for (file, opening) in [
            "share/bash-completion/completions/respond": "#!/bin/bash", "share/zsh/site-functions/_respond": "#compdef respond",
            "share/fish/vendor_completions.d/respond.fish": "function __respond_",
        ] {
            let script = try FileSystem.readText(prefix + "/" + file) ?? ""
            #expect(script.hasPrefix(opening), "\(file) is not a completion for its shell: \(script.prefix(80))")
        }
        let unit = try #require(try FileSystem.readText(prefix + "/lib/systemd/system/flowspoold.service"))
        #expect(unit.contains("ExecStart=\(prefix)/bin/flowspoold --spool /var/spool/flowspool\n"))
        let verified = try runProgram(
            "/usr/bin/systemd-analyze", ["verify", prefix + "/lib/systemd/system/flowspoold.service"], environment: ["MANPATH": prefix + "/share/man"])
        #expect(verified.exitCode == 0, "systemd-analyze verify: \(verified.standardError)")
        let manual = try runProgram("/usr/bin/man", ["-w", "flowspool"], environment: ["MANPATH": prefix + "/share/man"])
        #expect(manual.standardOutput == prefix + "/share/man/man1/flowspool.1\n")

        let spool = scratch.path + "/spool"
        let supervisor = try StartedProgram(
            "/usr/bin/env", ["-i", "PATH=/usr/bin:/bin", prefix + "/bin/flowspoold", "--spool", spool])
        defer {
            kill(supervisor.pid, SIGTERM)
            _ = try? supervisor.finish(within: 10)
        }
        try waitUntil("the installed flowspoold supervises \(spool)", timeout: 10) { Spool(root: spool).hasSupervisor }
        let rest = try installed(["flowspool", "run", "--spool", spool, "REST", "url=\(http)/echo"])
        #expect(rest.exitCode == 0, "\(rest.standardError)")
        #expect(try JSON(parsing: rest.standardOutput)["status_code"] == 200)
        let flow = try scratch.file("flow.py", "def handler(c):\n    c.setOutput('code', c.task('REST', url='\(http)/echo').run().getOutputs()['status_code'])\n")
        let ranFlow = try installed(["flowspool", "run", "--spool", spool, "FLOW", "script=\(flow)"])
        #expect(ranFlow.exitCode == 0, "\(ranFlow.standardError)")
        #expect(try JSON(parsing: ranFlow.standardOutput)["code"] == 200)

        let uninstall = try script("uninstall", ["--prefix", prefix])
        #expect(uninstall.exitCode == 0, "\(uninstall.standardError)")
        #expect(try FileSystem.listDirectory(prefix).sorted() == ["bin"])
        #expect(try FileSystem.listDirectory(prefix + "/bin") == ["someone-elses"])
    }

    @Test("the bin/ wrappers never build from cron or with --no-build: they run the binaries there are, or say how to get them")
    func wrappersNeverBuildFromCron() throws {
        let binaries = scratch.path + "/bin"
        try FileSystem.ensureDirectory(binaries, mode: 0o755)
        // Stand-ins older than every source file, so that a wrapper that looked at a terminal would build.
        for program in ["flowspoold", "flowspool", "respond"] + ["REST", "FLOW", "INPUT", "SSH", "REDIS", "SMTP", "AWS"].map({ "flowspool-task-" + $0 }) {
            try FileSystem.writeFile(binaries + "/" + program, Array("#!/bin/sh\necho \"stand-in $0 $*\"\n".utf8), mode: 0o755)
            _ = try runProgram("/usr/bin/touch", ["-d", "2001-01-01", binaries + "/" + program])
        }
        let fromCron = try script("flowspool", ["list"], environment: ["FLOWSPOOL_BIN": binaries])
        #expect(fromCron.exitCode == 0, "\(fromCron.standardError)")
        #expect(fromCron.standardOutput == "stand-in \(binaries)/flowspool list\n")
        #expect(fromCron.standardError.isEmpty)
        let noBuild = try script("respond", ["--no-build", "id", "yes"], environment: ["FLOWSPOOL_BIN": binaries])
        #expect(noBuild.standardOutput == "stand-in \(binaries)/respond id yes\n")
        let missing = try script("flowspool", ["--no-build", "list"], environment: ["FLOWSPOOL_BIN": scratch.path + "/nothing"])
        #expect(missing.exitCode == 1)
        #expect(missing.standardError.contains("no release build in \(scratch.path)/nothing: run ./bin/flowspoold once (it builds), or install with bin/install"))
    }
}
