import Testing
import ResNetIR
@testable import ResNetCheck

/// Block names from what exporters really write (issue 9).
struct BlockNamingTests {
    @Test(arguments: [
        ("/layer2/layer2.0/conv1/Conv", "layer2.0.conv1"),
        ("/layer2/layer2.0/downsample/downsample.0/Conv", "layer2.0.downsample.0"),
        ("/layer1/layer1.1/relu_1/Relu", "layer1.1.relu_1"),
        ("/stages/stages.1/blocks/blocks.0/conv2/conv/Conv", "stages.1.blocks.0.conv2.conv"),
        ("/conv1/Conv", "conv1"),
        ("/Add", ""),
        ("layer3.2.conv1", "layer3.2.conv1"),
        ("node_add_187", "node_add_187"),
    ])
    func modulePath(_ c: (String, String)) {
        #expect(BlockNaming.modulePath(c.0).joined(separator: ".") == c.1)
    }

    /// A basic block y = relu(bn(conv(relu(bn(conv(x))))) + x) with the given node and weight names.
    static func block(nodeNames: [String], weights: [String]) -> Graph {
        let w = weights.map { Tensor(name: $0, dataType: .float, dims: [4, 4, 3, 3], data: TensorBytes([UInt8](repeating: 0, count: 576))) }
        let pads = Attribute(name: "pads", value: .ints([1, 1, 1, 1]))
        let nodes = [
            Node(name: nodeNames[0], opType: "Conv", inputs: ["x", weights[0]], outputs: ["a"], attributes: [pads]),
            Node(name: nodeNames[1], opType: "Relu", inputs: ["a"], outputs: ["b"]),
            Node(name: nodeNames[2], opType: "Conv", inputs: ["b", weights[1]], outputs: ["c"], attributes: [pads]),
            Node(name: nodeNames[3], opType: "Add", inputs: ["c", "x"], outputs: ["d"]),
            Node(name: nodeNames[4], opType: "Relu", inputs: ["d"], outputs: ["y"]),
        ]
        return Graph(nodes: nodes, initializers: w,
                     inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.symbol("N"), .known(4), .known(8), .known(8)])))],
                     outputs: [ValueInfo(name: "y", type: nil)])
    }

    static func names(_ g: Graph) -> [String] {
        ShapeChecker.check(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: g), file: "m").blocks.map(\.name)
    }

    @Test func torchLegacyScopes() {
        let g = Self.block(nodeNames: ["/layer2/layer2.0/conv1/Conv", "/layer2/layer2.0/relu/Relu", "/layer2/layer2.0/conv2/Conv",
                                       "/layer2/layer2.0/Add", "/layer2/layer2.0/relu_1/Relu"],
                           weights: ["onnx::Conv_193", "onnx::Conv_196"])
        #expect(Self.names(g) == ["layer2.0"])
    }

    @Test func dynamoNamesFallBackToParameters() {
        let g = Self.block(nodeNames: ["node_conv2d", "node_relu", "node_conv2d_1", "node_add_187", "node_relu_1"],
                           weights: ["layer3.1.conv1.weight", "layer3.1.conv2.weight"])
        #expect(Self.names(g) == ["layer3.1"])
    }

    @Test func anonymousBlocksAreNamedByStage() {
        let g = Self.block(nodeNames: ["", "", "", "", ""], weights: ["w1", "w2"])
        #expect(Self.names(g) == ["stage1.block1"])
    }

    @Test func namesAreUnique() {
        var blocks = (0..<3).map { _ in
            ResidualBlock(name: "", stage: 1, join: "j", shortcut: .identity, strideOn: nil, stridePosition: nil, mainConvs: [], shortcutConvs: [],
                          preActivation: false, inputShape: nil, outputShape: nil, mainShape: nil, shortcutShape: nil, outputValue: "",
                          mainValue: "", shortcutValue: "", nodeIndices: [], joinIndex: 0)
        }
        BlockNaming.assign(&blocks, candidates: ["layer1", "layer1", nil])
        #expect(blocks.map(\.name) == ["layer1", "layer1#2", "stage1.block3"])
        BlockNaming.assign(&blocks, candidates: ["a", "a", "a#2"])
        #expect(Set(blocks.map(\.name)).count == 3)
    }
}

/// A join is a join by topology alone (issue 9): unknown operators on a branch
/// give RN012 and a summary that says its MACs are a lower bound, never "no blocks".
struct TopologyJoinTests {
    @Test func unknownOperatorOnTheMainBranch() {
        var g = BlockNamingTests.block(nodeNames: ["l1.0.conv1", "l1.0.act", "l1.0.conv2", "l1.0.add", "l1.0.relu"], weights: ["w1", "w2"])
        g.nodes[1].opType = "Mish"  // not known to the shape library: its output's shape is unknown
        let report = ShapeChecker.check(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: g), file: "m")
        #expect(report.blocks.map(\.name) == ["l1.0"])
        #expect(report.diagnostics.contains { $0.code == .unknownShape })
        #expect(report.diagnostics.contains { $0.code == .unsupportedOp && $0.node == "l1.0.act" })
        #expect(report.summary.incomplete?.contains("Mish") == true)
    }
}
