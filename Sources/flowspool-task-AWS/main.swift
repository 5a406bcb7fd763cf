import AWSTask
import TaskRunner

TaskRunner.main(taskType: AWSTask.taskType, prepare: AWSTask.prepare, versionDetails: AWSTask.versionDetails, AWSTask.run)
