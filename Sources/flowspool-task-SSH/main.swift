import SSHTask
import TaskRunner

TaskRunner.main(taskType: SSHTask.taskType, prepare: SSHTask.prepare, versionDetail: SSHTask.libraryDescription, SSHTask.run)
