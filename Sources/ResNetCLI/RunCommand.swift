import ArgumentParser
import Crypto
import Foundation
import ResNetExec
import ResNetIR
import ResNetONNX
import ResNetSystem

/// Options shared by `run` and `parity`: where the input comes from, and which kernels run.
public struct InputOptions: ParsableArguments {
    @Option(help: "Input tensor: an ONNX TensorProto (.pb) or a NumPy float32 array (.npy).")
    public var input: String?

    @Option(help: "Seed for a generated input (standard normal values) when --input is not given.")
    public var seed: UInt64 = 0

    @Option(help: "Batch size of a generated input.")
    public var batch: Int = 1

    @Option(help: "Height and width of a generated input when the model leaves them symbolic.")
    public var size: Int?

    @Flag(help: "Use the scalar reference kernels instead of the SIMD ones (portable, slower).")
    public var referenceKernels = false

    public init() {}

    /// The input values and shape: read from --input, or generated for the model's declared input.
    func load(for model: Model) throws -> ([Float], [Int]) {
        if let input {
            if input.lowercased().hasSuffix(".npy") { return try NpyFile.read(input) }
            let t = try ONNXReader.readTensor(path: input)
            guard t.dataType == .float, let values = t.floatValues else {
                throw UsageError("\(input): input tensor is \(t.dataType), expected FLOAT")
            }
            return (values, t.dims.map { Int($0) })
        }
        guard batch >= 1 else { throw UsageError("--batch must be at least 1") }
        let initializers = Set(model.graph.initializers.map(\.name))
        guard let info = model.graph.inputs.first(where: { !initializers.contains($0.name) }),
              case let .tensor(_, dims?)? = info.type?.kind else {
            throw UsageError("the model does not declare its input's shape; pass --input")
        }
        let shape = try dims.enumerated().map { i, d -> Int in
            if case let .known(v) = d.value, v > 0 { return Int(v) }
            if i == 0 { return batch }
            guard let size else { throw UsageError("input dim \(i) is '\(d)': pass --size (or --input)") }
            return size
        }
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) + 0.5) / Float(1 << 24)
        }
        // Box-Muller: standard normal values, reproducible from the seed.
        let values = (0..<shape.reduce(1, *)).map { _ in (-2 * logf(uniform())).squareRoot() * cosf(2 * .pi * uniform()) }
        return (values, shape)
    }
}

/// SHA-256 of the float bytes, first 16 hex digits: equal digests mean bit-identical outputs.
func digest(_ values: [Float]) -> String {
    var h = SHA256()
    values.withUnsafeBytes { h.update(bufferPointer: $0) }
    return h.finalize().prefix(8).map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
}

/// `resnet-check run MODEL`: runs the reference executor once.
public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model with the reference executor and print its outputs' shapes and digests.",
        discussion: """
            The digest is the first 16 hex digits of the SHA-256 of the output's float32 bytes: \
            equal digests mean bit-identical outputs. Exit codes: 0 ran; 2 unreadable model or \
            input, or an unsupported operator (named, before anything runs); 64 usage error.
            """)

    @Argument(help: "Model file (.onnx or .rnw).")
    public var model: String

    @OptionGroup public var inputs: InputOptions

    @Option(help: "Write the first output as .pb (TensorProto) or .npy.")
    public var output: String?

    public init() {}

    public func run() throws {
        try ToolError.run(tool: "resnet-check run") {
            let loaded = try ModelFiles.load(model)
            let (x, shape) = try inputs.load(for: loaded.model)
            let executor = Executor(model: loaded.model, options: ExecOptions(referenceKernels: inputs.referenceKernels))
            let start = ProcessInfoLite.monotonicSeconds()
            let plan = try executor.plan(inputShape: shape)
            let planned = ProcessInfoLite.monotonicSeconds()
            let outputs = try plan.run(x)
            let ran = ProcessInfoLite.monotonicSeconds()
            print("\(model): input \(shape), \(plan.stepCount) steps, \(inputs.referenceKernels ? "reference" : "SIMD") kernels, plan \(ConvertSummary.format((planned - start) * 1e3, 1)) ms, run \(ConvertSummary.format((ran - planned) * 1e3, 1)) ms")
            for o in outputs {
                var line = "\(o.name): shape \(o.shape), digest \(digest(o.values))"
                if o.shape.count == 2, o.shape[1] >= 5 {
                    let row = Array(o.values.prefix(o.shape[1]))
                    line += ", top-5 of sample 0: " + row.enumerated().sorted { $0.element > $1.element }.prefix(5).map { String($0.offset) }.joined(separator: " ")
                }
                print(line)
            }
            if let output, let first = outputs.first {
                if output.lowercased().hasSuffix(".npy") {
                    try NpyFile.write(first.values, shape: first.shape, to: output)
                } else {
                    let bytes = first.values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
                    try ONNXWriter.writeTensor(Tensor(name: first.name, dataType: .float, dims: first.shape.map(Int64.init), data: TensorBytes(bytes)), to: output)
                }
            }
        }
    }
}
