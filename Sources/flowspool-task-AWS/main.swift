import AWSTask
import TaskRunner

TaskRunner.main(taskType: AWSTask.taskType, prepare: AWSTask.prepare, AWSTask.run)
