/// flowspool's version, which every program prints for --version.
public enum FlowspoolVersion {
    public static let current = "0.15.0"

    /// "PROGRAM VERSION", as --version prints it.
    public static func line(for program: String) -> String { "\(program) \(current)" }
}
