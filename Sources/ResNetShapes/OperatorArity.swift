/// How many inputs and outputs each operator the library knows takes, from
/// the ONNX operator schemas (opsets 7-21). The first `inputs.lowerBound`
/// inputs are required and must be named; outputs likewise.
public enum OperatorArity {
    public struct Arity: Sendable {
        public let inputs: ClosedRange<Int>
        public let outputs: ClosedRange<Int>
    }

    static let variadic = 1...Int.max

    public static let table: [String: Arity] = {
        var t: [String: Arity] = [:]
        func set(_ ops: [String], _ i: ClosedRange<Int>, _ o: ClosedRange<Int> = 1...1) { for op in ops { t[op] = Arity(inputs: i, outputs: o) } }
        set(["Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Identity", "Softmax", "LogSoftmax",
             "Cast", "Flatten", "Shape", "Transpose", "GlobalAveragePool", "GlobalMaxPool", "AveragePool",
             "ConstantOfShape", "Neg", "Exp", "Sqrt", "Reciprocal", "Abs"], 1...1)
        set(["Add", "Sub", "Mul", "Div", "Pow", "MatMul", "Reshape", "Gather", "Expand", "Equal", "Less", "Greater", "CastLike"], 2...2)
        set(["Sum", "Max", "Min", "Mean", "Concat"], variadic)
        set(["Conv"], 2...3)
        set(["BatchNormalization"], 5...5, 1...5)
        set(["Clip"], 1...3)
        set(["Dropout"], 1...3, 1...2)
        set(["MaxPool"], 1...1, 1...2)
        set(["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "Unsqueeze", "Squeeze"], 1...2)
        set(["Pad"], 1...4)
        set(["Slice"], 1...5)
        set(["Constant"], 0...0)
        set(["Gemm"], 2...3)
        set(["Split"], 1...2, variadic)
        set(["Range", "Where"], 3...3)
        // Quantization (ONNX) and the com.microsoft operators onnxruntime's quantizer writes.
        set(["QuantizeLinear", "DequantizeLinear"], 2...3)
        set(["QLinearConv"], 8...9)
        set(["QLinearMatMul"], 8...8)
        set(["ConvInteger", "MatMulInteger"], 2...4)
        set(["QLinearAdd", "QLinearMul"], 7...8)
        set(["QLinearGlobalAveragePool"], 5...5)
        set(["QLinearAveragePool", "QLinearLeakyRelu", "QLinearSigmoid"], 4...5)
        set(["QGemm"], 6...9)
        set(["QLinearConcat"], 5...Int.max)
        return t
    }()

    /// Operators whose optional inputs sit between required ones: the indices that must be named
    /// (for the rest of the table, the first `inputs.lowerBound`).
    static let requiredInputs: [String: [Int]] = [
        "QLinearAdd": [0, 1, 3, 4, 6], "QLinearMul": [0, 1, 3, 4, 6],
        "QLinearAveragePool": [0, 1, 3], "QLinearLeakyRelu": [0, 1, 3], "QLinearSigmoid": [0, 1, 3],
        "QGemm": [0, 1, 2, 3, 4, 5], "QLinearConcat": [0, 1],
    ]

    /// Operators that exist only in onnxruntime's `com.microsoft` domain.
    public static let microsoftOnly: Set<String> = [
        "QLinearAdd", "QLinearMul", "QLinearGlobalAveragePool", "QLinearAveragePool", "QGemm", "QLinearConcat",
        "QLinearLeakyRelu", "QLinearSigmoid",
    ]
    /// Operators the library knows in `com.microsoft`: its own, and the quantizers onnxruntime also registers there.
    public static let microsoftDomain: Set<String> = microsoftOnly.union(["QuantizeLinear", "DequantizeLinear"])

    /// Whether the library has a rule for `opType` in `domain` ("" and "ai.onnx" are the default domain).
    public static func knows(_ opType: String, domain: String) -> Bool {
        if domain.isEmpty || domain == "ai.onnx" { return table[opType] != nil && !microsoftOnly.contains(opType) }
        return domain == "com.microsoft" && microsoftDomain.contains(opType)
    }

    /// Refuses a node whose input or output count, or whose missing required
    /// names, do not fit the operator (a residual Add with no output, a Relu with two inputs).
    static func check(_ c: NodeContext) throws {
        guard let a = table[c.node.opType] else { return }
        var inputs = a.inputs
        // Forms that moved from attributes to inputs: the newer opsets require the input.
        switch c.node.opType {
        case "Slice" where c.opset >= 10: inputs = 3...5
        case "Pad" where c.opset >= 11: inputs = 2...4
        case "Reshape" where c.opset < 5: inputs = 1...1
        default: break
        }
        let n = c.node.inputs.count, m = c.node.outputs.count
        guard inputs.contains(n) else {
            throw ShapeError.invalid("\(c.node.opType) takes \(describe(inputs)) inputs", expected: describe(inputs), actual: "\(n) inputs")
        }
        guard a.outputs.contains(m) else {
            throw ShapeError.invalid("\(c.node.opType) has \(describe(a.outputs)) outputs", expected: describe(a.outputs), actual: "\(m) outputs")
        }
        for i in requiredInputs[c.node.opType] ?? Array(0..<inputs.lowerBound) where i < n && c.node.inputs[i].isEmpty {
            throw ShapeError.invalid("required input \(i) is not given", attribute: "input \(i)", expected: "a value name", actual: "\"\"")
        }
        if c.node.outputs.allSatisfy(\.isEmpty) {
            throw ShapeError.invalid("no output is named", expected: "at least one output name", actual: "\(m) empty names")
        }
    }

    static func describe(_ r: ClosedRange<Int>) -> String {
        r.upperBound == .max ? "at least \(r.lowerBound)" : r.count == 1 ? "\(r.lowerBound)" : "\(r.lowerBound) to \(r.upperBound)"
    }
}
