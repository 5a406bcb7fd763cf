import FlowspoolCommand

FlowspoolCommand.runCommandLine()
