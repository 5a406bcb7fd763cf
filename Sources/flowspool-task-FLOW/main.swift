import FlowTask
import TaskRunner

TaskRunner.main(taskType: FlowTask.taskType, FlowTask.run)
