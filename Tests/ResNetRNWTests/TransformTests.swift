import Testing
import ResNetIR

/// Graph validity rules: one table row per problem kind.
struct GraphValidationTests {
    static func node(_ name: String, _ inputs: [String], _ outputs: [String]) -> Node {
        Node(name: name, opType: "Relu", inputs: inputs, outputs: outputs)
    }
    static func graph(_ nodes: [Node], outputs: [String] = ["y"]) -> Graph {
        Graph(nodes: nodes, inputs: [ValueInfo(name: "x", type: nil)], outputs: outputs.map { ValueInfo(name: $0, type: nil) })
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let graph: Graph
        let expected: [GraphProblem.Kind]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "valid chain", graph: graph([node("a", ["x"], ["t"]), node("b", ["t"], ["y"])]), expected: []),
        Case(name: "optional input omitted", graph: graph([node("a", ["x", ""], ["y"])]), expected: []),
        Case(name: "value produced twice", graph: graph([node("a", ["x"], ["y"]), node("b", ["x"], ["y"])]),
             expected: [.producedTwice]),
        Case(name: "node overwrites a graph input", graph: graph([node("a", ["x"], ["x"]), node("b", ["x"], ["y"])]),
             expected: [.producedTwice]),
        Case(name: "dangling input", graph: graph([node("a", ["nowhere"], ["y"])]), expected: [.undefinedInput]),
        Case(name: "out of order", graph: graph([node("b", ["t"], ["y"]), node("a", ["x"], ["t"])]),
             expected: [.notTopologicallySorted]),
        Case(name: "cycle", graph: graph([node("a", ["x", "u"], ["t"]), node("b", ["t"], ["u"]), node("c", ["t"], ["y"])]),
             expected: [.notTopologicallySorted, .cycle]),
        Case(name: "self loop", graph: graph([node("a", ["x", "y"], ["y"])]), expected: [.cycle]),
        Case(name: "output never produced", graph: graph([node("a", ["x"], ["t"])]), expected: [.undefinedOutput]),
    ]

    @Test(arguments: cases)
    func findsExactlyTheseProblems(_ c: Case) {
        #expect(GraphValidation.problems(c.graph).map(\.kind) == c.expected, "\(GraphValidation.problems(c.graph))")
    }
}

struct FoldBatchNormTests {
    static func f32(_ v: [Float]) -> TensorBytes {
        TensorBytes(v.flatMap { x in withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } })
    }
    static func values(_ t: Tensor) -> [Float] {
        t.data.withUnsafeBytes { raw in (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) } }
    }

    /// Conv (2 output channels, 1x1, no bias) -> BN: folded weights and bias match the formula.
    static func model(sharedOutput: Bool = false) -> Model {
        let inits = [
            Tensor(name: "w", dataType: .float, dims: [2, 1, 1, 1], data: f32([2, -1])),
            Tensor(name: "gamma", dataType: .float, dims: [2], data: f32([1, 3])),
            Tensor(name: "beta", dataType: .float, dims: [2], data: f32([0.5, 0])),
            Tensor(name: "mean", dataType: .float, dims: [2], data: f32([1, -2])),
            Tensor(name: "var", dataType: .float, dims: [2], data: f32([4, 0.25])),
        ]
        var nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"]),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "gamma", "beta", "mean", "var"], outputs: ["y"],
                 attributes: [Attribute(name: "epsilon", value: .float(0))]),
        ]
        if sharedOutput { nodes.append(Node(name: "other", opType: "Relu", inputs: ["c"], outputs: ["z"])) }
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)],
                     graph: Graph(nodes: nodes, initializers: inits, inputs: [ValueInfo(name: "x", type: nil)],
                                  outputs: [ValueInfo(name: "y", type: nil)] + (sharedOutput ? [ValueInfo(name: "z", type: nil)] : [])))
    }

    @Test func foldsWithTheFormula() throws {
        let (m, report) = BatchNormFolding.fold(Self.model())
        #expect(report.folded == 1 && report.skipped.isEmpty)
        #expect(m.graph.nodes.map(\.opType) == ["Conv"])
        #expect(m.graph.nodes[0].outputs == ["y"])
        let byName = Dictionary(uniqueKeysWithValues: m.graph.initializers.map { ($0.name, $0) })
        // s = gamma / sqrt(var) = [0.5, 6]; w' = w * s; b' = (0 - mean) * s + beta
        #expect(Self.values(try #require(byName["w"])) == [1, -6])
        #expect(Self.values(try #require(byName["w.folded_bias"])) == [0, 12])
        #expect(byName["gamma"] == nil && byName["var"] == nil, "BN parameters are dropped")
        #expect(abs(report.largestRelativeChange - 5) < 1e-12 && report.largestChangeAt == "conv")
        #expect(GraphValidation.problems(m.graph).isEmpty)
    }

    @Test func leavesAConvWithOtherConsumers() {
        let (m, report) = BatchNormFolding.fold(Self.model(sharedOutput: true))
        #expect(report.folded == 0 && report.skipped.count == 1)
        #expect(m.graph.nodes.count == 3)
    }
}
