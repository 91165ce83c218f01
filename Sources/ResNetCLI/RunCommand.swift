import ArgumentParser
import Crypto
import Foundation
import ResNetExec
import ResNetIR
import ResNetKernelsReference
import ResNetONNX
import ResNetSystem

/// Options shared by `run` and `parity`: where the input comes from, which kernels run, and the memory budget.
public struct InputOptions: ParsableArguments {
    @Option(help: "Input tensor: an ONNX TensorProto (.pb) or a NumPy float32 array (.npy).")
    public var input: String?

    @Option(help: "Seed for a generated input (standard normal values) when --input is not given.")
    public var seed: UInt64 = 0

    @Option(help: "Batch size of a generated input.")
    public var batch: Int = 1

    @Option(help: "Height and width of a generated input when the model leaves them symbolic.")
    public var size: Int?

    @Flag(help: "Use the scalar reference kernels instead of the SIMD ones (portable, slower); same as --kernels reference.")
    public var referenceKernels = false

    @Option(help: "Kernel set: avx512, avx2 or reference. Default: the widest this CPU runs.")
    public var kernels: KernelSet?

    @Option(help: "Threads for the convolutions' GEMMs. Default: the cores this process may use.")
    public var threads: Int?

    @Flag(help: "Compute the graph as written: no plan-time rewrite that changes rounding (BatchNormalization is otherwise folded into the Conv before it on SIMD kernels).")
    public var exact = false

    @Flag(inversion: .prefixedNo,
          help: "Run 3x3 stride-1 convolutions with enough output tiles as Winograd: F(4x4, 3x3) up to 28 columns, F(3x3, 3x3) above, F(2x2, 3x3) where the larger tile has too few tiles (2.25-4x fewer multiply-adds; rounding differs from the direct sum by about as much as float32's own). Default: on with the SIMD kernels, off with --exact or the reference kernels.")
    public var winograd: Bool?

    @Flag(inversion: .prefixedNo,
          help: "Run a batch of several images one image at a time on the plan for one image, where every layer computes each image alone (its activations then stay in the caches from layer to layer). --no-per-image runs the batch layer by layer as one plan.")
    public var perImage = true

    @Option(help: ArgumentHelp("Most bytes the input and each model's plan may allocate: a number of bytes, or with K, M, G or T (binary: 512M, 2G). Default: half the physical memory.",
                               valueName: "bytes"))
    public var maxMemory: ByteSize?

    public init() {}

    public func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1 (got \(batch))") }
        if let size, size < 1 { throw ValidationError("--size must be at least 1 (got \(size))") }
        if let input, InputFormat(path: input) == nil {
            throw ValidationError("--input '\(input)' has no known extension (expected .pb or .npy)")
        }
        if let maxMemory, maxMemory.bytes < 1 { throw ValidationError("--max-memory must be at least 1 byte") }
        if winograd == true && (exact || referenceKernels || kernels == .reference) {
            throw ValidationError("--winograd runs on the SIMD kernels and changes rounding: not with --exact or the reference kernels")
        }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be from 1 to 256 (got \(threads))") }
        if referenceKernels, let kernels, kernels != .reference {
            throw ValidationError("--reference-kernels and --kernels \(kernels) contradict each other")
        }
    }

    var memoryBudget: MemoryBudget { maxMemory.map { MemoryBudget(bytes: $0.bytes) } ?? .default }
    var execOptions: ExecOptions {
        var o = ExecOptions(referenceKernels: referenceKernels, kernels: kernels, threads: threads, memoryBudget: memoryBudget)
        o.exact = exact
        o.winograd = winograd ?? true
        o.perImage = perImage
        return o
    }

    enum InputFormat {
        case pb, npy
        init?(path: String) {
            let lower = path.lowercased()
            if lower.hasSuffix(".npy") { self = .npy } else if lower.hasSuffix(".pb") { self = .pb } else { return nil }
        }
    }

    /// The input values and shape: read from --input, or generated for the model's declared input.
    /// Either way the size is checked against the budget before the values are allocated.
    func load(for model: Model, budget: MemoryBudget) throws -> ([Float], [Int]) {
        if let input {
            switch InputFormat(path: input) {
            case .npy?:
                // The .npy data section is exactly the values' bytes (NpyFile checks that), so
                // the file's size bounds what reading it allocates: check before the copy.
                let bytes = try MappedFile(path: input).count
                try budget.check(elements: bytes, elementSize: 1, what: "input '\(input)' (a \(bytes)-byte file)")
                return try NpyFile.read(input)
            case .pb?, nil:
                let t = try Self.readTensor(input, budget: budget)
                guard t.dataType == .float else { throw InputError("\(input): input tensor is \(t.dataType), expected FLOAT") }
                return (t.values, t.shape)
            }
        }
        let initializers = Set(model.graph.initializers.map(\.name))
        guard let info = model.graph.inputs.first(where: { !initializers.contains($0.name) }),
              case let .tensor(_, dims?)? = info.type?.kind else {
            throw InputError("the model does not declare its input's shape; pass --input")
        }
        let shape = try dims.enumerated().map { i, d -> Int in
            if case let .known(v) = d.value, v > 0, let n = Int(exactly: v) { return n }
            if i == 0 { return batch }
            // The model leaves this dim open: only the command line can close it.
            guard let size else { throw InputError("input dim \(i) is '\(d)': pass --size (or --input)") }
            return size
        }
        // Checked before generating: --batch 1099511627776 must be an error, not a 12 PiB allocation.
        let what = "the generated input \(shape)"
        guard let count = MemoryBudget.elementCount(shape) else {
            throw ExecError.overBudget(what: what, bytes: nil, budget: budget.bytes)
        }
        try budget.check(elements: count, what: what)
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) + 0.5) / Float(1 << 24)
        }
        // Box-Muller: standard normal values, reproducible from the seed.
        let values = (0..<count).map { _ in (-2 * logf(uniform())).squareRoot() * cosf(2 * .pi * uniform()) }
        return (values, shape)
    }

    /// A stored tensor (.pb) as floats, whatever its numeric type, with its element
    /// count checked against the budget before the floats are made.
    static func readTensor(_ path: String, budget: MemoryBudget) throws -> (values: [Float], shape: [Int], dataType: DataType) {
        let t = try ONNXReader.readTensor(path: path)
        let what = "tensor '\(t.name)' in \(path) (dims \(t.dims))"
        let shape = t.dims.compactMap { Int(exactly: $0) }
        guard shape.count == t.dims.count, let count = MemoryBudget.elementCount(shape) else {
            throw ExecError.overBudget(what: what, bytes: nil, budget: budget.bytes)
        }
        try budget.check(elements: count, what: what)
        guard let values = t.floatValues else {
            throw InputError("\(path): tensor '\(t.name)' of type \(t.dataType) cannot be read as numbers")
        }
        return (values, shape, t.dataType)
    }
}

