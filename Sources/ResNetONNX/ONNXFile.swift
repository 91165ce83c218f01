import ResNetIR
import ResNetSystem

/// A model read from an ONNX file, with what was noticed on the way.
public struct ONNXReadResult {
    public let model: Model
    public let fileSize: Int
    /// Things kept out of the IR that a user should know about (unknown fields).
    public let warnings: [String]
}

/// Reads ONNX ModelProto files through libprotobuf-c.
///
/// The file is mapped, pre-scanned (WireScan.swift: every length, depth and
/// allocation bounded, raw tensor bytes swapped for indices), the slim message
/// is unpacked by protobuf-c and translated to the IR. Tensor data stays in the
/// mapping; the returned model keeps it alive.
public enum ONNXReader {
    public static func read(path: String, limits: ONNXReadLimits = ONNXReadLimits()) throws -> ONNXReadResult {
        try read(file: try MappedFile(path: path), limits: limits)
    }

    /// Reads from a file the caller already mapped (so other passes over it,
    /// such as hashing, share one mapping).
    public static func read(file: MappedFile, limits: ONNXReadLimits = ONNXReadLimits()) throws -> ONNXReadResult {
        try read(source: file, name: file.path, externalData: ExternalDataResolver(modelPath: file.path), limits: limits)
    }

    /// Reads a model held in memory (tests, stdin). External data cannot be
    /// resolved without a folder and is reported as not found.
    public static func read(bytes: [UInt8], name: String = "<memory>",
                            limits: ONNXReadLimits = ONNXReadLimits()) throws -> ONNXReadResult {
        try read(source: OwnedBytes(bytes), name: name, externalData: ExternalDataResolver(modelPath: nil), limits: limits)
    }

    private static func read(source: any ByteRegionOwner, name: String, externalData: ExternalDataResolver,
                             limits: ONNXReadLimits) throws -> ONNXReadResult {
        let schema = ProtobufCSchema.onnxModel
        let slim = try source.withUnsafeBytes { bytes in
            try WireScanner.slimModel(bytes, schema: schema, limits: limits, file: name)
        }
        let decoder = ONNXDecoder(file: name, source: source, rawDataSpans: slim.rawDataSpans,
                                  resolveExternal: externalData.resolve)
        let model = try ProtobufC.withUnpackedModel(slim.bytes, file: name, originalSize: source.byteCount) {
            try decoder.model($0)
        }
        var warnings: [String] = []
        if slim.droppedUnknownFields > 0 {
            warnings.append("\(name): \(slim.droppedUnknownFields) field(s) not in the ONNX schema were ignored")
        }
        return ONNXReadResult(model: model, fileSize: source.byteCount, warnings: warnings)
    }
}

extension ONNXReader {
    /// Reads one TensorProto file (ONNX test data: test_data_set_N/input_0.pb).
    public static func readTensor(path: String, limits: ONNXReadLimits = ONNXReadLimits()) throws -> Tensor {
        let file = try MappedFile(path: path)
        let schema = ProtobufCSchema.onnxModel
        guard let root = schema.index(of: "TensorProto") else { throw ONNXError.notAModelProto(file: path, size: file.count) }
        let slim = try file.withUnsafeBytes { try WireScanner.slimModel($0, schema: schema, limits: limits, file: path, root: root) }
        let decoder = ONNXDecoder(file: path, source: file, rawDataSpans: slim.rawDataSpans,
                                  resolveExternal: ExternalDataResolver(modelPath: path).resolve)
        return try ProtobufC.withUnpackedTensor(slim.bytes, file: path, originalSize: file.count) {
            try decoder.tensor($0, path: "tensor")
        }
    }
}

extension ONNXWriter {
    /// Writes one TensorProto file (raw_data), atomically.
    public static func writeTensor(_ tensor: Tensor, to path: String) throws {
        let schema = ProtobufCSchema.onnxModel
        guard let root = schema.index(of: "TensorProto") else { throw ONNXError.packFailed(reason: "no TensorProto in schema") }
        let out = try AtomicFileWriter(destination: path)
        let (slim, tensors) = try CArena.with { arena -> ([UInt8], [TensorBytes]) in
            let encoder = ONNXEncoder(arena: arena) { _ in .inline }
            let t = try encoder.tensor(tensor, placement: .inline)
            return (ProtobufC.packTensor(t), encoder.splicedTensors)
        }
        try WireSplicer.write(slim: slim, schema: schema, tensors: tensors, to: out, root: root)
        try out.commit()
    }
}

public struct ONNXWriteOptions: Sendable {
    /// Store initializers as external data in `<output>.data` beside the model.
    public var externalData = false
    /// Initializers smaller than this stay inline even with `externalData` (onnx's default).
    public var externalDataThreshold = 1024
    /// Each external tensor starts at a multiple of this (for mmap and SIMD loads).
    public var externalDataAlignment = 64
    public init(externalData: Bool = false) { self.externalData = externalData }
}

public struct ONNXWriteSummary: Sendable {
    public let modelBytes: Int
    public let externalDataBytes: Int
    public let externalDataPath: String?
    public let tensorCount: Int
}

/// Writes the IR as an ONNX file through libprotobuf-c, atomically.
public enum ONNXWriter {
    /// Writes `model` to `path` (temp file, fsync, rename). `protectedInputs`
    /// are never overwritten. With external data, the data file is renamed into
    /// place just before the model.
    @discardableResult
    public static func write(_ model: Model, to path: String, options: ONNXWriteOptions = ONNXWriteOptions(),
                             protectedInputs: [String] = []) throws -> ONNXWriteSummary {
        var dataWriter: AtomicFileWriter?
        var placements: [String: TensorPlacement] = [:]
        var dataPath: String?
        if options.externalData {
            let location = FilePaths.fileName(of: path) + ".data"
            let destination = FilePaths.directory(of: path) + "/" + location
            dataPath = destination
            let writer = try AtomicFileWriter(destination: destination, protectedInputs: protectedInputs)
            for t in model.graph.initializers where t.dataType != .string && t.data.count >= options.externalDataThreshold {
                let pad = (options.externalDataAlignment - writer.bytesWritten % options.externalDataAlignment) % options.externalDataAlignment
                try writer.writeZeros(pad)
                placements[t.name] = .external(location: location, offset: writer.bytesWritten, length: t.data.count)
                try t.data.withUnsafeBytes { try writer.write($0) }
            }
            dataWriter = writer
        }
        let out = try AtomicFileWriter(destination: path, protectedInputs: protectedInputs)
        let (slim, tensors) = try CArena.with { arena -> ([UInt8], [TensorBytes]) in
            let encoder = ONNXEncoder(arena: arena) { placements[$0.name] ?? .inline }
            let cModel = try encoder.model(model)
            return (try ProtobufC.pack(cModel), encoder.splicedTensors)
        }
        try WireSplicer.write(slim: slim, schema: ProtobufCSchema.onnxModel, tensors: tensors, to: out)
        try dataWriter?.commit()
        try out.commit()
        return ONNXWriteSummary(modelBytes: out.bytesWritten, externalDataBytes: dataWriter?.bytesWritten ?? 0,
                                externalDataPath: dataPath, tensorCount: model.graph.initializers.count)
    }
}
