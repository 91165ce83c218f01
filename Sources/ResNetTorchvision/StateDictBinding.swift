import ResNetIR

/// Why a state dict does not fit an architecture: everything wrong at once,
/// listed as torch's `load_state_dict(strict=True)` lists it, so one run
/// shows every key to fix.
public struct StateDictError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct SizeMismatch: Equatable, Sendable {
        public let name: String
        public let expected: [Int64]
        public let actual: [Int64]
        public init(name: String, expected: [Int64], actual: [Int64]) {
            (self.name, self.expected, self.actual) = (name, expected, actual)
        }
    }

    public struct DTypeMismatch: Equatable, Sendable {
        public let name: String
        public let expected: String
        public let actual: DataType
    }

    public let modelName: String
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var sizeMismatches: [SizeMismatch] = []
    public var dtypeMismatches: [DTypeMismatch] = []
    /// The number of classes `fc.weight` holds, when only the classifier's size differs.
    public var numClassesHint: Int64?

    var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && sizeMismatches.isEmpty && dtypeMismatches.isEmpty }

    /// torch's wording, with every list capped (MessageText): a state dict of
    /// 100,000 stray keys gives a screenful, not megabytes.
    public var description: String {
        func keys(_ names: [String]) -> String { MessageText.list(names.map(TorchvisionText.quoted)) }
        var lines = ["Error(s) in loading state_dict for \(modelName):"]
        if !missing.isEmpty { lines.append("\tMissing key(s) in state_dict: \(keys(missing)).") }
        if !unexpected.isEmpty { lines.append("\tUnexpected key(s) in state_dict: \(keys(unexpected)).") }
        let sizes = sizeMismatches.map {
            "size mismatch for \(TorchvisionText.plain($0.name)): expected \(MessageText.shape($0.expected)), got \(MessageText.shape($0.actual))."
        }
        let dtypes = dtypeMismatches.map {
            "dtype mismatch for \(TorchvisionText.plain($0.name)): expected \($0.expected), got \($0.actual)."
        }
        for group in [sizes, dtypes] where !group.isEmpty {
            lines.append("\t" + MessageText.list(group, separator: "\n\t"))
        }
        if let n = numClassesHint { lines.append("\t(the checkpoint's classifier has \(n) classes: pass --num-classes \(n))") }
        return lines.joined(separator: "\n")
    }
}

/// What binding did besides copying names: for the CLI's summary.
public struct BindingReport: Sendable, Equatable {
    /// `num_batches_tracked` buffers seen and skipped (ONNX has no use for them).
    public var ignored: [String] = []
    /// Tensors widened from FLOAT16/BFLOAT16 to FLOAT, by source type.
    public var widened: [DataType: Int] = [:]
}

/// Matches a state dict against an architecture's parameters by exact name
/// (compared by UTF-8 bytes: canonically equivalent spellings are different
/// keys to torch), shape and dtype; widens FLOAT16/BFLOAT16 to FLOAT.
public enum StateDictBinding {
    public static func bind(_ tensors: [Tensor], to graph: ArchitectureGraph) throws -> ([Tensor], BindingReport) {
        var error = StateDictError(modelName: graph.options.modelName)
        var report = BindingReport()
        var expected: [[UInt8]: Int] = [:]
        for (k, p) in graph.parameters.enumerated() { expected[Array(p.name.utf8)] = k }
        let counters = Set(graph.batchNormModules.map { Array(($0 + ".num_batches_tracked").utf8) })
        var bound = [Tensor?](repeating: nil, count: graph.parameters.count)

        for t in tensors {
            let key = Array(t.name.utf8)
            if let k = expected[key] {
                let spec = graph.parameters[k]
                guard [.float, .float16, .bfloat16].contains(t.dataType) else {
                    error.dtypeMismatches.append(.init(name: t.name, expected: "FLOAT, FLOAT16 or BFLOAT16", actual: t.dataType))
                    continue
                }
                guard t.dims == spec.dims else {
                    error.sizeMismatches.append(.init(name: t.name, expected: spec.dims, actual: t.dims))
                    continue
                }
                bound[k] = widened(t, as: spec.name, report: &report)
            } else if counters.contains(key) {
                // torch's BatchNorm counter: an INT64 scalar (older checkpoints lack it; torch accepts both).
                guard t.dataType == .int64 else {
                    error.dtypeMismatches.append(.init(name: t.name, expected: "INT64", actual: t.dataType))
                    continue
                }
                guard t.dims.isEmpty || t.dims == [1] else {
                    error.sizeMismatches.append(.init(name: t.name, expected: [], actual: t.dims))
                    continue
                }
                report.ignored.append(t.name)
            } else {
                error.unexpected.append(t.name)
            }
        }
        error.missing = zip(graph.parameters, bound).filter { $0.1 == nil && !error.mentions($0.0.name) }.map(\.0.name)
        error.numClassesHint = numClassesHint(error, tensors: tensors, graph: graph)
        guard error.isEmpty else { throw error }
        // Not nil: every parameter is either bound or reported above.
        return (bound.compactMap { $0 }, report)
    }

