/// Dispatch from op type to its shape rule (one family per file: ShapeRules+*.swift).
enum ShapeRules {
    static let supported: Set<String> = [
        "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Clip", "Sigmoid", "Identity", "Dropout", "Softmax", "Cast",
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean",
        "Add", "Sum", "Mul", "Sub", "Concat", "Pad", "Flatten", "Reshape", "Shape", "Gather",
        "Unsqueeze", "Squeeze", "Slice", "ConstantOfShape", "Constant", "Gemm", "MatMul",
    ]

    static func infer(_ c: NodeContext) throws -> [ValueFacts] {
        guard c.node.domain.isEmpty || c.node.domain == "ai.onnx" else {
            throw RuleError.unsupported("operator \(c.node.domain).\(c.node.opType) is outside the default ONNX domain")
        }
        switch c.node.opType {
        case "Conv": return [try conv(c)]
        case "ConvTranspose": throw RuleError.unsupported("ConvTranspose is not supported by the shape checker")
        case "BatchNormalization": return try batchNorm(c)
        case "Relu", "LeakyRelu", "Clip", "Sigmoid", "Identity", "Softmax":
            return [ValueFacts(elemType: c.elemType, shape: c.shape(0), values: c.node.opType == "Identity" ? c.input(0)?.values : nil)]
        case "Cast":
            return [ValueFacts(elemType: Int32(c.int("to", 0)), shape: c.shape(0), values: c.input(0)?.values)]
        case "Dropout":
            return [ValueFacts(elemType: c.elemType, shape: c.shape(0)), ValueFacts(elemType: 9, shape: c.shape(0))]
        case "MaxPool", "AveragePool": return try pool(c)
        case "GlobalAveragePool", "GlobalMaxPool": return [try globalPool(c)]
        case "ReduceMean": return [try reduceMean(c)]
        case "Add", "Sum", "Mul", "Sub": return [try elementwise(c)]
        case "Concat": return [try concat(c)]
        case "Pad": return [try pad(c)]
        case "Flatten": return [try flatten(c)]
        case "Reshape": return [try reshape(c)]
        case "Shape": return [shapeOf(c)]
        case "Gather": return [try gather(c)]
        case "Unsqueeze": return [try unsqueeze(c)]
        case "Squeeze": return [try squeeze(c)]
        case "Slice": return [try slice(c)]
        case "ConstantOfShape": return [constantOfShape(c)]
        case "Constant": return [try constant(c)]
        case "Gemm": return [try gemm(c)]
        case "MatMul": return [try matmul(c)]
        default: throw RuleError.unsupported("operator \(c.node.opType) is not known to the shape checker; its outputs are unknown")
        }
    }

    /// A normalised axis in 0..<rank, or a shape error.
    static func axis(_ a: Int64, rank: Int, _ what: String) throws -> Int {
        let r = Int64(rank)
        guard a >= -r && a < r else { throw RuleError.shape("\(what) \(a) is out of range for rank \(rank)") }
        return Int(a < 0 ? a + r : a)
    }
}
