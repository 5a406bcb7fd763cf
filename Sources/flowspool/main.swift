FlowspoolCommand.runCommandLine()
