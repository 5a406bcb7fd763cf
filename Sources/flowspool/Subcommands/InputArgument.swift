import Basics
import Commands
import JSON
import POSIX
import Spool

/// One input on the command line, written as httpie writes request items:
/// - `key=value`: the string `value`, always, whatever it looks like;
/// - `key:=json`: raw JSON (a number, a list, a dictionary, true, null);
/// - `key@file`: the text of a file (`-` for standard input); `key:=@file`: the JSON in a file.
/// The first `=`, `:=` or `@` ends the key, so values may hold any of them.
struct InputArgument: Equatable {
    let key: String
    let value: JSON

    init(_ argument: String) throws {
        guard let (key, separator, rest) = Self.split(argument) else {
            throw CommandFailure("input '\(argument)' is not key=value, key:=json or key@file", exitCode: ProgramExit.usage)
        }
        self.key = key
        switch separator {
        case "=":
            value = .string(rest)
        case "@":
            let bytes = try readArgumentFile(rest)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw CommandFailure("input '\(key)': \(describeArgumentFile(rest)) is not UTF-8 text", exitCode: ProgramExit.usage)
            }
            value = .string(text)
        default:
            if rest.hasPrefix("@") {
                value = try readJSON(String(rest.dropFirst()))
            } else {
                do {
                    value = try JSON(parsing: rest)
                } catch {
                    // The value is not repeated: it may be a password.
                    throw CommandFailure("input '\(key)': the value after := is not JSON (\(error)); write \(key)=TEXT for a string", exitCode: ProgramExit.usage)
                }
            }
        }
    }

    /// The key, the separator (`=`, `:=` or `@`) and the rest; nil when there is no key.
    static func split(_ argument: String) -> (String, String, String)? {
        var index = argument.startIndex
        while index < argument.endIndex {
            let character = argument[index]
            let next = argument.index(after: index)
            if character == "=" || character == "@" {
                return index == argument.startIndex ? nil : (String(argument[..<index]), String(character), String(argument[next...]))
            }
            if character == ":", next < argument.endIndex, argument[next] == "=" {
                return index == argument.startIndex ? nil : (String(argument[..<index]), ":=", String(argument[argument.index(after: next)...]))
            }
            index = next
        }
        return nil
    }
}
