import InputTask
import TaskRunner

TaskRunner.main(taskType: InputTask.taskType, InputTask.run)
