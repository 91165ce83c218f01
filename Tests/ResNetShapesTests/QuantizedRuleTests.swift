import Testing
import ResNetIR
@testable import ResNetShapes

/// Quantized operators (issue 13): shapes as their float twins', output types from
/// the zero points, and each broken scale / zero point / axis with its own fault.
struct QuantizedRuleTests {
    static let n = SDim.symbol("N")
    static func f(_ type: DataType, _ dims: [Int64]) -> ValueFacts { ValueFacts(elemType: type.rawValue, shape: dims.map { .known($0) }) }
    static func x(_ type: DataType, _ c: Int64, _ hw: Int64) -> ValueFacts { ValueFacts(elemType: type.rawValue, shape: [n, .known(c), .known(hw), .known(hw)]) }
    static let scalar = f(.float, []), u8 = f(.uint8, []), i8 = f(.int8, [])
    static func a(_ name: String, _ v: [Int64]) -> Attribute { Attribute(name: name, value: .ints(v)) }
    static func a(_ name: String, _ v: Int64) -> Attribute { Attribute(name: name, value: .int(v)) }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let op: String
        var domain = ""
        let inputs: [ValueFacts?]
        var attributes: [Attribute] = []
        var opset: Int64 = 17
        /// The output's shape and type, or the fault a scale/zero point must raise (nil: an ordinary RN011 error).
        var shape: SShape? = nil
        var type: DataType? = nil
        var fault: QuantizationFault?? = .none
        var testDescription: String { name }
    }

    static let conv3x3 = [a("kernel_shape", [3, 3]), a("pads", [1, 1, 1, 1]), a("strides", [2, 2])]
    static let cases: [Case] = [
        Case(name: "Q: shape kept, uint8 from the zero point", op: "QuantizeLinear", inputs: [x(.float, 8, 16), scalar, u8],
             shape: [n, .known(8), .known(16), .known(16)], type: .uint8),
        Case(name: "Q: int8 zero point gives int8", op: "QuantizeLinear", inputs: [x(.float, 8, 16), scalar, i8], shape: [n, .known(8), .known(16), .known(16)], type: .int8),
        Case(name: "Q: FLOAT8E4M3FN zero point (opset 19)", op: "QuantizeLinear", inputs: [x(.float, 8, 16), scalar, f(.float8e4m3fn, [])], opset: 19,
             shape: [n, .known(8), .known(16), .known(16)], type: .float8e4m3fn),
        Case(name: "Q: no zero point gives uint8", op: "QuantizeLinear", inputs: [x(.float, 8, 16), scalar], shape: [n, .known(8), .known(16), .known(16)], type: .uint8),
        Case(name: "DQ: float out", op: "DequantizeLinear", inputs: [x(.uint8, 8, 16), scalar, u8], shape: [n, .known(8), .known(16), .known(16)], type: .float),
        Case(name: "DQ per-channel weight", op: "DequantizeLinear", inputs: [f(.int8, [16, 8, 3, 3]), f(.float, [16]), f(.int8, [16])],
             attributes: [a("axis", 0)], shape: [16, 8, 3, 3].map { .known($0) }, type: .float),
        Case(name: "DQ int32 bias", op: "DequantizeLinear", inputs: [f(.int32, [16]), f(.float, [16]), f(.int32, [16])],
             attributes: [a("axis", 0)], shape: [.known(16)], type: .float),
        Case(name: "DQ scale of int8", op: "DequantizeLinear", inputs: [x(.uint8, 8, 16), i8, u8], fault: .scaleType),
        Case(name: "DQ per-channel scale of the wrong length", op: "DequantizeLinear", inputs: [f(.int8, [16, 8, 3, 3]), f(.float, [8]), f(.int8, [8])],
             attributes: [a("axis", 0)], fault: .scaleShape),
        Case(name: "DQ 2-D scale", op: "DequantizeLinear", inputs: [f(.int8, [16, 8, 3, 3]), f(.float, [16, 1]), f(.int8, [16, 1])], fault: .scaleShape),
        Case(name: "DQ 1-D scale before opset 13", op: "DequantizeLinear", inputs: [f(.int8, [16, 8]), f(.float, [16]), f(.int8, [16])], opset: 10, fault: .scaleShape),
        Case(name: "DQ per-channel axis out of range", op: "DequantizeLinear", inputs: [f(.int8, [16, 8, 3, 3]), f(.float, [16]), f(.int8, [16])],
             attributes: [a("axis", 4)], fault: .axis),
        Case(name: "DQ float zero point", op: "DequantizeLinear", inputs: [x(.uint8, 8, 16), scalar, scalar], fault: .zeroPointType),
        Case(name: "DQ zero point shaped unlike its scale", op: "DequantizeLinear", inputs: [f(.int8, [16, 8, 3, 3]), f(.float, [16]), i8],
             attributes: [a("axis", 0)], fault: .zeroPointShape),
        Case(name: "Q block_size is unsupported", op: "QuantizeLinear", inputs: [x(.float, 8, 16), scalar, u8], attributes: [a("block_size", 2)], opset: 21),
        Case(name: "QLinearConv as Conv, per-channel weight", op: "QLinearConv",
             inputs: [x(.uint8, 8, 16), scalar, u8, f(.int8, [16, 8, 3, 3]), f(.float, [16]), f(.int8, [16]), scalar, u8, f(.int32, [16])],
             attributes: conv3x3, shape: [n, .known(16), .known(8), .known(8)], type: .uint8),
        Case(name: "QLinearConv channels differ from the weight's", op: "QLinearConv",
             inputs: [x(.uint8, 4, 16), scalar, u8, f(.int8, [16, 8, 3, 3]), scalar, i8, scalar, u8], attributes: conv3x3),
        Case(name: "QLinearConv per-channel input scale", op: "QLinearConv",
             inputs: [x(.uint8, 8, 16), f(.float, [8]), f(.uint8, [8]), f(.int8, [16, 8, 3, 3]), scalar, i8, scalar, u8], attributes: conv3x3, fault: .scaleShape),
        Case(name: "QLinearConv int32 activation zero point", op: "QLinearConv",
             inputs: [x(.uint8, 8, 16), scalar, f(.int32, []), f(.int8, [16, 8, 3, 3]), scalar, i8, scalar, u8], attributes: conv3x3, fault: .zeroPointType),
        Case(name: "ConvInteger: int32 out", op: "ConvInteger", inputs: [x(.uint8, 8, 16), f(.int8, [16, 8, 3, 3]), u8], attributes: conv3x3,
             shape: [n, .known(16), .known(8), .known(8)], type: .int32),
        Case(name: "QLinearMatMul", op: "QLinearMatMul", inputs: [f(.uint8, [2, 16]), scalar, u8, f(.int8, [16, 10]), scalar, i8, scalar, u8],
             shape: [.known(2), .known(10)], type: .uint8),
        Case(name: "MatMulInteger: int32 out", op: "MatMulInteger", inputs: [f(.uint8, [2, 16]), f(.int8, [16, 10])], shape: [.known(2), .known(10)], type: .int32),
        Case(name: "QGemm transB", op: "QGemm", domain: "com.microsoft",
             inputs: [f(.uint8, [2, 16]), scalar, u8, f(.int8, [10, 16]), f(.float, [10]), f(.int8, [10]), f(.int32, [10]), scalar, u8],
             attributes: [a("transB", 1)], shape: [.known(2), .known(10)], type: .uint8),
        Case(name: "QGemm without y_scale is float", op: "QGemm", domain: "com.microsoft",
             inputs: [f(.uint8, [2, 16]), scalar, u8, f(.int8, [16, 10]), scalar, i8], shape: [.known(2), .known(10)], type: .float),
        Case(name: "QGemm K mismatch", op: "QGemm", domain: "com.microsoft", inputs: [f(.uint8, [2, 16]), scalar, u8, f(.int8, [12, 10]), scalar, i8]),
        Case(name: "QLinearAdd broadcasts like Add", op: "QLinearAdd", domain: "com.microsoft",
             inputs: [x(.uint8, 8, 16), scalar, u8, f(.uint8, [1, 8, 1, 1]), scalar, u8, scalar, u8], shape: [n, .known(8), .known(16), .known(16)], type: .uint8),
        Case(name: "QLinearAdd of shapes that do not broadcast", op: "QLinearAdd", domain: "com.microsoft",
             inputs: [x(.uint8, 8, 16), scalar, u8, x(.uint8, 16, 8), scalar, u8, scalar, u8]),
        Case(name: "QLinearAdd with a per-channel operand scale", op: "QLinearAdd", domain: "com.microsoft",
             inputs: [x(.uint8, 8, 16), f(.float, [8]), f(.uint8, [8]), x(.uint8, 8, 16), scalar, u8, scalar, u8], fault: .scaleShape),
        Case(name: "QLinearGlobalAveragePool", op: "QLinearGlobalAveragePool", domain: "com.microsoft", inputs: [x(.uint8, 8, 16), scalar, u8, scalar, u8],
             shape: [n, .known(8), .known(1), .known(1)], type: .uint8),
        Case(name: "QLinearGlobalAveragePool channels_last", op: "QLinearGlobalAveragePool", domain: "com.microsoft",
             inputs: [f(.uint8, [1, 16, 16, 8]), scalar, u8, scalar, u8], attributes: [a("channels_last", 1)],
             shape: [1, 1, 1, 8].map { .known($0) }, type: .uint8),
        Case(name: "QLinearAveragePool as AveragePool", op: "QLinearAveragePool", domain: "com.microsoft", inputs: [x(.uint8, 8, 15), scalar, u8, scalar, u8],
             attributes: [a("kernel_shape", [2, 2]), a("strides", [2, 2]), a("ceil_mode", 1)], shape: [n, .known(8), .known(8), .known(8)], type: .uint8),
        Case(name: "QLinearConcat of (tensor, scale, zp) triples", op: "QLinearConcat", domain: "com.microsoft",
             inputs: [scalar, u8, x(.uint8, 8, 16), scalar, u8, x(.uint8, 4, 16), scalar, u8], attributes: [a("axis", 1)],
             shape: [n, .known(12), .known(16), .known(16)], type: .uint8),
        Case(name: "QLinearConcat with a broken triple", op: "QLinearConcat", domain: "com.microsoft",
             inputs: [scalar, u8, x(.uint8, 8, 16), scalar, u8, x(.uint8, 4, 16), scalar], attributes: [a("axis", 1)]),
        Case(name: "QLinearSigmoid", op: "QLinearSigmoid", domain: "com.microsoft", inputs: [x(.int8, 8, 4), scalar, i8, scalar, i8],
             shape: [n, .known(8), .known(4), .known(4)], type: .int8),
        Case(name: "QLinearLeakyRelu output zero point of float", op: "QLinearLeakyRelu", domain: "com.microsoft",
             inputs: [x(.uint8, 8, 4), scalar, u8, scalar, scalar], fault: .zeroPointType),
    ]

    /// Numbers from a file at their extremes: an error or a shape, never a trap.
    static let hostile: [Case] = [
        Case(name: "DQ axis Int64.min", op: "DequantizeLinear", inputs: [f(.int8, [16, 8]), f(.float, [16]), f(.int8, [16])],
             attributes: [a("axis", Int64.min)], fault: .axis),
        Case(name: "DQ axis Int64.max", op: "DequantizeLinear", inputs: [f(.int8, [16, 8]), f(.float, [16]), f(.int8, [16])],
             attributes: [a("axis", Int64.max)], fault: .axis),
        Case(name: "Q output_dtype Int64.max", op: "QuantizeLinear", inputs: [x(.float, 8, 16), scalar], attributes: [a("output_dtype", Int64.max)], opset: 21),
        Case(name: "QLinearConv stride 2^62", op: "QLinearConv",
             inputs: [x(.uint8, 8, 16), scalar, u8, f(.int8, [16, 8, 3, 3]), scalar, i8, scalar, u8],
             attributes: [a("kernel_shape", [3, 3]), a("strides", [1 << 62, 1 << 62])], shape: [n, .known(16), .known(1), .known(1)], type: .uint8),
        Case(name: "QLinearConv group Int64.min", op: "QLinearConv",
             inputs: [x(.uint8, 8, 16), scalar, u8, f(.int8, [16, 8, 3, 3]), scalar, i8, scalar, u8], attributes: [a("group", Int64.min)]),
        Case(name: "QLinearGlobalAveragePool channels_last on rank 2", op: "QLinearGlobalAveragePool", domain: "com.microsoft",
             inputs: [f(.uint8, [1, 8]), scalar, u8, scalar, u8], attributes: [a("channels_last", 1)]),
        Case(name: "QLinearAveragePool kernel 2^62", op: "QLinearAveragePool", domain: "com.microsoft", inputs: [x(.uint8, 8, 15), scalar, u8, scalar, u8],
             attributes: [a("kernel_shape", [1 << 62, 1 << 62])]),
        Case(name: "QLinearConcat axis Int64.min", op: "QLinearConcat", domain: "com.microsoft",
             inputs: [scalar, u8, x(.uint8, 8, 16), scalar, u8], attributes: [a("axis", Int64.min)]),
        Case(name: "QGemm rank-3 B", op: "QGemm", domain: "com.microsoft", inputs: [f(.uint8, [2, 16]), scalar, u8, f(.int8, [1, 16, 10]), scalar, i8]),
    ]

    @Test(arguments: hostile)
    func hostileNumbers(_ t: Case) throws { try rule(t) }

    @Test(arguments: cases)
    func rule(_ t: Case) throws {
        let names = t.inputs.indices.map { "in\($0)" }
        let node = Node(name: "q", opType: t.op, domain: t.domain, inputs: names, outputs: ["out"], attributes: t.attributes)
        let c = NodeContext(node: node, inputs: t.inputs, opset: t.opset)
        if let shape = t.shape {
            let out = try ShapeRules.infer(c)
            #expect(out.first?.shape == shape)
            #expect(out.first?.elemType == t.type?.rawValue)
        } else {
            do {
                _ = try ShapeRules.infer(c)
                Issue.record("expected an error")
            } catch let e as ShapeError {
                if case let .some(fault) = t.fault { #expect(e.quantization == fault, "\(e)") } else { #expect(e.quantization == nil, "\(e)") }
            }
        }
    }

    /// com.microsoft operators only in their domain; the ONNX ones in both.
    @Test func domains() {
        #expect(OperatorArity.knows("QLinearAdd", domain: "com.microsoft"))
        #expect(!OperatorArity.knows("QLinearAdd", domain: ""))
        #expect(OperatorArity.knows("QLinearConv", domain: ""))
        #expect(!OperatorArity.knows("QLinearConv", domain: "com.microsoft"))
        #expect(OperatorArity.knows("DequantizeLinear", domain: "com.microsoft"))
        #expect(!OperatorArity.knows("Relu", domain: "com.microsoft"))
    }
}
