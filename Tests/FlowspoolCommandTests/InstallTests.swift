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
        // The AWS runner reads the models bin/install copied from the checkout's botocore.
        let models = try installed([prefix + "/libexec/flowspool/flowspool-task-AWS", "--version"])
        #expect(models.standardOutput.contains(" models in \(prefix)/share/flowspool/botocore/data\n"), "\(models.standardOutput)")

        let uninstall = try script("uninstall", ["--prefix", prefix])
        #expect(uninstall.exitCode == 0, "\(uninstall.standardError)")
        #expect(try FileSystem.listDirectory(prefix).sorted() == ["bin"])
        #expect(try FileSystem.listDirectory(prefix + "/bin") == ["someone-elses"])
    }

    /// The other user of these tests: she may write where a test lets her, and plants what she can.
    var attacker: String { TestEnvironment.responder }

    func install(prefix: String) throws -> CommandResult {
        try script("install", ["--prefix", prefix], environment: ["FLOWSPOOL_BIN": TestEnvironment.binDirectory])
    }

    func uninstall(prefix: String) throws -> CommandResult {
        try script("uninstall", ["--prefix", prefix])
    }

    /// A file only root may read or write, outside every prefix: what a planted manifest names.
    func rootOnlyFile() throws -> String {
        try scratch.file("root-only", "keep me\n", mode: 0o600)
    }

    func chown(_ path: String, to user: String) throws {
        let uid = try #require(getpwnam(user)).pointee.pw_uid
        #expect(Glibc.chown(path, uid, gid_t.max) == 0)
    }

    @Test("under a prefix others may write, another user plants a manifest naming a root-only file: bin/install and bin/uninstall refuse the prefix, and the file stays")
    func plantedManifestInWritablePrefix() throws {
        let victim = try rootOnlyFile()
        try FileSystem.changeMode(scratch.path, 0o711)
        try FileSystem.makeDirectory(prefix, mode: 0o700)
        try FileSystem.changeMode(prefix, 0o777)
        let planted = try runShell(as: attacker, "mkdir -p \(prefix)/share/flowspool && echo 'file \(victim)' >\(prefix)/share/flowspool/manifest")
        #expect(planted.exitCode == 0, "\(planted.standardError)")
        for result in [try install(prefix: prefix), try uninstall(prefix: prefix)] {
            #expect(result.exitCode == 1, "\(result)")
            #expect(result.standardError.contains("refused \(prefix) (owned by root, mode 777): group or others may write in it"), "\(result.standardError)")
            #expect(try FileSystem.readText(victim) == "keep me\n", "\(victim) was removed")
        }
        #expect(!FileSystem.exists(prefix + "/bin"), "bin/install installed into a prefix others may write")
    }

    @Test("a manifest another user owns, or may write, is not trusted: bin/install and bin/uninstall refuse it, naming it, and the root-only file it names stays")
    func manifestOthersMayWrite() throws {
        let victim = try rootOnlyFile()
        try FileSystem.changeMode(scratch.path, 0o711)
        for directory in [prefix, prefix + "/share", prefix + "/share/flowspool"] { try FileSystem.makeDirectory(directory, mode: 0o755) }
        let manifest = prefix + "/share/flowspool/manifest"
        for (mode, owner, why) in [(0o644 as FilePermissions, attacker, "it belongs to \(attacker)"), (0o666, "root", "group or others may write it")] {
            try FileSystem.writeFile(manifest, [], mode: mode)
            try FileSystem.changeMode(manifest, mode)
            try chown(manifest, to: owner)
            let planted = try runShell(as: attacker, "echo 'file \(victim)' >>\(manifest)")
            #expect(planted.exitCode == 0, "\(planted.standardError)")
            for result in [try install(prefix: prefix), try uninstall(prefix: prefix)] {
                #expect(result.exitCode == 1, "\(result)")
                #expect(result.standardError.contains("refused the manifest \(manifest) (owned by \(owner), mode \(mode.octal)): \(why)"), "\(result.standardError)")
                #expect(try FileSystem.readText(victim) == "keep me\n", "\(victim) was removed")
            }
            try FileSystem.unlink(manifest)
        }
    }

    @Test("bin/install and bin/uninstall never remove a file the manifest names outside the prefix, however it is spelled, nor a tree but the AWS models'")
    func manifestNamesOutsideThePrefix() throws {
        let victim = try rootOnlyFile()
        for directory in [prefix, prefix + "/share", prefix + "/share/flowspool"] { try FileSystem.makeDirectory(directory, mode: 0o755) }
        let manifest = prefix + "/share/flowspool/manifest"
        for named in [victim, prefix + "/share/../../root-only"] {
            try FileSystem.writeFile(manifest, Array("file \(named)\n".utf8), mode: 0o644)
            for result in [try uninstall(prefix: prefix), try install(prefix: prefix)] {
                #expect(result.exitCode == 1, "\(result)")
                #expect(result.standardError.contains("refused the manifest \(manifest): it names \(named), outside \(prefix)"), "\(result.standardError)")
                #expect(try FileSystem.readText(victim) == "keep me\n", "\(victim) was removed")
            }
        }
        // A tree, which bin/uninstall removes whole, only where bin/install puts the AWS models.
        for named in [scratch.path, prefix + "/share/flowspool/../botocore"] {
            try FileSystem.writeFile(manifest, Array("tree \(named)\n".utf8), mode: 0o644)
            for result in [try uninstall(prefix: prefix), try install(prefix: prefix)] {
                #expect(result.exitCode == 1, "\(result)")
                #expect(result.standardError.contains("refused the manifest \(manifest): its line 'tree \(named)' is neither"), "\(result.standardError)")
                #expect(try FileSystem.readText(victim) == "keep me\n", "\(victim) was removed")
            }
        }
    }

    @Test("bin/install refuses a prefix under a directory others may write (and not sticky), naming it, and creates nothing")
    func prefixUnderWritableDirectory() throws {
        let open = scratch.path + "/open"
        try FileSystem.makeDirectory(open, mode: 0o700)
        try FileSystem.changeMode(open, 0o777)
        let result = try install(prefix: open + "/prefix")
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.standardError.contains("refused \(open) (owned by root, mode 777): group or others may write in it"), "\(result.standardError)")
        #expect(try FileSystem.listDirectory(open).isEmpty)
    }

    @Test("bin/install refuses a share/ another user owns under the prefix, and installs no completion there")
    func shareOfAnotherUser() throws {
        try FileSystem.makeDirectory(prefix, mode: 0o755)
        try FileSystem.makeDirectory(prefix + "/share", mode: 0o755)
        try chown(prefix + "/share", to: attacker)
        let result = try install(prefix: prefix)
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.standardError.contains("refused \(prefix)/share (owned by \(attacker), mode 755): it belongs to \(attacker), neither root nor you"), "\(result.standardError)")
        #expect(try FileSystem.listDirectory(prefix + "/share").isEmpty, "bin/install wrote into \(attacker)'s share/")
    }

    @Test("the bin/ wrappers never build from cron or with --no-build: they run the binaries there are, or say how to get them")
    func wrappersNeverBuildFromCron() throws {
        let binaries = scratch.path + "/bin"
        try FileSystem.ensureDirectory(binaries, mode: 0o755)
        // Stand-ins older than every source file, so that a wrapper that looked at a terminal would build.
        for program in ["flowspoold", "flowspool", "respond", "flowspool-drop"] + TaskType.builtIn.map({ TaskType.runnerPrefix + $0 }) {
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
