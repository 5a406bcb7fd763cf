import SSHTask
import TaskRunner

TaskRunner.main(taskType: SSHTask.taskType, prepare: SSHTask.prepare, versionDetails: { [SSHTask.libraryDescription()] }, SSHTask.run)
