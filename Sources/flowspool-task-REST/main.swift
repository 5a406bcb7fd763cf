import RESTTask
import TaskRunner

TaskRunner.main(taskType: RESTTask.taskType, prepare: RESTTask.prepare, RESTTask.run)
