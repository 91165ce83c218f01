import ResNetShapes
/// How serious a finding is; `--fail-on` picks the lowest that fails the check.
public enum Severity: String, Codable, Comparable, Sendable, CaseIterable {
    case info, warning, error
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    private var rank: Int { self == .info ? 0 : self == .warning ? 1 : 2 }
}

/// Stable diagnostic codes (README "Diagnostic codes"). Never renumber one:
/// CI configurations and suppressions refer to them.
public enum DiagnosticCode: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    /// The stable code ("RN101") wherever a code is printed.
    public var description: String { rawValue }

    // Graph structure
    case producedTwice = "RN001"
    case undefinedInput = "RN002"
    case cycle = "RN003"
    case notTopologicallySorted = "RN004"
    case undefinedOutput = "RN005"
    case unusedInitializer = "RN006"
    case opsetImport = "RN007"
    case integrity = "RN008"
    // ONNX validation (`resnet-check ci`): stricter than onnx.checker where it is lenient
    case irVersion = "RN020"
    case opsetImports = "RN021"
    case unknownDomain = "RN022"
    case duplicateName = "RN023"
    case inputType = "RN024"
    case duplicateNodeName = "RN025"
    // Runs (`resnet-check ci`)
    case executorRefused = "RN030"
    case nonFiniteOutput = "RN031"
    case outputMismatch = "RN032"
    case conversionDiffers = "RN033"
    // Shape inference
    case unsupportedOp = "RN010"
    case shapeError = "RN011"
    case unknownShape = "RN012"
    // Residual analysis
    case residualMismatch = "RN101"
    case residualBroadcast = "RN102"
    case singleConvBlock = "RN103"
    case maxPoolShortcut = "RN104"
    case stridedPointwiseConv = "RN105"
    case zeroPaddedShortcut = "RN106"
    case resolutionBreaks = "RN107"
    // Quantization parameters (issue 13): scales and zero points of QuantizeLinear/DequantizeLinear and QLinear* operators
    case quantScaleType = "RN110"
    case quantScaleShape = "RN111"
    case quantZeroPointType = "RN112"
    case quantZeroPointShape = "RN113"
    case quantAxis = "RN114"
    // int8 residual joins
    case quantJoinScales = "RN120"
    case quantBranchMismatch = "RN121"

    public var severity: Severity {
        switch self {
        case .producedTwice, .undefinedInput, .cycle, .notTopologicallySorted, .undefinedOutput, .shapeError,
             .residualMismatch, .residualBroadcast, .resolutionBreaks, .integrity, .irVersion, .opsetImports, .unknownDomain,
             .duplicateName, .inputType, .executorRefused, .outputMismatch, .conversionDiffers,
             .quantScaleType, .quantScaleShape, .quantZeroPointType, .quantZeroPointShape, .quantAxis:
            return .error
        case .duplicateNodeName, .nonFiniteOutput:
            return .warning
        case .unsupportedOp, .singleConvBlock, .maxPoolShortcut, .opsetImport, .unknownShape, .quantJoinScales, .quantBranchMismatch:
            return .warning
        case .unusedInitializer, .stridedPointwiseConv, .zeroPaddedShortcut:
            return .info
        }
    }

    /// One line for the README table and `--help`.
    public var summary: String {
        switch self {
        case .producedTwice: return "a value is produced more than once (graph is not SSA)"
        case .undefinedInput: return "a node reads a value nothing produces"
        case .cycle: return "nodes depend on each other in a cycle"
        case .notTopologicallySorted: return "a node reads a value produced by a later node"
        case .undefinedOutput: return "a graph output nothing produces"
        case .unusedInitializer: return "an initializer no node reads"
        case .opsetImport: return "no default opset import, or one outside 7-21"
        case .unsupportedOp: return "an operator the shape checker does not know (its outputs become unknown)"
        case .shapeError: return "an operator's inputs do not fit its rules (e.g. Conv channels vs weight)"
        case .unknownShape: return "a residual join whose operand shapes could not be inferred"
        case .residualMismatch: return "residual Add/Sum operands have incompatible shapes"
        case .residualBroadcast: return "residual Add/Sum only works by broadcasting one operand"
        case .singleConvBlock: return "residual block whose main branch is a single conv: y = Wx + x is near-linear"
        case .maxPoolShortcut: return "shortcut goes through MaxPool: a non-linear shortcut"
        case .stridedPointwiseConv: return "1x1 conv with stride 2 reads only 1/4 of the positions"
        case .zeroPaddedShortcut: return "shortcut adds zero channels (option A)"
        case .resolutionBreaks: return "the model breaks at some input sizes (--sweep)"
        case .quantScaleType: return "a quantization scale that is not FLOAT, FLOAT16 or BFLOAT16"
        case .quantScaleShape: return "a quantization scale neither scalar nor 1-D with one value per channel of its axis"
        case .quantZeroPointType: return "a zero point of a type the operator does not take (int8/uint8; int32 for a bias)"
        case .quantZeroPointShape: return "a zero point whose shape is not its scale's"
        case .quantAxis: return "a per-channel quantization axis outside the tensor's rank"
        case .quantJoinScales: return "the operands of an int8 residual join are quantized with scales far apart (the finer one is requantized coarsely)"
        case .quantBranchMismatch: return "a residual block whose shortcut is quantized where its main branch is not, or the reverse"
        case .integrity: return "the file fails an integrity check (structure, bounds, checksums)"
        case .irVersion: return "ir_version missing or outside 3-14"
        case .opsetImports: return "an opset imported twice, no default-domain import, or a version outside 1-28"
        case .unknownDomain: return "a node in a domain that is not imported or not known to this tool"
        case .duplicateName: return "two initializers, graph inputs or graph outputs share a name"
        case .inputType: return "a graph input without a declared tensor type, or one the executor cannot feed (not float32)"
        case .duplicateNodeName: return "two nodes share a name (diagnostics name nodes by it)"
        case .executorRefused: return "the executor refuses the model (unsupported operator, attribute, or over budget)"
        case .nonFiniteOutput: return "a run produced NaN or infinity"
        case .outputMismatch: return "outputs differ from the reference beyond tolerance"
        case .conversionDiffers: return "a lossless conversion differs from its original (graph, names, metadata or tensor bytes)"
        }
    }
}

/// One finding: code, severity, the node it concerns, what is wrong, and the
/// expected-vs-actual values where there are some.
public struct Diagnostic: Codable, Sendable, Equatable {
    public let code: DiagnosticCode
    public let severity: Severity
    public let node: String
    public let message: String
    public let expected: String?
    public let actual: String?
    /// Suggested fixes, most likely first.
    public let fixes: [String]?

    public init(_ code: DiagnosticCode, node: String, _ message: String, expected: String? = nil, actual: String? = nil,
                fixes: [String]? = nil) {
        self.code = code
        self.severity = code.severity
        self.node = node
        self.message = message
        self.expected = expected
        self.actual = actual
        self.fixes = fixes
    }
}
