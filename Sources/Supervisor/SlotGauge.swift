import Synchronization

/// How many runner slots the supervisor has free: --max-running less the runners that hold a slot
/// and the executions queued for one. Set by the supervisor's thread at each turn of its loop, read
/// by the cluster's thread (ClusterBridge), which starts a job only into a free slot.
public final class SlotGauge: Sendable {
    private let free = Atomic<Int>(0)

    public init() {}

    public var freeSlots: Int { free.load(ordering: .relaxed) }

    func set(_ value: Int) {
        free.store(value, ordering: .relaxed)
    }
}
