import POSIX
import Spool

/// The daily cleanup (flowspoold --gc-older-than): a `flowspool gc` process from flowspoold's own
/// directory, so that removing thousands of directories never holds up the supervisor's loop.
extension Supervisor {
    func startCleanup() {
        guard let cleanup = options.cleanup else { return }
        nextCleanup = Clock.monotonic() + options.cleanupInterval
        let program = RunnerPath.ownDirectory() + "/flowspool"
        let arguments = ["gc", "--spool", spool.path, "--older-than", cleanup.olderThan] + (cleanup.archive.map { ["--archive", $0] } ?? [])
        do {
            var spawn = Spawn.Options(directory: spool.root, environment: Environment.current())
            spawn.descriptors = [2: .standardError]
            spawn.fromNull = [0, 1]
            cleanupProcess = try Spawn.run(program, arguments: arguments, options: spawn)
            log.line("cleanup: \(([program] + arguments).joined(separator: " ")) (pid \(cleanupProcess!))")
        } catch {
            log.line("cannot start the cleanup \(program) (tried again in \(Clock.describeDuration(options.cleanupInterval))): \(error)")
        }
    }

    /// Notes the end of a reaped child that was no runner, when it was the cleanup: a failure is logged.
    func cleanupEnded(_ pid: ProcessID, _ exitStatus: ExitStatus) {
        guard pid == cleanupProcess else { return }
        cleanupProcess = nil
        if exitStatus != .exited(0) { log.line("cleanup (pid \(pid)) \(exitStatus); see its messages above") }
    }
}
