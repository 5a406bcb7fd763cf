#if canImport(Glibc)
import Glibc
#endif
import POSIX
import Spool

/// `respond [--spool DIR] ID VALUE`: answers a pending INPUT request (respond(1)). Exits 0 when the
/// answer was taken, 1 when it was not (with the reason), 2 on usage errors.
public enum RespondCommand {
    static let usage = "usage: respond [--spool DIR] ID VALUE   (VALUE '-' reads the answer from standard input)"

    public static func main(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        var spoolOption: String?
        var positional: [String] = []
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--spool":
                guard let value = rest.popFirst() else { fail(usage, code: 2) }
                spoolOption = value
            case "-h", "--help":
                print(usage)
                exit(0)
            case "--":
                positional += rest
                rest = []
            default:
                if argument.hasPrefix("--") { fail("unknown option \(argument)\n\(usage)", code: 2) }
                positional.append(argument)
            }
        }
        guard positional.count == 2 else { fail(usage, code: 2) }
        let (id, given) = (positional[0], positional[1])
        guard ExecutionID.isValid(id) else { fail(RespondError.notAnID(id).description, code: 1) }
        let spool = Spool.locate(spoolOption)
        guard spool.exists else {
            if FileSystem.exists(spool.root) && access(spool.root, X_OK) != 0 {
                fail(RespondError.notPermitted(id, "no access to \(spool.root) (answering takes membership of the spool's group; see respond(1))").description, code: 1)
            }
            fail("\(spool.root) is not a flowspool spool (give --spool or $FLOWSPOOL_SPOOL)", code: 1)
        }
        let value = given == "-" ? readStandardInput() : given
        do {
            try spool.execution(id).answer(value)
        } catch {
            fail(error.description, code: 1)
        }
        exit(0)
    }

    /// The answer from standard input, without the newline that ends it.
    static func readStandardInput() -> String {
        guard let bytes = try? FileDescriptor.standardInput.readAll(limit: 16 << 20) else {
            fail("cannot read the answer from standard input", code: 1)
        }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    static func fail(_ message: String, code: Int32) -> Never {
        try? FileDescriptor.standardError.write("respond: \(message)\n")
        exit(code)
    }
}
