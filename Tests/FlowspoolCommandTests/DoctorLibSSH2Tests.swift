import Basics
import FlowspoolTestSupport
import POSIX
import Spool
import Testing

/// What `flowspool doctor` says of the libssh2 the SSH runner loads (flowspool-tasks(7), SSH).
@Suite("flowspool doctor on the SSH runner's libssh2")
struct DoctorLibSSH2Tests {
    let test: TestSpool
    let scratch: TemporaryDirectory

    init() throws {
        test = try TestSpool()
        scratch = try TemporaryDirectory()
    }

    func doctor(runnerPath: String) throws -> [Substring] {
        try runProgram(TestEnvironment.program("flowspool"), ["doctor", "--spool", test.root, "--runner-path", runnerPath], timeout: 60)
            .standardOutput.split(separator: "\n")
    }

    @Test("doctor names the libssh2 the SSH runner loads, and one older than 1.11 with what sets up 1.11")
    func namesLibrary() throws {
        let lines = try doctor(runnerPath: TestEnvironment.binDirectory)
        #expect(lines.contains("ok    SSH: \(TestEnvironment.binDirectory)/flowspool-task-SSH (flowspool-task-SSH \(FlowspoolVersion.current))"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("ok    SSH: libssh2 \(SSHLibrary.version) from /") }, "\(lines)")
        let older = lines.filter { $0.hasPrefix("warn  SSH: libssh2 \(SSHLibrary.version) (") }
        if SSHLibrary.hasRSASHA2 {
            #expect(older.isEmpty)
        } else {
            #expect(older.count == 1 && older[0].hasSuffix(") signs and checks RSA keys only as ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse: ./bin/flowspoold and bin/install set up Debian 13's libssh2 1.11 for the SSH runner (flowspool-tasks(7), SSH)"), "\(lines)")
        }
    }

    /// An SSH runner that loads a copy of the system's libssh2 with the note bin/lib/libssh2.sh
    /// writes beside one it unpacked, as `unpacked`, and the archive's version recorded as `archived`.
    func unpacked(_ unpacked: String, archived: String) throws -> (runners: String, archive: String) {
        let library = scratch.path + "/lib"
        try FileSystem.ensureDirectory(library)
        let copied = try runProgram("/bin/cp", [try #require(SSHLibrary.path), library + "/libssh2.so.1"])
        #expect(copied.exitCode == 0, "\(copied.standardError)")
        let archive = try scratch.file("archive", "libssh2-1t64 \(archived)\n")
        try scratch.file("lib/flowspool-libssh2", "package: libssh2-1t64 \(unpacked)\narchive: \(archive)\nrefresh: cd /checkout && ./bin/flowspoold\n")
        try FileSystem.ensureDirectory(scratch.path + "/runners")
        try scratch.file("runners/flowspool-task-SSH", "#!/bin/sh\nLD_LIBRARY_PATH='\(library)' exec '\(TestEnvironment.program("flowspool-task-SSH"))' \"$@\"\n", mode: 0o755)
        return (scratch.path + "/runners", archive)
    }

    @Test("a libssh2 unpacked from Debian 13's archive: ok while the archive had none newer; a warning naming the command that refreshes it when it had, or when its index is a week old")
    func unpackedFromTheArchive() throws {
        let (runners, archive) = try unpacked("1.11.1-1+deb13u2", archived: "1.11.1-1+deb13u2")
        let current = try doctor(runnerPath: runners)
        #expect(current.contains("ok    SSH: libssh2-1t64 1.11.1-1+deb13u2 from Debian 13's archive, its newest when its index was fetched less than a day ago"), "\(current)")

        try scratch.file("archive", "libssh2-1t64 1.11.1-1+deb13u10\n")
        let newer = try doctor(runnerPath: runners)
        #expect(newer.contains("warn  SSH: Debian 13's archive has libssh2-1t64 1.11.1-1+deb13u10, newer than the 1.11.1-1+deb13u2 the SSH runner loads (its index fetched less than a day ago): run 'cd /checkout && ./bin/flowspoold', which fetches it"), "\(newer)")

        try scratch.file("archive", "libssh2-1t64 1.11.1-1+deb13u2\n")
        let touched = try runProgram("/usr/bin/touch", ["-d", "8 days ago", archive])
        #expect(touched.exitCode == 0)
        let old = try doctor(runnerPath: runners)
        #expect(old.contains("warn  SSH: Debian 13's index was last fetched 8 days ago, so a newer libssh2-1t64 may be out: run 'cd /checkout && ./bin/flowspoold', which fetches the index again, and the package if it is newer"), "\(old)")
    }
}
