import Foundation

/// Unbuffered lines on standard output, so a supervisor or a test reading a pipe sees them at once.
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
