import POSIX

/// The script side of a Python flow, flow_stub.py beside this file: embedded when the runner is
/// built (SwiftPM's `embedInCode`), and handed to `python3 -` on its standard input, so that the
/// stub never shows in a process listing and no file has to be found at run time.
enum PythonStub {
    /// The stub's text, as the build embedded it.
    static var source: [UInt8] { PackageResources.flow_stub_py }

    /// The stub as a file in memory, to be the interpreter's standard input.
    static func standardInput() throws(SystemError) -> FileDescriptor {
        try FileDescriptor.inMemory(named: "flowspool-flow-stub", holding: source)
    }
}
