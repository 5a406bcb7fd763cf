import SMTPTask
import TaskRunner

TaskRunner.main(taskType: SMTPTask.taskType, prepare: SMTPTask.prepare, SMTPTask.run)
