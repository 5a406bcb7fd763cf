import FlowspoolCommand

FlowspoolCommand.main()
