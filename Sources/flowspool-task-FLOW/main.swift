import FlowTask
import TaskRunner

TaskRunner.main(taskType: FlowTask.taskType, prepare: PythonInterpreter.prepare, FlowTask.run)
