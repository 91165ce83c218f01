import ArgumentParser
import ResNetIR
import ResNetONNX
import ResNetRNW
import ResNetSystem

/// `resnet-check verify FILE`: integrity of an .rnw or .onnx file.
public struct VerifyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a model file's integrity: structure, bounds, checksums, graph validity.",
        discussion: """
            .rnw: preamble, header, every tensor's bounds, every tensor CRC-32, zero padding \
            and the file CRC-32. .onnx: protobuf structure, tensor sizes against dims, \
            external-data bounds. Both: graph validity (each value produced once, no \
            dangling inputs, no cycles, topological order, outputs produced).
            Shape compatibility is 'resnet-check shapes'' job, not verify's.

            Reports the first problem: the bad tensor or node, and its byte offset where \
            the format has one.

            Exit codes: 0 intact; 1 integrity failure; 2 unreadable (missing, not a model \
            file, newer format); 64 usage error.
            """)

    @Argument(help: "Model file (.rnw or .onnx).")
    public var file: String

    public init() {}

    public func validate() throws {
        guard ModelFormat(path: file) != nil else {
            throw ValidationError("'\(file)' has no known extension (expected .onnx or .rnw)")
        }
    }

    public func run() throws {
        try ToolError.run(tool: "resnet-check verify") {
            let loaded: LoadedModel
            var detail: String
            do {
                loaded = try ModelFiles.load(file)
            } catch let e as RNWFileError where !e.error.isUnreadable {
                print("\(file): FAILED: \(e.error)")
                throw ExitCode(ToolExit.modelWanting)
            } catch let e as ONNXError {
                // Wire-level ONNX messages already start with the file name.
                var text = String(describing: e)
                if text.hasPrefix(file + ": ") { text.removeFirst(file.count + 2) }
                print("\(file): FAILED: \(text)")
                throw ExitCode(ToolExit.modelWanting)
            }
            let tensors = loaded.model.graph.initializers.count
            switch loaded.format {
            case .rnw:
                detail = ".rnw, \(tensors) initializers, \(loaded.fileSize) bytes; header, bounds, tensor CRCs and file CRC verified"
            case .onnx:
                detail = ".onnx, \(tensors) initializers, \(loaded.fileSize) bytes; protobuf structure and tensor sizes verified"
            }
            if let first = GraphValidation.problems(loaded.model.graph).first {
                print("\(file): FAILED: \(first)")
                throw ExitCode(ToolExit.modelWanting)
            }
            detail += "; graph valid (\(loaded.model.graph.nodes.count) nodes)"
            print("\(file): ok (\(detail))")
        }
    }
}

/// `resnet-check`: the checking tools, one subcommand each.
public struct CheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "resnet-check",
        abstract: "Check ResNet-family models (.onnx or .rnw).",
        subcommands: [ShapesCommand.self, VerifyCommand.self, RunCommand.self, ParityCommand.self])
    public init() {}
}
