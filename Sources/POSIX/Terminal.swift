#if canImport(Glibc)
import Glibc
#endif
import CPOSIX

/// The terminal on a descriptor: its size, and a mode in which keys are read as they are pressed
/// (no line editing, no echo), restored afterwards.
public struct Terminal {
    public let descriptor: FileDescriptor
    private let saved: termios

    /// Puts the terminal into character mode; nil when the descriptor is not a terminal.
    public init?(characterModeOn descriptor: FileDescriptor) {
        var settings = termios()
        guard tcgetattr(descriptor.rawValue, &settings) == 0 else { return nil }
        self.descriptor = descriptor
        saved = settings
        settings.c_lflag &= ~tcflag_t(ICANON | ECHO)
        // Reads return at once, with what was typed or nothing.
        withUnsafeMutableBytes(of: &settings.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        while tcsetattr(descriptor.rawValue, TCSANOW, &settings) == -1 && errno == EINTR {}
    }

    /// Gives the terminal back the mode it had.
    public func restore() {
        var settings = saved
        while tcsetattr(descriptor.rawValue, TCSANOW, &settings) == -1 && errno == EINTR {}
    }

    /// Rows and columns of the terminal on `descriptor`; nil when it is not one.
    public static func size(of descriptor: FileDescriptor) -> (rows: Int, columns: Int)? {
        var rows: UInt16 = 0
        var columns: UInt16 = 0
        guard flowspool_window_size(descriptor.rawValue, &rows, &columns) == 0, rows > 0, columns > 0 else { return nil }
        return (Int(rows), Int(columns))
    }
}
