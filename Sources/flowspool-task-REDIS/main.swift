import RedisTask
import TaskRunner

TaskRunner.main(taskType: RedisTask.taskType, RedisTask.run)
