import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsReference

/// SE and ECA gates as exporters write them (ReduceMean over H and W, 1x1 convs, Sigmoid, Mul by
/// the [N, C, 1, 1] gate, or the gate Expanded to the input's shape first), and the other
/// broadcasts the SIMD plans run row by row or element by element: a [1, C, 1, 1] constant first
/// (Sub), a one-value Div, Max of one shape, a [1, 1, H, 1] operand (rows of W values), and an
/// [N, 1, H, 1] one that is not one value a row (the general broadcast). Each SIMD
/// set against the reference kernels at batch 1 and 2, on 1 to 3 threads (73,728 values an
/// image: the elementwise steps split over threads).
struct AttentionGatePlanTests {
    typealias B = BatchSeparabilityTests

    static func model() -> Model {
        let weights: (String, [Int64], Int) -> Tensor = { name, dims, seed in B.floats(name, dims) { Float(($0 * 37 + seed * 11) % 23) * 0.03 - 0.33 } }
        let nodes = [
            Node(name: "m", opType: "ReduceMean", inputs: ["x"], outputs: ["m"], attributes: [B.attr("axes", [2, 3]), B.attr("keepdims", 1)]),
            B.node("Conv", ["m", "w1", "b1"], "f1"), B.node("Relu", ["f1"], "r1"), B.node("Conv", ["r1", "w2"], "f2"), B.node("Sigmoid", ["f2"], "s"),
            B.node("Mul", ["x", "s"], "g"),                                   // SE: one value a row (period N x C)
            B.node("Shape", ["x"], "shape"), B.node("Expand", ["s", "shape"], "e"), B.node("Mul", ["e", "x"], "h"),  // ECA: Expand, then one shape
            B.node("Sub", ["c", "g"], "k"),                                   // [1, C, 1, 1] first: period C
            B.node("Max", ["k", "h"], "q"), B.node("Div", ["q", "two"], "d"), // one shape; one value
            B.node("Mul", ["d", "rowsOfW"], "v"),                             // [1, 1, H, 1]: rows of W values, period H
            Node(name: "t", opType: "ReduceMean", inputs: ["x"], outputs: ["t"], attributes: [B.attr("axes", [1, 3]), B.attr("keepdims", 1)]),
            B.node("Add", ["v", "t"], "a"),                                   // [N, 1, H, 1]: the general broadcast
            B.node("Mul", ["s", "a"], "gated"), B.node("Add", ["x", "gated"], "joined"), B.node("Relu", ["joined"], "y"),  // an SE join: one step
        ]
        let initializers = [
            weights("w1", [8, 32, 1, 1], 1), B.floats("b1", [8]) { Float($0) * 0.05 - 0.2 }, weights("w2", [32, 8, 1, 1], 2),
            B.floats("c", [1, 32, 1, 1]) { Float($0 % 9) * 0.25 - 1 }, B.floats("two", [1]) { _ in 2 }, B.floats("rowsOfW", [1, 1, 48, 1]) { Float($0 % 5) * 0.5 - 1 },
        ]
        let x = ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [Dim(.symbol("N")), .known(32), .known(48), .known(48)])))
        let graph = Graph(nodes: nodes, initializers: initializers, inputs: [x], outputs: [ValueInfo(name: "y", type: nil)])
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
    }

    @Test(arguments: [KernelSet.avx2, .avx512])
    func gatesMatchTheReferenceKernels(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        for (n, threads) in [(1, 1), (1, 2), (1, 3), (2, 2)] {
            let x = (0..<(n * 32 * 48 * 48)).map { Float(($0 * 13) % 29) * 0.07 - 1.0 }
            let plan = try WinogradChannelsLastPlanTests.planMatchingReference(Self.model(), set, shape: [n, 32, 48, 48], threads: threads, x: x,
                                                                               "\(set) batch \(n) threads \(threads)")
            // The last join (Mul, Add, Relu) runs as one Mul step: the one Add step left is v + t.
            #expect(plan.steps.filter { $0.op == "Add" }.count == 1 && plan.steps.filter { $0.op == "Mul" }.count == 4, "\(plan.steps.map(\.op))")
        }
    }

    /// A selective-kernel block's shape of it (timm skresnet): two conv paths stacked on a new axis 1,
    /// ReduceSum over it, the attention's Softmax over the paths, Mul, ReduceSum again; then a
    /// ReduceMax over H and W (one run of axes) and a ReduceMin over C and W (not one run: the
    /// general reduction). Against the reference kernels at batch 1 and 2 on 1 and 2 threads.
    @Test(arguments: [KernelSet.avx2, .avx512])
    func selectiveKernelReductionsMatchTheReferenceKernels(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        let weights: (String, [Int64], Int) -> Tensor = { name, dims, seed in B.floats(name, dims) { Float(($0 * 37 + seed * 11) % 23) * 0.03 - 0.33 } }
        // Opset 17: ReduceSum takes its axes as an input (since 13), the others as an attribute (until 18).
        let reduce = { (op: String, input: String, output: String, axes: [Int64], keep: Int64) in
            op == "ReduceSum" ? Node(name: output, opType: op, inputs: [input, "axis1"], outputs: [output], attributes: [B.attr("keepdims", keep)])
                : Node(name: output, opType: op, inputs: [input], outputs: [output], attributes: [B.attr("axes", axes), B.attr("keepdims", keep)])
        }
        let pads = B.attr("pads", [1, 1, 1, 1])
        let nodes = [
            B.node("Conv", ["x", "w0"], "p0", [pads]), B.node("Conv", ["x", "w1"], "p1", [B.attr("pads", [2, 2, 2, 2]), B.attr("dilations", [2, 2])]),
            B.node("Unsqueeze", ["p0", "one"], "u0"), B.node("Unsqueeze", ["p1", "one"], "u1"),
            B.node("Concat", ["u0", "u1"], "stack", [B.attr("axis", 1)]),                       // [N, 2, 32, 24, 24]
            reduce("ReduceSum", "stack", "sum", [1], 0), reduce("ReduceMean", "sum", "pooled", [2, 3], 1),
            B.node("Conv", ["pooled", "wa"], "logits"), B.node("Reshape", ["logits", "paths"], "r"),
            B.node("Softmax", ["r"], "attention", [B.attr("axis", 1)]), B.node("Mul", ["stack", "attention"], "weighted"),
            reduce("ReduceSum", "weighted", "selected", [1], 0),                                  // [N, 32, 24, 24]
            reduce("ReduceMax", "selected", "peak", [2, 3], 1), B.node("Sub", ["selected", "peak"], "centred"),
            reduce("ReduceMin", "centred", "low", [1, 3], 1), B.node("Add", ["centred", "low"], "y"),
        ]
        let initializers = [
            weights("w0", [32, 32, 3, 3], 1), weights("w1", [32, 32, 3, 3], 2), weights("wa", [64, 32, 1, 1], 3),
            B.ints("one", [1]), B.ints("axis1", [1]), B.ints("paths", [0, 2, 32, 1, 1]),
        ]
        let input = ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [Dim(.symbol("N")), .known(32), .known(24), .known(24)])))
        let model = Model(opsetImports: [OpsetImport(domain: "", version: 17)],
                          graph: Graph(nodes: nodes, initializers: initializers, inputs: [input], outputs: [ValueInfo(name: "y", type: nil)]))
        for (n, threads) in [(1, 1), (1, 2), (2, 2)] {
            let x = (0..<(n * 32 * 24 * 24)).map { Float(($0 * 13) % 29) * 0.07 - 1.0 }
            _ = try WinogradChannelsLastPlanTests.planMatchingReference(model, set, shape: [n, 32, 24, 24], threads: threads, x: x,
                                                                        "\(set) batch \(n) threads \(threads)")
        }
    }

    /// Which broadcasts are one value a row, and with what period.
    @Test func rowScalarPatterns() {
        let planner = Planner<Float>(graph: Self.model().graph, opset: 17, kernels: .reference, threads: 1, budget: .default)
        #expect(planner.rowScalarPattern([2, 32, 1, 1], [2, 32, 48, 48])! == (64, 2304, 64))
        #expect(planner.rowScalarPattern([1, 32, 1, 1], [2, 32, 48, 48])! == (64, 2304, 32))
        #expect(planner.rowScalarPattern([32, 1, 1], [2, 32, 48, 48])! == (64, 2304, 32))
        #expect(planner.rowScalarPattern([1], [2, 32, 48, 48])! == (1, 2 * 32 * 48 * 48, 1))
        #expect(planner.rowScalarPattern([1, 1, 48, 1], [2, 32, 48, 48])! == (3072, 48, 48))
        #expect(planner.rowScalarPattern([2, 1, 1, 1], [2, 32, 48, 48])! == (2, 73728, 2))
        #expect(planner.rowScalarPattern([2, 1, 48, 1], [2, 32, 48, 48]) == nil)  // row (n, c, h) reads n x 48 + h, not r % 96
        #expect(planner.rowScalarPattern([2, 32, 48, 48], [2, 32, 48, 48]) == nil)  // no trailing broadcast
        #expect(planner.rowScalarPattern([1, 32, 1, 48], [2, 32, 48, 48]) == nil)  // constant along H only, not a trailing block
        #expect(planner.rowScalarPattern([1, 32, 1, 1], [2, 32, 0, 48]) == nil)
    }
}
