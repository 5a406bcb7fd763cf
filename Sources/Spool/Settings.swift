import JSON
import POSIX

/// Settings that flows read with `c.setting(name)`: spool/settings/NAME.json, mode 0600, each a
/// JSON value (usually a dictionary, like AWS credentials, or a string).
public struct Settings: Sendable {
    public let spool: Spool

    public init(spool: Spool) { self.spool = spool }

    /// A setting name is 1 to 128 characters, without '/', NUL or a newline, not starting with '.'.
    /// Spaces are fine: the platform's flows ask for `c.setting('aws creds')`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && !name.hasPrefix(".")
            && !name.contains { $0 == "/" || $0 == "\0" || $0.isNewline }
    }

    func path(_ name: String) throws(SpoolError) -> String {
        guard Self.isValidName(name) else {
            throw SpoolError("'\(name)' is not a setting name (1 to 128 characters, no '/' or newline, not starting with '.')")
        }
        return spool.settings + "/" + name + ".json"
    }

    /// The value of a setting; nil when there is none.
    public func value(_ name: String) throws(SpoolError) -> JSON? {
        let path = try path(name)
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, beneath: spool.root)
        } catch where error.errno == .noSuchFileOrDirectory {
            return nil
        } catch {
            throw SpoolError("cannot read setting '\(name)'", cause: error)
        }
        do {
            return try JSON(parsing: bytes)
        } catch {
            throw SpoolError("setting '\(name)' in \(path) is not JSON: \(error)")
        }
    }

    public func set(_ name: String, to value: JSON) throws(SpoolError) {
        let path = try path(name)
        do {
            try spool.write(value.prettyText + "\n", to: path, mode: 0o600)
        } catch {
            throw SpoolError("cannot write setting '\(name)'", cause: error)
        }
    }

    /// Removes a setting; false when there was none.
    @discardableResult
    public func remove(_ name: String) throws(SpoolError) -> Bool {
        let path = try path(name)
        do {
            // Unlinked without looking first: a look would take "permission denied" for "none".
            try FileSystem.unlink(path)
            try FileSystem.syncDirectory(spool.settings)
            return true
        } catch where error.errno == .noSuchFileOrDirectory {
            return false
        } catch {
            throw SpoolError("cannot remove setting '\(name)'", cause: error)
        }
    }

    public func names() throws(SpoolError) -> [String] {
        do {
            return try FileSystem.listDirectory(spool.settings)
                .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
                .map { String($0.dropLast(5)) }
                .sorted()
        } catch {
            throw SpoolError("cannot list settings", cause: error)
        }
    }
}
