/// A capped exponential back-off for something that keeps failing: 1 s, 2 s, 4 s ... up to a minute.
struct Backoff {
    private(set) var nextTry = 0.0
    private var delay = 0.0
    static let first = 1.0
    static let longest = 60.0

    mutating func fail(at now: Double) {
        delay = delay == 0 ? Self.first : min(delay * 2, Self.longest)
        nextTry = now + delay
    }
}
