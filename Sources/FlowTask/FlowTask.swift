import Basics
import JSON
import POSIX
import Spool
import TaskRunner

/// The FLOW task: runs a flow script whose requests (child tasks, waits, logs, outputs, settings)
/// this runner serves. See flowspool-flows(7).
public enum FlowTask {
    public static let taskType = "FLOW"

    public static func run(_ inputs: inout TaskInputs, context: TaskContext) throws(TaskFailure) -> TaskResult {
        let scriptInput = try inputs.requiredString("script")
        let flowInputs = try inputs.dictionary("inputs") ?? [:]
        let interpreter = try inputs.string("interpreter")
        try inputs.rejectUnknown()
        if let interpreter, interpreter.isEmpty || interpreter.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\0" }) {
            throw TaskFailure("interpreter must name one program (python3, sh, /bin/bash), not '\(interpreter.escapingControlCharacters())'")
        }
        let script = try FlowScript.resolve(scriptInput, interpreter: interpreter, execution: context.execution)
        switch script {
        case .python(let path):
            let python = if let interpreter { interpreter } else { try locatePython() }
            return try FlowHost(context: context, inputs: flowInputs).runPython(python, script: path)
        case .executable(let path):
            return try ShellFlow.run(path, context: context)
        }
    }
}

/// The Python for flows: found before the execution came on a reused runner, else now.
func locatePython() throws(TaskFailure) -> String {
    guard let python = PythonInterpreter.found ?? PythonInterpreter.find() else {
        throw TaskFailure("no python3 on PATH for the Python flow (or give the interpreter input)")
    }
    return python
}
