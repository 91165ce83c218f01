import Foundation
import Testing
import ResNetIR
import ResNetONNX
@testable import ResNetCheck

/// int8 models (issue 13): onnxruntime's QDQ and QOperator fixtures read as their float
/// originals; broken scales and zero points get RN110-RN114; int8 joins get RN120/RN121.
struct QuantizedCheckTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func check(_ path: String) throws -> CheckReport {
        ShapeChecker.check(try ONNXReader.read(path: repo + "/" + path).model, file: path)
    }

    @Test(arguments: ["basic-B", "v1.5", "v1d"], ["qdq", "qop"])
    func quantizedFixtureReadsAsItsFloatOriginal(_ name: String, _ format: String) throws {
        let float = try Self.check("fixtures/\(name)/model.onnx")
        let q = try Self.check("fixtures/quantized/\(name)-\(format)/model.onnx")
        #expect(q.model.family == float.model.family && q.model.depth == float.model.depth)
        #expect(q.model.variant == float.model.variant && q.model.shortcutOption == float.model.shortcutOption)
        #expect(q.model.blockType == float.model.blockType && q.model.stageBlocks == float.model.stageBlocks)
        #expect(q.blocks.map(\.name) == float.blocks.map(\.name))
        #expect(q.blocks.map(\.shortcut) == float.blocks.map(\.shortcut))
        #expect(q.blocks.map(\.preActivation) == float.blocks.map(\.preActivation))
        #expect(q.blocks.map { $0.mainConvs.map(\.kernel) } == float.blocks.map { $0.mainConvs.map(\.kernel) })
        #expect(q.summary.macs == float.summary.macs)
        #expect(q.summary.paramsWithBatchNorm == float.summary.params, "BN folded by quant_pre_process, counted back")
        #expect(q.quantization?.format == (format == "qdq" ? "qdq" : "qoperator"))
        #expect(q.quantization?.int8MACs == q.summary.macs)
        #expect(q.quantization?.activationTypes == ["UINT8"])
        let perChannel = name != "basic-B"
        let weights = q.blocks.reduce(0) { $0 + $1.mainConvs.count + $1.shortcutConvs.count } + q.stemConvs.count + 1  // + fc
        #expect(q.quantization?.weightsPerChannel == (perChannel ? weights : 0))
        #expect(q.quantization?.weightsPerTensor == (perChannel ? 0 : weights))
        #expect(!q.diagnostics.contains { $0.severity >= .warning }, "\(q.diagnostics)")
        #expect(float.quantization == nil)
    }

    // MARK: synthetic graphs

    static func scalar(_ name: String, _ v: Float) -> Tensor {
        Tensor(name: name, dataType: .float, dims: [], data: TensorBytes(withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }))
    }
    static func tensor(_ name: String, _ type: DataType, _ dims: [Int64], bytesPerElement: Int = 1) -> Tensor {
        Tensor(name: name, dataType: type, dims: dims, data: TensorBytes([UInt8](repeating: 0, count: Int(dims.reduce(1, *)) * bytesPerElement)))
    }
    static let pads = Attribute(name: "pads", value: .ints([1, 1, 1, 1]))
    static func node(_ name: String, _ op: String, _ inputs: [String], _ output: String, domain: String = "", _ attributes: [Attribute] = []) -> Node {
        Node(name: name, opType: op, domain: domain, inputs: inputs, outputs: [output], attributes: attributes)
    }

    static func model(_ nodes: [Node], _ initializers: [Tensor], output: String, microsoft: Bool = false) -> Model {
        let g = Graph(nodes: nodes, initializers: initializers,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.symbol("N"), .known(8), .known(8), .known(8)])))],
                      outputs: [ValueInfo(name: output, type: nil)])
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)] + (microsoft ? [OpsetImport(domain: "com.microsoft", version: 1)] : []), graph: g)
    }

    /// A QDQ basic block on x: Q/DQ of x (scale `input`), two DQ-weighted 3x3 convs whose output is
    /// requantized with scale `main`, added to the shortcut. `floatMain`: the convs read float weights and
    /// the main operand is not requantized; `floatShortcut`: the shortcut is a float 1x1 conv of x.
    static func qdqBlock(input: Float, main: Float, floatMain: Bool = false, floatShortcut: Bool = false) -> CheckReport {
        var nodes = [node("b.x_q", "QuantizeLinear", ["x", "sx", "zx"], "xq"), node("b.x_dq", "DequantizeLinear", ["xq", "sx", "zx"], "xd")]
        var inits = [scalar("sx", input), tensor("zx", .uint8, []), scalar("sa", 0.05), scalar("sc", main), scalar("sw", 0.01), tensor("zw", .int8, []),
                     tensor("w1q", .int8, [8, 8, 3, 3]), tensor("w2q", .int8, [8, 8, 3, 3])]
        if floatMain {
            inits += [tensor("w1", .float, [8, 8, 3, 3], bytesPerElement: 4), tensor("w2", .float, [8, 8, 3, 3], bytesPerElement: 4)]
            nodes += [node("b.conv1", "Conv", ["x", "w1"], "a", [pads]), node("b.relu", "Relu", ["a"], "ar"), node("b.conv2", "Conv", ["ar", "w2"], "cd", [pads])]
        } else {
            nodes += [node("b.w1_dq", "DequantizeLinear", ["w1q", "sw", "zw"], "w1"), node("b.w2_dq", "DequantizeLinear", ["w2q", "sw", "zw"], "w2"),
                      node("b.conv1", "Conv", ["xd", "w1"], "a", [pads]), node("b.a_q", "QuantizeLinear", ["a", "sa", "zx"], "aq"),
                      node("b.a_dq", "DequantizeLinear", ["aq", "sa", "zx"], "ad"), node("b.conv2", "Conv", ["ad", "w2"], "c", [pads]),
                      node("b.c_q", "QuantizeLinear", ["c", "sc", "zx"], "cq"), node("b.c_dq", "DequantizeLinear", ["cq", "sc", "zx"], "cd")]
        }
        var shortcut = "xd"
        if floatShortcut {
            inits.append(tensor("ws", .float, [8, 8, 1, 1], bytesPerElement: 4))
            nodes.append(node("b.downsample", "Conv", ["x", "ws"], "s"))
            shortcut = "s"
        }
        nodes += [node("b.add", "Add", ["cd", shortcut], "y"), node("b.y_q", "QuantizeLinear", ["y", "sc", "zx"], "yq")]
        return ShapeChecker.check(model(nodes, inits, output: "yq"), file: "m")
    }

    /// The same block in QOperator form: QLinearConv twice, then com.microsoft QLinearAdd.
    static func qopBlock(input: Float, main: Float) -> CheckReport {
        let inits = [scalar("sx", input), tensor("zx", .uint8, []), scalar("sa", 0.05), scalar("sc", main), scalar("sw", 0.01), tensor("zw", .int8, []),
                     tensor("w1q", .int8, [8, 8, 3, 3]), tensor("w2q", .int8, [8, 8, 3, 3])]
        let nodes = [node("b.x_q", "QuantizeLinear", ["x", "sx", "zx"], "xq"),
                     node("b.conv1", "QLinearConv", ["xq", "sx", "zx", "w1q", "sw", "zw", "sa", "zx"], "aq", [pads]),
                     node("b.conv2", "QLinearConv", ["aq", "sa", "zx", "w2q", "sw", "zw", "sc", "zx"], "cq", [pads]),
                     node("b.add", "QLinearAdd", ["cq", "sc", "zx", "xq", "sx", "zx", "sc", "zx"], "yq", domain: "com.microsoft")]
        return ShapeChecker.check(model(nodes, inits, output: "yq", microsoft: true), file: "m")
    }

    struct JoinCase: CustomTestStringConvertible, Sendable {
        let name: String
        let report: @Sendable () -> CheckReport
        let expected: [DiagnosticCode]
        var testDescription: String { name }
    }

    static let joins: [JoinCase] = [
        JoinCase(name: "QDQ, scales 2x apart", report: { qdqBlock(input: 0.02, main: 0.04) }, expected: []),
        JoinCase(name: "QDQ, scales 10x apart", report: { qdqBlock(input: 0.01, main: 0.1) }, expected: [.quantJoinScales]),
        JoinCase(name: "QDQ, scales 8x apart the other way", report: { qdqBlock(input: 0.08, main: 0.01) }, expected: [.quantJoinScales]),
        JoinCase(name: "QOperator, scales 3x apart", report: { qopBlock(input: 0.03, main: 0.01) }, expected: []),
        JoinCase(name: "QOperator, scales 20x apart", report: { qopBlock(input: 0.01, main: 0.2) }, expected: [.quantJoinScales]),
        JoinCase(name: "QDQ, a zero scale is not a ratio", report: { qdqBlock(input: 0, main: 0.1) }, expected: []),
        JoinCase(name: "QDQ, a NaN scale is not a ratio", report: { qdqBlock(input: .nan, main: 0.1) }, expected: []),
        JoinCase(name: "QDQ, scales 1e-38 and 1e38", report: { qdqBlock(input: 1e-38, main: 1e38) }, expected: [.quantJoinScales]),
        JoinCase(name: "float shortcut, int8 main branch", report: { qdqBlock(input: 0.01, main: 0.01, floatShortcut: true) }, expected: [.quantBranchMismatch]),
        JoinCase(name: "int8 shortcut, float main branch", report: { qdqBlock(input: 0.01, main: 0.01, floatMain: true) }, expected: [.quantBranchMismatch]),
    ]

    @Test(arguments: joins)
    func int8Join(_ c: JoinCase) {
        let r = c.report()
        #expect(r.blocks.count == 1, "the join is found: \(r.diagnostics)")
        #expect(r.blocks.first?.mainConvs.count == 2)
        let found = r.diagnostics.filter { [.quantJoinScales, .quantBranchMismatch].contains($0.code) }
        #expect(found.map(\.code) == c.expected, "\(found)")
        for d in found {
            #expect(d.node == "b.add" && d.message.contains("block '"))
            #expect(d.severity == .warning)
        }
        if c.expected == [.quantJoinScales], let d = found.first {
            #expect(d.message.contains("main branch") && d.message.contains("shortcut") && d.actual?.hasSuffix("x") == true)
        }
        #expect(!r.diagnostics.contains { $0.severity == .error }, "\(r.diagnostics)")
    }

    struct ParameterCase: CustomTestStringConvertible, Sendable {
        let name: String
        let scale: Tensor
        let zeroPoint: Tensor
        var axis: Int64 = 1
        let code: DiagnosticCode
        var testDescription: String { name }
    }

    static let parameters: [ParameterCase] = [
        ParameterCase(name: "int8 scale", scale: tensor("s", .int8, []), zeroPoint: tensor("z", .uint8, []), code: .quantScaleType),
        ParameterCase(name: "scale with 4 values for 8 channels", scale: tensor("s", .float, [4], bytesPerElement: 4), zeroPoint: tensor("z", .uint8, [4]), code: .quantScaleShape),
        ParameterCase(name: "2-D scale", scale: tensor("s", .float, [8, 1], bytesPerElement: 4), zeroPoint: tensor("z", .uint8, [8, 1]), code: .quantScaleShape),
        ParameterCase(name: "int64 zero point", scale: scalar("s", 0.1), zeroPoint: tensor("z", .int64, [], bytesPerElement: 8), code: .quantZeroPointType),
        ParameterCase(name: "per-channel zero point for a scalar scale", scale: scalar("s", 0.1), zeroPoint: tensor("z", .uint8, [8]), code: .quantZeroPointShape),
        ParameterCase(name: "axis 4 of a rank-4 tensor", scale: tensor("s", .float, [8], bytesPerElement: 4), zeroPoint: tensor("z", .uint8, [8]), axis: 4, code: .quantAxis),
    ]

    @Test(arguments: parameters)
    func quantizationParameters(_ c: ParameterCase) {
        let q = Self.node("x_q", "QuantizeLinear", ["x", "s", "z"], "xq", [Attribute(name: "axis", value: .int(c.axis))])
        let r = ShapeChecker.check(Self.model([q], [c.scale, c.zeroPoint], output: "xq"), file: "m")
        let found = r.diagnostics.filter { $0.severity == .error }
        #expect(found.map(\.code) == [c.code], "\(r.diagnostics)")
        #expect(found.first?.node == "x_q" && found.first?.message.hasPrefix("QuantizeLinear") == true)
        #expect(found.first?.expected != nil && found.first?.actual != nil)
    }

    /// com.microsoft operators pass the ONNX validation step when the domain is imported, and only then.
    @Test func microsoftDomain() {
        let m = Self.model([Self.node("b.add", "QLinearAdd", ["x", "s", "z", "x", "s", "z", "s", "z"], "y", domain: "com.microsoft")],
                           [Self.scalar("s", 0.1), Self.tensor("z", .uint8, [])], output: "y", microsoft: true)
        #expect(!ONNXValidation.findings(m).contains { $0.code == .unknownDomain })
        var notImported = m
        notImported.opsetImports = [OpsetImport(domain: "", version: 17)]
        #expect(ONNXValidation.findings(notImported).contains { $0.code == .unknownDomain })
        var unknownOp = m
        unknownOp.graph.nodes[0].opType = "QLinearSoftmaxOfDoom"
        #expect(ONNXValidation.findings(unknownOp).contains { $0.code == .unknownDomain })
    }
}
