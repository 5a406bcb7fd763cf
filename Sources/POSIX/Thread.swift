#if canImport(Glibc)
import Glibc
#endif

/// Detached threads, for the few blocking waits that have no descriptor to poll (a blocking flock,
/// a blocking Redis client). A thread takes no signals: they are the main thread's, which reads
/// them from a signalfd; a thread that took SIGCHLD would swallow a runner's end.
public enum Threads {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    public static func detach(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            var all = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_BLOCK, &all, nil)
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            box.body()
            return nil
        }, context)
        if result != 0 {
            Unmanaged<Box>.fromOpaque(context).release()
            throw SystemError("pthread_create", errno: Errno(rawValue: result))
        }
        pthread_detach(thread)
    }
}
