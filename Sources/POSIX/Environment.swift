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

    public static func set(_ name: String, _ value: String) {
        setenv(name, value, 1)
    }

    /// Replaces the whole environment with `entries` ("NAME=value" strings).
    public static func replace(with entries: [String]) {
        clearenv()
        for entry in entries {
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

