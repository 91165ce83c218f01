import ArgumentParser
import ResNetIR
import ResNetONNX
import ResNetSystem

/// The tools' exit codes (README "Exit codes").
public enum ToolExit {
    /// The operation succeeded / the check found nothing at or above --fail-on.
    public static let ok: Int32 = 0
    /// The check or operation found the model wanting.
    public static let modelWanting: Int32 = 1
    /// The input is unreadable or invalid (or the output could not be written).
    public static let invalidInput: Int32 = 2
    /// Bad command line.
    public static let usage: Int32 = 64
}

/// The one place errors become text and exit codes: every command ends with
/// `try ToolError.run { ... }` so messages look the same across tools.
public enum ToolError {
    public static func run(tool: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as ExitCode {
            throw e
        } catch let e as AtomicWriteError {
            report(tool, e.description)
            throw ExitCode(exitCode(e))
        } catch let e as UsageError {
            report(tool, e.message)
            throw ExitCode(ToolExit.usage)
        } catch {
            report(tool, String(describing: error))
            throw ExitCode(ToolExit.invalidInput)
        }
    }

    /// Spelled out per case, so a new AtomicWriteError case cannot compile
    /// until someone decides whose fault it is.
    static func exitCode(_ e: AtomicWriteError) -> Int32 {
        switch e {
        // The output path names the input: the command line asks for the impossible.
        // An output that cannot be written (no folder, no permission, disk full)
        // arrives as a FileError and exits 2 below.
        case .wouldOverwriteInput: return ToolExit.usage
        }
    }

    public static func report(_ tool: String, _ message: String) {
        ProcessInfoLite.writeStandardError("\(tool): error: \(message)\n")
    }
}

/// A model or input file that cannot be used as asked (exit 2, like every
/// error not caught above): its message is the whole text.
public struct InputError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// A command line that is well-formed but asks for something impossible
/// whatever the files hold (exit 64). Not for model defects: those are InputError.
public struct UsageError: Error {
    public let message: String
    public init(_ message: String) { self.message = message }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs. (Foundation's
    /// trimmingCharacters(in: .whitespaces) links CharacterSet and with it ICU:
    /// 45 MB of each static binary.)
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
