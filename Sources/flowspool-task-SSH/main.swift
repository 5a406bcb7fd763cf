import SSHTask
import TaskRunner

TaskRunner.main(taskType: SSHTask.taskType, SSHTask.run)
