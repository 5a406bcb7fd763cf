import POSIX

/// Finds the real python3 for Python flows. A version manager's shim in front of python3 costs about
/// 100 ms a start against 10 ms for the real binary, so a shim is asked for the interpreter behind
/// it: by a FLOW runner started to be reused before its first execution comes, else by the runner that needs it.
/// $FLOWSPOOL_PYTHON, when set, is used as it is.
public enum PythonInterpreter {
    public static let variable = "FLOWSPOOL_PYTHON"

    /// The real python3 binary behind PATH, or nil when there is none.
    public static func find() -> String? {
        if let python = Environment.value(variable), !python.isEmpty { return python }
        let path = Environment.value("PATH") ?? "/usr/bin:/bin"
        guard let candidate = path.split(separator: ":").map({ $0 + "/python3" }).first(where: FileSystem.isExecutableFile)
        else { return nil }
        guard !isELF(candidate) else { return candidate }
        return (try? askForExecutable(candidate)) ?? candidate
    }

    static func isELF(_ path: String) -> Bool {
        guard let fd = try? FileDescriptor.open(path, .readOnly) else { return false }
        defer { try? fd.close() }
        return (try? fd.read(upTo: 4)) == [0x7f, 0x45, 0x4c, 0x46]
    }

    /// Found ahead of need (`prepare`), for the executions a reused runner is handed.
    nonisolated(unsafe) static var found: String?

    /// Work a FLOW runner started to be reused does before its first execution arrives.
    public static func prepare() {
        found = find()
    }

    static func askForExecutable(_ python: String) throws -> String? {
        let (status, output) = try Spawn.capture(python, arguments: ["-c", "import sys; print(sys.executable)"], limit: 4096, timeout: 30)
        var answer = String(decoding: output, as: UTF8.self)
        while answer.last?.isNewline == true { answer.removeLast() }
        guard status == .exited(0), FileSystem.isExecutableFile(answer) else { return nil }
        return answer
    }
}
