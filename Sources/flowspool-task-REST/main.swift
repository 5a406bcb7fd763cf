import RESTTask
import TaskRunner

TaskRunner.main(taskType: RESTTask.taskType, RESTTask.run)
