/// Task type names: the part after `flowspool-task-` in a runner's file name.
public enum TaskType {
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy(isNameByte)
    }

    public static let runnerPrefix = "flowspool-task-"

    /// The task types flowspool has runners for, in the order of their names: the lines of
    /// Sources/Spool/task-types, embedded when this module is built. The supervisor, doctor, the
    /// tests and bin/ (which installs the runners) all read that one file.
    public static let builtIn: [String] = String(decoding: PackageResources.task_types, as: UTF8.self)
        .split(separator: "\n").map { String($0) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
}
