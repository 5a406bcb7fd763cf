import DropGate
import POSIX

// flowspool-drop SPOOL answer ID: the setgid gate into a spool's answers/ (DropGate, respond(1)).
CurrentProcess.openStandardDescriptors()
CurrentProcess.exit(DropGate.main(Array(CommandLine.arguments.dropFirst())))
