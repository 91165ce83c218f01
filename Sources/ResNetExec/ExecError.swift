import ResNetKernelsReference
/// Why a model cannot be planned or run. Every case names the node.
public enum ExecError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupportedOp(node: String, opType: String)
    case unsupportedAttribute(node: String, detail: String)
    case unsupportedDataType(node: String, value: String, dataType: String)
    case shapeMismatch(node: String, detail: String)
    case missingValue(node: String, value: String)
    case inputShape(name: String, expected: String, actual: [Int])
    case noAVX2
    /// --kernels asked for a set this CPU cannot run.
    case kernelsUnsupported(String)
    /// A plan or input that would allocate more than the budget (`bytes` nil: the size overflows).
    case overBudget(what: String, bytes: Int?, budget: Int)
    /// The model breaks a rule that the shared validation or shape library checks.
    case invalidModel(node: String, detail: String)

    /// The case's name, for counting outcomes.
    public var kindName: String {
        switch self {
        case .unsupportedOp: return "unsupportedOp"
        case .unsupportedAttribute: return "unsupportedAttribute"
        case .unsupportedDataType: return "unsupportedDataType"
        case .shapeMismatch: return "shapeMismatch"
        case .missingValue: return "missingValue"
        case .inputShape: return "inputShape"
        case .noAVX2: return "noAVX2"
        case .kernelsUnsupported: return "kernelsUnsupported"
        case .overBudget: return "overBudget"
        case .invalidModel: return "invalidModel"
        }
    }

    public var description: String {
        switch self {
        case let .unsupportedOp(node, op): return "node '\(node)': operator \(op) is not supported by the executor (nothing was run)"
        case let .unsupportedAttribute(node, detail): return "node '\(node)': \(detail) is not supported by the executor"
        case let .unsupportedDataType(node, value, type): return "node '\(node)': value '\(value)' is \(type); the executor runs float32 tensors"
        case let .shapeMismatch(node, detail): return "node '\(node)': \(detail)"
        case let .missingValue(node, value): return "node '\(node)': input '\(value)' is produced by nothing"
        case let .inputShape(name, expected, actual): return "input '\(name)' has shape \(actual), the model declares \(expected)"
        case let .overBudget(what, bytes, budget):
            let size = bytes.map { "\(MemoryBudget.format($0)) (\($0) bytes)" } ?? "more bytes than a 64-bit size can hold"
            return "\(what) needs \(size), over the memory budget of \(MemoryBudget.format(budget)); raise it with --max-memory BYTES if that is intended"
        case let .invalidModel(node, detail): return "node '\(node)': \(detail)"
        case .noAVX2: return "this CPU has no AVX2/FMA, which the SIMD kernels need; run with --reference-kernels (portable, slower)"
        case let .kernelsUnsupported(set):
            return "this CPU cannot run the \(set) kernels (it has: \(KernelSet.allCases.filter(\.isSupported).map(\.rawValue).joined(separator: ", "))); choose another --kernels"
        }
    }
}
