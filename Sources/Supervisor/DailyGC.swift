import POSIX
import Spool

/// The daily gc (flowspoold --gc-older-than): a `flowspool gc` process from flowspoold's own
/// directory, so that removing thousands of directories never holds up the supervisor's loop.
extension Supervisor {
    func startDailyGC() {
        guard let gc = options.dailyGC else { return }
        nextGC = Clock.monotonic() + options.gcInterval
        let program = RunnerPath.ownDirectory() + "/flowspool"
        let arguments = ["gc", "--spool", spool.path, "--older-than", gc.olderThan] + (gc.archive.map { ["--archive", $0] } ?? [])
        do {
            var spawn = Spawn.Options(directory: spool.root, environment: Environment.current())
            spawn.descriptors = [2: .standardError]
            spawn.fromNull = [0, 1]
            gcProcess = try Spawn.run(program, arguments: arguments, options: spawn)
            log.line("gc: \(([program] + arguments).joined(separator: " ")) (pid \(gcProcess!))")
        } catch {
            log.line("cannot start the daily gc \(program) (tried again in \(Clock.describeDuration(options.gcInterval))): \(error)")
        }
    }

    /// Notes the end of a reaped child that was no runner, when it was the daily gc: a failure is logged.
    func gcEnded(_ pid: ProcessID, _ exitStatus: ExitStatus) {
        guard pid == gcProcess else { return }
        gcProcess = nil
        if exitStatus != .exited(0) { log.line("gc (pid \(pid)) \(exitStatus); see its messages above") }
    }
}
