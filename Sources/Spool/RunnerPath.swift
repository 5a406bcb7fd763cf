import POSIX

/// Where flowspoold looks for `flowspool-task-TYPE` runners (flowspoold(8), --runner-path), which
/// `flowspool doctor` checks too.
public enum RunnerPath {
    /// $FLOWSPOOL_RUNNER_PATH, else the directory the program itself is in (a build directory) and
    /// ../libexec/flowspool beside it when there is one (where bin/install puts the runners:
    /// PREFIX/bin/flowspoold finds PREFIX/libexec/flowspool).
    public static func `default`() -> [String] {
        if let path = Environment.value("FLOWSPOOL_RUNNER_PATH"), !path.isEmpty {
            return parse(path)
        }
        let own = ownDirectory()
        let prefix = own.hasSuffix("/bin") ? String(own.dropLast(4)) : own + "/.."
        let installed = prefix + "/libexec/flowspool"
        return FileSystem.exists(installed) ? [own, installed] : [own]
    }

    /// The directories of a colon-separated path, made absolute: runners start in their execution
    /// directory, where a relative path would mean something else.
    public static func parse(_ path: String) -> [String] {
        let cwd = FileSystem.currentDirectory()
        return path.split(separator: ":").map { $0.hasPrefix("/") ? String($0) : cwd + "/" + $0 }
    }

    /// The runner of task type `task`: the first executable flowspool-task-TASK in `directories`.
    public static func runner(for task: String, in directories: [String]) -> String? {
        directories.lazy.map { $0 + "/" + TaskType.runnerPrefix + task }.first(where: FileSystem.isExecutableFile)
    }

    public static func ownDirectory() -> String {
        let executable = (try? FileSystem.realPath("/proc/self/exe")) ?? "."
        return String(executable[..<(executable.lastIndex(of: "/") ?? executable.endIndex)])
    }
}
