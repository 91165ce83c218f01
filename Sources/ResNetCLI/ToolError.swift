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
            throw ExitCode(ToolExit.usage)
        } catch let e as UsageError {
            report(tool, e.message)
            throw ExitCode(ToolExit.usage)
        } catch {
            report(tool, String(describing: error))
            throw ExitCode(ToolExit.invalidInput)
        }
    }

    public static func report(_ tool: String, _ message: String) {
        ProcessInfoLite.writeStandardError("\(tool): error: \(message)\n")
    }
}

/// A command line that is well-formed but asks for something impossible.
public struct UsageError: Error {
    public let message: String
    public init(_ message: String) { self.message = message }
}
