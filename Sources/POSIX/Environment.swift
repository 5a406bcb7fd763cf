#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// The process's environment as "NAME=value" strings.
public enum Environment {
    public static func current() -> [String] {
        var result: [String] = []
        guard var pointer = flowspool_environ() else { return [] }
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }

    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The variable's value, nil when it is unset or empty (as `NAME=` in a unit file leaves it).
    public static func nonEmptyValue(_ name: String) -> String? {
        value(name).flatMap { $0.isEmpty ? nil : $0 }
    }

    public static func set(_ name: String, _ value: String) {
        setenv(name, value, 1)
    }

    public static func unset(_ name: String) {
        unsetenv(name)
    }

    /// Makes the environment `entries` ("NAME=value" strings) again, touching only the variables
    /// that differ from it.
    public static func restore(_ entries: [String]) {
        let present = current()
        guard present != entries else { return }
        let wanted = Set(entries)
        let had = Set(present)
        for entry in present where !wanted.contains(entry) {
            unsetenv(String(entry.prefix { $0 != "=" }))
        }
        for entry in entries where !had.contains(entry) {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            setenv(String(entry[..<equals]), String(entry[entry.index(after: equals)...]), 1)
        }
    }

    /// `base` with the named variables set, replacing earlier values.
    public static func with(_ values: [String: String], base: [String] = current()) -> [String] {
        base.filter { entry in
            guard let equals = entry.firstIndex(of: "=") else { return true }
            return values[String(entry[..<equals])] == nil
        } + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}

