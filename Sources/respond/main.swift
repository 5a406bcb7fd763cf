import RespondCommand

RespondCommand.main()
