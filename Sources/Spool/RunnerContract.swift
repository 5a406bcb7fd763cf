/// The names a supervisor and its runners agree on (flowspool-spool(5), "The runner contract").
public enum RunnerContract {
    /// The spool's absolute path.
    public static let spoolVariable = "FLOWSPOOL_SPOOL"
    /// The execution's id.
    public static let executionVariable = "FLOWSPOOL_EXECUTION"
    /// The descriptor that holds the execution's lock: always 3.
    public static let lockDescriptorVariable = "FLOWSPOOL_LOCK_FD"
    public static let lockDescriptor: Int32 = 3
    /// "1" for a runner started on standby: it waits on standard input for its execution.
    public static let standbyVariable = "FLOWSPOOL_STANDBY"
}
