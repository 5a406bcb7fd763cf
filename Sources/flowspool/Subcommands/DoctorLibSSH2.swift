import POSIX

/// The libssh2 the SSH runner loads, as its `--version` names it on its second line:
/// "libssh2 1.11.1 from /path/libssh2.so.1".
struct LoadedLibSSH2 {
    let version: String
    let path: String

    init?(versionLine: String) {
        guard versionLine.hasPrefix("libssh2 ") else { return nil }
        let rest = versionLine.dropFirst(8)
        guard let from = rest.firstRange(of: " from "), from.lowerBound > rest.startIndex else { return nil }
        version = String(rest[..<from.lowerBound])
        path = String(rest[from.upperBound...])
    }

    /// Whether it signs and checks RSA keys with SHA-2 (rsa-sha2-256, -512): 1.11 and later.
    var hasRSASHA2: Bool {
        let parts = version.split(separator: ".").map { Int($0) ?? 0 }
        return parts.count >= 2 && (parts[0], parts[1]) >= (1, 11)
    }

    /// The note that bin/lib/libssh2.sh (or bin/install) writes beside a libssh2 it unpacked from
    /// Debian 13's archive: `package: libssh2-1t64 VERSION`, `archive: FILE` (the archive's
    /// version when its index was last fetched, the file as old as that fetch), `refresh: COMMAND`
    /// (the shell command that fetches them again: `cd CHECKOUT && ./bin/flowspoold`).
    struct Note {
        let package: String
        let version: String
        let archive: String
        let refresh: String
    }

    var note: Note? {
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        guard let text = (try? FileSystem.readText(directory + "/flowspool-libssh2")) ?? nil else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstRange(of: ": ") else { continue }
            fields[String(line[..<colon.lowerBound])] = String(line[colon.upperBound...])
        }
        let package = (fields["package"] ?? "").split(separator: " ").map(String.init)
        guard package.count == 2, let archive = fields["archive"], let refresh = fields["refresh"] else { return nil }
        return Note(package: package[0], version: package[1], archive: archive, refresh: refresh)
    }
}

extension Doctor {
    /// An index older than this many days may miss a newer libssh2 (a security update).
    static let libSSH2IndexDays = 7

    /// What the SSH runner's libssh2 lacks, and, for one unpacked from Debian 13's archive, whether
    /// the archive had a newer one when its index was last fetched: offline, from the note beside
    /// the library and the version recorded then (flowspool-tasks(7), SSH).
    func checkLibSSH2(_ versionLine: String, _ say: (Verdict, String) -> Void) {
        guard let loaded = LoadedLibSSH2(versionLine: versionLine) else { return }
        if !loaded.hasRSASHA2 {
            say(.warn, "SSH: libssh2 \(loaded.version) (\(loaded.path)) signs and checks RSA keys only as ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse: ./bin/flowspoold and bin/install set up Debian 13's libssh2 1.11 for the SSH runner (flowspool-tasks(7), SSH)")
        }
        guard let note = loaded.note else { return }
        let unpacked = "\(note.package) \(note.version)"
        guard let recorded = (try? FileSystem.readText(note.archive)) ?? nil,
              let archived = recorded.split(whereSeparator: \.isWhitespace).dropFirst().first.map(String.init),
              let fetched = try? FileSystem.status(note.archive)?.modificationTime else {
            say(.ok, "SSH: \(unpacked) from Debian 13's archive, not compared with the archive's: \(note.archive) is gone")
            return
        }
        let days = Int((Clock.now() - fetched) / 86_400)
        let when = days == 0 ? "less than a day ago" : days == 1 ? "a day ago" : "\(days) days ago"
        if Self.isNewer(archived, than: note.version) {
            say(.warn, "SSH: Debian 13's archive has \(note.package) \(archived), newer than the \(note.version) the SSH runner loads (its index fetched \(when)): run '\(note.refresh)', which fetches it")
        } else if days >= Self.libSSH2IndexDays {
            say(.warn, "SSH: Debian 13's index was last fetched \(when), so a newer \(note.package) may be out: run '\(note.refresh)', which fetches the index again, and the package if it is newer")
        } else {
            say(.ok, "SSH: \(unpacked) from Debian 13's archive, its newest when its index was fetched \(when)")
        }
    }

    /// Whether Debian version `a` is later than `b`, as dpkg --compare-versions says; without dpkg,
    /// whether they differ (the archive's is the newest it has).
    static func isNewer(_ a: String, than b: String) -> Bool {
        let dpkg = "/usr/bin/dpkg"
        guard FileSystem.isExecutableFile(dpkg),
              let (status, _) = try? Spawn.capture(dpkg, arguments: ["--compare-versions", a, "gt", b], timeout: 10) else { return a != b }
        return status == .exited(0)
    }
}
