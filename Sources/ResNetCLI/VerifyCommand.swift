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
                if Self.isNotAModel(e, path: file) { throw InputError("\(file): not an ONNX model file: \(text)") }
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

extension VerifyCommand {
    /// ModelProto's field numbers and wire types (0 varint, 2 length-delimited), from schemas/onnx.proto.
    static let modelProtoFields: [UInt64: UInt64] = [1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2]

    /// Whether an ONNX read failure means the file is no ONNX model at all (exit 2)
    /// rather than a damaged one (exit 1). Protobuf has no magic number, so the
    /// test is the start of the file, which truncation or a flipped byte further
    /// on leaves intact: serializers write fields in number order, so a model
    /// starts with a ModelProto field (ir_version, byte 0x08, in practice) whose
    /// value fits in the file; and its first bytes hold tags and lengths below
    /// 0x20, which text does not ("2024-..." would pass the first test: field 6).
    static func isNotAModel(_ e: ONNXError, path: String) -> Bool {
        switch e {
        case .emptyFile, .notAModelProto, .missingGraph: return true
        default: break
        }
        guard let file = try? MappedFile(path: path) else { return false }
        return file.withUnsafeBytes { !startsWithModelProtoField($0) || looksLikeText($0) }
    }

    /// No control bytes but tab, newline and carriage return in the first 512 bytes.
    static func looksLikeText(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.prefix(512).allSatisfy { $0 >= 0x20 && $0 != 0x7f || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }
    }

    static func startsWithModelProtoField(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                guard offset < bytes.count else { return nil }
                let b = bytes[offset]
                offset += 1
                value |= UInt64(b & 0x7f) << UInt64(shift)
                if b < 0x80 { return value }
            }
            return nil
        }
        guard let tag = varint(), modelProtoFields[tag >> 3] == tag & 7 else { return false }
        if tag & 7 == 0 { return varint() != nil }
        guard let length = varint() else { return false }
        return length <= UInt64(bytes.count - offset)
    }
}

/// `resnet-check`: the checking tools, one subcommand each.
public struct CheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "resnet-check",
        abstract: "Check ResNet-family models (.onnx or .rnw).",
        version: ResNetToolsVersion.string,
        subcommands: [ShapesCommand.self, VerifyCommand.self, RunCommand.self, ParityCommand.self, CICommand.self, BenchCommand.self, PlanCommand.self])
    public init() {}
}
