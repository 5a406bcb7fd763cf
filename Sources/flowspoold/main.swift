SupervisorCommand.main()
