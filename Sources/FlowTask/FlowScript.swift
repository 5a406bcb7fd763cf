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
    /// like a path, is source: a shell flow's when it starts with `#!` or `interpreter` names a
    /// program other than a Python (`sh`, `/bin/bash`), written to the execution directory as
    /// `script`; otherwise Python's, written there as `script.py`. Nothing is guessed from the text.
    static func resolve(_ value: String, interpreter: String?, execution: Execution) throws(TaskFailure) -> FlowScript {
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
        if value.hasPrefix("#!") {
            return .executable(path: try write(value, as: "script", mode: 0o700, in: execution))
        }
        if let interpreter, !isPython(interpreter) {
            let program = interpreter.hasPrefix("/") ? interpreter : "/usr/bin/env " + interpreter
            return .executable(path: try write("#!\(program)\n" + value, as: "script", mode: 0o700, in: execution))
        }
        return .python(path: try write(value, as: "script.py", mode: 0o600, in: execution))
    }

    /// Whether an `interpreter` input names a Python (python3, /usr/bin/python3.11), which runs a
    /// flow through the stub, rather than a shell.
    static func isPython(_ interpreter: String) -> Bool {
        (interpreter.split(separator: "/").last ?? "").hasPrefix("python")
    }

    /// Writes the script into the execution directory and returns its path from there, where the
    /// runner runs and starts the flow: the runner reaches the directory through the spool's root
    /// its supervisor handed down (/proc/self/fd/N), which the flow's own programs do not inherit.
    static func write(_ source: String, as name: String, mode: FilePermissions, in execution: Execution) throws(TaskFailure) -> String {
        let path = execution.directory + "/" + name
        do {
            try execution.spool.write(source, to: path, mode: mode)
        } catch {
            throw TaskFailure(execution.spool.shown("cannot write the flow script to \(path): \(error)"))
        }
        return "./" + name
    }

    static func looksLikePath(_ value: String) -> Bool {
        value.hasPrefix("/") || value.hasPrefix("./") || value.hasPrefix("../") || value.hasSuffix(".py")
            || value.hasSuffix(".sh")
    }
}