/// A byte count from the command line: digits, optionally followed by K, M, G or T
/// (binary units; "KiB", "MB" and a trailing "B" are read the same way).
public struct ByteSize: ExpressibleByArgument, Equatable, Sendable {
    public let bytes: Int

    public init(bytes: Int) { self.bytes = bytes }

    public init?(argument: String) {
        var text = Substring(argument.trimmingSpaces.uppercased())
        if text.hasSuffix("IB") { text = text.dropLast(2) } else if text.hasSuffix("B") { text = text.dropLast() }
        var shift = 0
        if let unit = text.last, let k = "KMGT".firstIndex(of: unit) {
            shift = 10 * ("KMGT".distance(from: "KMGT".startIndex, to: k) + 1)
            text = text.dropLast()
        }
        // Digits only: no sign, no fraction, no hex; Int(_:) itself refuses values past Int.max.
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let n = Int(text) else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { return nil }
        bytes = v
    }

    public var defaultValueDescription: String { MemoryBudget.format(bytes) }
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
            equal digests mean bit-identical outputs. Exit codes: 0 ran; 2 unreadable or invalid \
            model or input, an unsupported operator (named, before anything runs), over the \
            memory budget, or --output not writable; 64 usage error.
            """)

    @Argument(help: "Model file (.onnx or .rnw).")
    public var model: String

    @OptionGroup public var inputs: InputOptions

    @Option(help: "Write the first output as .pb (TensorProto) or .npy.")
    public var output: String?

    public init() {}

    public func validate() throws {
        guard ModelFormat(path: model) != nil else {
            throw ValidationError("'\(model)' has no known extension (expected .onnx or .rnw)")
        }
        if let output, InputOptions.InputFormat(path: output) == nil {
            throw ValidationError("--output '\(output)' has no known extension (expected .pb or .npy)")
        }
    }

    public func run() throws {
        try ToolError.run(tool: "resnet-check run") {
            if let output {
                // The atomic writer replaces whatever is there: never the files this run reads.
                for path in [model] + (inputs.input.map { [$0] } ?? []) where Self.sameFile(output, path) {
                    throw UsageError("refusing to write '\(output)': it is the file '\(path)' this run reads (choose another output path)")
                }
            }
            let options = inputs.execOptions
            let loaded = try ModelFiles.load(model)
            try ModelGate.refuse(loaded.model, path: model, scope: .runnable, consequence: "so run does not execute it")
            let (x, shape) = try inputs.load(for: loaded.model, budget: options.memoryBudget)
            let executor = Executor(model: loaded.model, options: options)
            let start = ProcessInfoLite.monotonicSeconds()
            let plan = try executor.plan(inputShape: shape)
            let planned = ProcessInfoLite.monotonicSeconds()
            let outputs = try plan.run(x)
            let ran = ProcessInfoLite.monotonicSeconds()
            print("\(model): input \(shape), \(plan.stepCount) steps, \(options.kernels) kernels, plan \(ConvertSummary.format((planned - start) * 1e3, 1)) ms, run \(ConvertSummary.format((ran - planned) * 1e3, 1)) ms")
            for o in outputs {
                var line = "\(o.name): shape \(o.shape), digest \(digest(o.values))"
                if o.shape.count == 2, o.shape[1] >= 5, o.values.count >= o.shape[1] {
                    line += ", top-5 of sample 0: " + TopK.indices(o.values.prefix(o.shape[1]), 5).map(String.init).joined(separator: " ")
                }
                print(line)
            }
            if let output, let first = outputs.first {
                if InputOptions.InputFormat(path: output) == .npy {
                    try NpyFile.write(first.values, shape: first.shape, to: output)
                } else {
                    let bytes = first.values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
                    try ONNXWriter.writeTensor(Tensor(name: first.name, dataType: .float, dims: first.shape.map(Int64.init), data: TensorBytes(bytes)), to: output)
                }
            }
        }
    }

    /// Same device and inode (so a second name or a symbolic link counts too); false when either is missing.
    static func sameFile(_ a: String, _ b: String) -> Bool { ProcessInfoLite.sameFile(a, b) }
}
