/// A capped exponential back-off for something that keeps failing: 1 s, 2 s, 4 s ... up to a minute.
/// What flowspoold waits between tries of what a full disk or a lack of descriptors refused, and
/// what a runner waits between tries of an end the disk refused (flowspool-spool(5), "Back-off").
public struct Backoff: Sendable {
    /// When to try again (monotonic seconds); 0 before the first failure.
    public private(set) var nextTry = 0.0
    private var delay = 0.0
    public static let first = 1.0
    public static let longest = 60.0

    public init() {}

    public mutating func fail(at now: Double) {
        delay = delay == 0 ? Self.first : min(delay * 2, Self.longest)
        nextTry = now + delay
    }
}
