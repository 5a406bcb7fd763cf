import ArgumentParser
import Basics
import Commands
import JSON
import POSIX
import Spool

/// `flowspool settings`: the settings flows read with `c.setting(name)`.
struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Set, get, list and remove the settings flows read with c.setting(name).",
        subcommands: [Set.self, Get.self, List.self, Remove.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set a setting to VALUE (JSON if it parses as JSON, else a string), or to the JSON in --file.")

        @OptionGroup(title: "Spool or cluster") var place: BackendOptions
        @Argument(help: "The setting's name, e.g. 'aws creds'.") var name: String
        @Argument(help: "The value.") var value: String?
        @Option(help: "Read the value from a JSON file, or from standard input with '-'.") var file: String?

        func validate() throws {
            if (value == nil) == (file == nil) { throw ValidationError("give either a VALUE or --file") }
        }

        func run() throws {
            try reportingFailures {
                let settings = Settings(spool: try place.localSpool(for: "settings"))
                let json: JSON
                if let value {
                    json = (try? JSON(parsing: value)) ?? .string(value)
                } else {
                    json = try readJSON(file!)
                }
                do {
                    try settings.set(name, to: json)
                } catch let error as SpoolError {
                    throw CommandFailure(error)
                }
            }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a setting's value as JSON.")

        @OptionGroup(title: "Spool or cluster") var place: BackendOptions
        @Argument(help: "The setting's name.") var name: String

        func run() throws {
            try reportingFailures {
                let settings = Settings(spool: try place.localSpool(for: "settings"))
                do {
                    guard let value = try settings.value(name) else { throw CommandFailure("there is no setting '\(name)'") }
                    printLine(value.prettyText)
                } catch let error as SpoolError {
                    throw CommandFailure(error)
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the settings' names, one a line.")

        @OptionGroup(title: "Spool or cluster") var place: BackendOptions

        func run() throws {
            try reportingFailures {
                do {
                    try Settings(spool: try place.localSpool(for: "settings")).names().forEach(printLine)
                } catch let error as SpoolError {
                    throw CommandFailure(error)
                }
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a setting.")

        @OptionGroup(title: "Spool or cluster") var place: BackendOptions
        @Argument(help: "The setting's name.") var name: String

        func run() throws {
            try reportingFailures {
                do {
                    guard try Settings(spool: try place.localSpool(for: "settings")).remove(name) else {
                        throw CommandFailure("there is no setting '\(name)'")
                    }
                } catch let error as SpoolError {
                    throw CommandFailure(error)
                }
            }
        }
    }
}

/// A JSON document from a file, or from standard input for "-".
func readJSON(_ path: String) throws -> JSON {
    let bytes = try readArgumentFile(path)
    do {
        return try JSON(parsing: bytes)
    } catch {
        throw CommandFailure("\(describeArgumentFile(path)) is not JSON: \(error)", exitCode: ProgramExit.usage)
    }
}

/// The bytes of a file named on the command line, or of standard input for "-", at most a job's size.
func readArgumentFile(_ path: String) throws -> [UInt8] {
    do {
        return path == "-" ? try FileDescriptor.standardInput.readAll(limit: Job.maximumSize) : try FileSystem.readFile(path)
    } catch {
        throw CommandFailure("cannot read \(describeArgumentFile(path))", cause: error, exitCode: ProgramExit.usage)
    }
}

func describeArgumentFile(_ path: String) -> String { path == "-" ? "standard input" : path }
