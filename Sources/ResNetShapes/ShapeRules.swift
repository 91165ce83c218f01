import ResNetIR

/// Shape rules: one pure function per operator over symbolic dims, with
/// overflow-checked arithmetic and arity/attribute checks, grouped by family
/// (Rules+*.swift). The checker and the executor both call these; neither has
/// a copy.
public enum ShapeRules {
    /// Operators with a rule (what is not here has unknown outputs).
    public static var supported: Set<String> { Set(OperatorArity.table.keys) }

    /// Output facts of one node, in output order.
    public static func infer(_ c: NodeContext) throws -> [ValueFacts] {
        let defaultDomain = c.node.domain.isEmpty || c.node.domain == "ai.onnx"
        guard defaultDomain || OperatorArity.knows(c.node.opType, domain: c.node.domain) else {
            throw ShapeError.unsupported("operator \(c.node.domain).\(c.node.opType) is outside the default ONNX domain")
        }
        guard OperatorArity.knows(c.node.opType, domain: c.node.domain) else {
            throw ShapeError.unsupported("operator \(c.node.opType) is not known to the shape library; its outputs are unknown")
        }
        try OperatorArity.check(c)
        switch c.node.opType {
        case "Conv": return [try conv(c)]
        case "BatchNormalization": return try batchNorm(c)
        case "MaxPool", "AveragePool": return try pool(c)
        case "GlobalAveragePool", "GlobalMaxPool": return [try globalPool(c)]
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin": return [try reduce(c)]
        case "Softmax", "LogSoftmax": return [try softmax(c)]
        case "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Neg", "Exp", "Sqrt", "Reciprocal", "Abs":
            return [ValueFacts(elemType: c.elemType, shape: c.shape(0))]
        case "Clip": return [try clip(c)]
        case "Identity": return [ValueFacts(elemType: c.elemType, shape: c.shape(0), values: c.input(0)?.values)]
        case "Cast": return [try cast(c)]
        case "CastLike":
            // Cast to input 1's element type (torch's dynamo exporter writes it for constant biases).
            let to = c.input(1)?.elemType ?? 0
            return [ValueFacts(elemType: to, shape: c.shape(0), values: DataType(rawValue: to).flatMap { castValues(c.input(0)?.values, to: $0) })]
        case "Dropout": return try dropout(c)
        case "Add", "Sub", "Mul", "Div", "Pow", "Sum", "Max", "Min", "Mean", "Equal", "Less", "Greater":
            return [try elementwise(c)]
        case "Where": return [try whereOp(c)]
        case "Concat": return [try concat(c)]
        case "Pad": return [try pad(c)]
        case "Split": return try split(c)
        case "Slice": return [try slice(c)]
        case "Gather": return [try gather(c)]
        case "Flatten": return [try flatten(c)]
        case "Reshape": return [try reshape(c)]
        case "Transpose": return [try transpose(c)]
        case "Unsqueeze": return [try unsqueeze(c)]
        case "Squeeze": return [try squeeze(c)]
        case "Expand": return [try expand(c)]
        case "Shape": return [try shapeOf(c)]
        case "ConstantOfShape": return [try constantOfShape(c)]
        case "Constant": return [try constant(c)]
        case "Range": return [try range(c)]
        case "Gemm": return [try gemm(c)]
        case "MatMul": return [try matmul(c)]
        case "QuantizeLinear": return [try quantizeLinear(c)]
        case "DequantizeLinear": return [try dequantizeLinear(c)]
        case "QLinearConv": return [try qlinearConv(c)]
        case "ConvInteger": return [try convInteger(c)]
        case "QLinearMatMul": return [try qlinearMatMul(c)]
        case "MatMulInteger": return [try matMulInteger(c)]
        case "QGemm": return [try qgemm(c)]
        case "QLinearAdd", "QLinearMul": return [try qlinearBinary(c)]
        case "QLinearGlobalAveragePool": return [try qlinearGlobalAveragePool(c)]
        case "QLinearAveragePool": return [try qlinearAveragePool(c)]
        case "QLinearLeakyRelu", "QLinearSigmoid": return [try qlinearUnary(c)]
        case "QLinearConcat": return [try qlinearConcat(c)]
        default:
            throw ShapeError.unsupported("operator \(c.node.opType) is not known to the shape library; its outputs are unknown")
        }
    }
}
