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
    static func model(sharedOutput: Bool = false, bnAttributes: [Attribute] = [Attribute(name: "epsilon", value: .float(0))]) -> Model {
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
                 attributes: bnAttributes),
        ]
        if sharedOutput { nodes.append(Node(name: "other", opType: "Relu", inputs: ["c"], outputs: ["z"])) }
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)],
                     graph: Graph(nodes: nodes, initializers: inits, inputs: [ValueInfo(name: "x", type: nil)],
                                  outputs: [ValueInfo(name: "y", type: nil)] + (sharedOutput ? [ValueInfo(name: "z", type: nil)] : [])))
    }

    @Test func foldsWithTheFormula() throws {
        let (m, report) = try BatchNormFolding.fold(Self.model())
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

    @Test func leavesAConvWithOtherConsumers() throws {
        let (m, report) = try BatchNormFolding.fold(Self.model(sharedOutput: true))
        #expect(report.folded == 0 && report.skipped.count == 1)
        #expect(m.graph.nodes.count == 3)
    }

    struct TrainingModeCase: CustomTestStringConvertible, Sendable {
        let name: String
        let value: Attribute.Value?
        /// nil: folds; otherwise the `actual` the refusal names.
        let refused: String?
        var testDescription: String { name }
    }

    /// training_mode other than 0 is refused by name, with what was expected and found;
    /// absent or 0 folds as before.
    static let trainingModeCases: [TrainingModeCase] = [
        TrainingModeCase(name: "absent", value: nil, refused: nil),
        TrainingModeCase(name: "0", value: .int(0), refused: nil),
        TrainingModeCase(name: "1", value: .int(1), refused: "1"),
        TrainingModeCase(name: "-1", value: .int(-1), refused: "-1"),
        TrainingModeCase(name: "float 1.0", value: .float(1), refused: "1.0 (a FLOAT, not an INT)"),
        TrainingModeCase(name: "ints", value: .ints([0]), refused: "a value that is not an INT"),
    ]

    @Test(arguments: trainingModeCases)
    func trainingModeIsRefused(_ c: TrainingModeCase) throws {
        let attributes = [Attribute(name: "epsilon", value: .float(0))] + (c.value.map { [Attribute(name: "training_mode", value: $0)] } ?? [])
        let model = Self.model(bnAttributes: attributes)
        guard let actual = c.refused else {
            let (m, report) = try BatchNormFolding.fold(model)
            #expect(report.folded == 1 && m.graph.nodes.map(\.opType) == ["Conv"])
            return
        }
        #expect(throws: BatchNormFoldError.trainingMode(node: "bn", actual: actual)) { try BatchNormFolding.fold(model) }
        let message = BatchNormFoldError.trainingMode(node: "bn", actual: actual).description
        for part in ["'bn'", "training_mode", "expected 0", "actual \(actual)"] { #expect(message.contains(part), "\(message)") }
    }

    /// The refusal does not depend on which BN comes first: a training-mode BN
    /// after a foldable one still stops the whole fold.
    @Test func trainingModeAnywhereRefusesTheWholeModel() {
        var model = Self.model()
        model.graph.nodes.append(Node(name: "bn2", opType: "BatchNormalization", inputs: ["y", "gamma", "beta", "mean", "var"],
                                      outputs: ["y2"], attributes: [Attribute(name: "training_mode", value: .int(1))]))
        model.graph.outputs = [ValueInfo(name: "y2", type: nil)]
        #expect(throws: BatchNormFoldError.trainingMode(node: "bn2", actual: "1")) { try BatchNormFolding.fold(model) }
    }
}
