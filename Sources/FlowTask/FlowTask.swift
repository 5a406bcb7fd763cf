#if canImport(Glibc)
import Glibc
#endif
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
        let script = try FlowScript.resolve(scriptInput, execution: context.execution)
        switch script {
        case .python(let path):
            let python = if let interpreter { interpreter } else { try locatePython() }
            return try FlowHost(context: context, inputs: flowInputs).runPython(python, script: path)
        case .executable(let path):
            return try ShellFlow.run(path, context: context)
        }
    }
}

/// The Python for flows: $FLOWSPOOL_PYTHON, which flowspoold finds once for its runners, else python3
/// found on PATH now.
func locatePython() throws(TaskFailure) -> String {
    if let python = Environment.value(PythonInterpreter.variable), !python.isEmpty { return python }
    guard let python = PythonInterpreter.find() else {
        throw TaskFailure("no python3 on PATH for the Python flow (or give the interpreter input)")
    }
    return python
}
