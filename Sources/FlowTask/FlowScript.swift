import JSON
import POSIX
import Spool
import TaskRunner

/// The script a FLOW execution runs, from its `script` input: a path, or Python source.
enum FlowScript {
    /// A Python flow (`def handler(c)` or `def handler(system, this)`), run through the stub.
    case python(path: String)
    /// Any other executable: a shell flow, run as it is.
    case executable(path: String)

    /// Reads the `script` input. A value with a newline, or one that names no file and does not look
    /// like a path, is Python source: it is written to the execution directory as `script.py`.
    static func resolve(_ value: String, execution: Execution) throws(TaskFailure) -> FlowScript {
        if !value.contains("\n") && (FileSystem.exists(value) || looksLikePath(value)) {
            guard let info = try? FileSystem.status(value), info.isRegularFile else {
                throw TaskFailure("flow script \(value) does not exist")
            }
            if value.hasSuffix(".py") { return .python(path: value) }
            guard FileSystem.isExecutableFile(value) else {
                throw TaskFailure("flow script \(value) is neither Python (.py) nor executable")
            }
            return .executable(path: value)
        }
        let path = execution.directory + "/script.py"
        do {
            try execution.spool.commit(value, to: path, mode: 0o600)
        } catch {
            throw TaskFailure("cannot write the flow script to \(path): \(error)")
        }
        return .python(path: path)
    }

    static func looksLikePath(_ value: String) -> Bool {
        value.hasPrefix("/") || value.hasPrefix("./") || value.hasPrefix("../") || value.hasSuffix(".py")
            || value.hasSuffix(".sh")
    }
}
