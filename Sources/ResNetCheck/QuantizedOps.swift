import ResNetIR

/// How the residual analysis and the summary see quantized operators: QuantizeLinear and
/// DequantizeLinear are transparent (they change the encoding, not the network), and each
/// quantized compute operator stands for its float twin, with its operands at other positions.
enum QuantizedOps {
    static let transparent: Set<String> = ["QuantizeLinear", "DequantizeLinear"]

    static func isTransparent(_ n: Node) -> Bool { transparent.contains(n.opType) }

    /// The float operator a node computes: QLinearConv and ConvInteger are a Conv, QGemm a Gemm,
    /// QLinearAdd an Add, and so on; any other node is itself.
    static func twin(_ n: Node) -> String {
        switch n.opType {
        case "QLinearConv", "ConvInteger": return "Conv"
        case "QLinearMatMul", "MatMulInteger": return "MatMul"
        case "QGemm" where n.domain == "com.microsoft": return "Gemm"
        case "QLinearAdd" where n.domain == "com.microsoft": return "Add"
        case "QLinearMul" where n.domain == "com.microsoft": return "Mul"
        case "QLinearAveragePool" where n.domain == "com.microsoft": return "AveragePool"
        case "QLinearGlobalAveragePool" where n.domain == "com.microsoft": return "GlobalAveragePool"
        case "QLinearConcat" where n.domain == "com.microsoft": return "Concat"
        case "QLinearLeakyRelu" where n.domain == "com.microsoft": return "LeakyRelu"
        case "QLinearSigmoid" where n.domain == "com.microsoft": return "Sigmoid"
        default: return n.opType
        }
    }

    static func isConv(_ n: Node) -> Bool { twin(n) == "Conv" }

    /// Whether the node runs its arithmetic on 8-bit integers itself (QOperator form).
    static func isInteger(_ n: Node) -> Bool { twin(n) != n.opType }

    /// Index of the weight among a Conv/Gemm/MatMul-like node's inputs.
    static func weightIndex(_ n: Node) -> Int {
        switch n.opType {
        case "QLinearConv", "QLinearMatMul", "QGemm": return 3
        default: return 1
        }
    }

    /// The weight's value name, if the node has one.
    static func weight(_ n: Node) -> String? {
        let i = weightIndex(n)
        return i < n.inputs.count && !n.inputs[i].isEmpty ? n.inputs[i] : nil
    }

    /// The two operands of a residual join: Add/Sum of two, or com.microsoft QLinearAdd (inputs 0 and 3).
    static func joinOperands(_ n: Node) -> (String, String)? {
        if (n.opType == "Add" || n.opType == "Sum") && n.inputs.count == 2 { return (n.inputs[0], n.inputs[1]) }
        if n.opType == "QLinearAdd" && n.domain == "com.microsoft" && n.inputs.count >= 7 { return (n.inputs[0], n.inputs[3]) }
        return nil
    }

    /// The (scale, zero point) inputs describing a join operand or a compute node's output:
    /// QLinearAdd's operand k (0 or 1), or the DequantizeLinear producing a float operand.
    static func operandScale(_ join: Node, operand k: Int, producer: Node?) -> String? {
        if join.opType == "QLinearAdd" && join.domain == "com.microsoft" {
            let i = k == 0 ? 1 : 4
            return i < join.inputs.count ? join.inputs[i] : nil
        }
        if let p = producer, p.opType == "DequantizeLinear", p.inputs.count > 1 { return p.inputs[1] }
        return nil
    }
}
