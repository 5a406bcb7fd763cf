import Supervisor

SupervisorCommand.main()
