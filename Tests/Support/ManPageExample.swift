import POSIX

/// The examples of the man pages, read from man/ as the reader sees them, so that the tests run
/// exactly what is documented.
public enum ManPageExample {
    /// The first literal display (`.Bd -literal` to `.Ed`) after the line that names `marker` in
    /// `page` (a file in man/), with mdoc's `\e` turned back into a backslash.
    public static func display(after marker: String, in page: String) throws -> String {
        let path = TestEnvironment.manPage(page)
        guard let text = try FileSystem.readText(path) else { throw SystemError("open", path: path, errno: .noSuchFileOrDirectory) }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let markerLine = lines.firstIndex(where: { $0.contains(marker) }),
              let start = lines[markerLine...].firstIndex(where: { $0.hasPrefix(".Bd -literal") }),
              let end = lines[start...].firstIndex(where: { $0 == ".Ed" }) else {
            throw SystemError("read", path: path, errno: .invalidArgument, reason: "no literal display after '\(marker)'")
        }
        return lines[(start + 1)..<end].joined(separator: "\n").replacing("\\e", with: "\\") + "\n"
    }
}