    /// The `--num-classes` that would make the state dict fit, or nil unless
    /// that is certain: nothing but the classifier's size differs, `fc.weight`
    /// is `[N, inputs]` with the architecture's own input width and an N the
    /// CLI accepts (other than the current one), and `fc.bias` is `[N]`.
    static func numClassesHint(_ error: StateDictError, tensors: [Tensor], graph: ArchitectureGraph) -> Int64? {
        func isFC(_ name: String, _ suffix: String) -> Bool { name.utf8.elementsEqual(("fc." + suffix).utf8) }
        guard error.missing.isEmpty, error.unexpected.isEmpty, error.dtypeMismatches.isEmpty,
              error.sizeMismatches.allSatisfy({ isFC($0.name, "weight") || isFC($0.name, "bias") }),
              let weight = error.sizeMismatches.first(where: { isFC($0.name, "weight") }),
              weight.actual.count == 2, weight.expected.count == 2, weight.actual[1] == weight.expected[1],
              let classes = Int(exactly: weight.actual[0]), ArchitectureOptions.numClassesRange.contains(classes),
              classes != graph.options.numClasses
        else { return nil }
        // Missing is empty, so the state dict holds fc.bias; it must say N too.
        guard let bias = tensors.first(where: { isFC($0.name, "bias") }), bias.dims == [weight.actual[0]] else { return nil }
        return weight.actual[0]
    }

    /// The tensor under the architecture's name as FLOAT: FLOAT keeps its
    /// bytes (no copy), FLOAT16 and BFLOAT16 are widened exactly.
    static func widened(_ t: Tensor, as name: String, report: inout BindingReport) -> Tensor {
        guard t.dataType != .float else {
            return Tensor(name: name, dataType: .float, dims: t.dims, data: t.data)
        }
        report.widened[t.dataType, default: 0] += 1
        let bytes = t.data.withUnsafeBytes { src -> [UInt8] in
            // Sound: i < n = src.count / 2 keeps 2i + 1 inside src, and 4i + 3
            // inside the n * 4 bytes of `out`, every one of which is written.
            let n = src.count / 2
            return [UInt8](unsafeUninitializedCapacity: n * 4) { out, initialized in
                for i in 0..<n {
                    let half = UInt16(src[2 * i]) | UInt16(src[2 * i + 1]) << 8
                    let bits = t.dataType == .bfloat16 ? UInt32(half) << 16 : Float(Float16(bitPattern: half)).bitPattern
                    for b in 0..<4 { out[4 * i + b] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(b))) }
                }
                initialized = n * 4
            }
        }
        return Tensor(name: name, dataType: .float, dims: t.dims, data: TensorBytes(bytes))
    }
}

extension StateDictError {
    /// Whether a name is already reported as a size or dtype mismatch (torch does not list those as missing too).
    func mentions(_ name: String) -> Bool {
        sizeMismatches.contains { $0.name.utf8.elementsEqual(name.utf8) }
            || dtypeMismatches.contains { $0.name.utf8.elementsEqual(name.utf8) }
    }
}

enum TorchvisionText {
    /// "name" as torch quotes keys, with control, format and separator
    /// characters escaped (MessageText.escaped) so a hostile key can neither
    /// forge text on a terminal nor pass for another key.
    static func quoted(_ s: String) -> String { "\"" + plain(s) + "\"" }

    static func plain(_ s: String) -> String { MessageText.escaped(s, quote: "\"") }
}
