import Testing
import ResNetIR
@testable import ResNetCheck

/// Parameter-free shortcuts where the shape changes (issue 9): avg-pool (alone or
/// concatenated with itself) is linear; max-pool (bare, or 3x3 s2 plus zero channels) is not (RN104).
struct ShortcutKindTests {
    static func zeros(_ name: String, _ dims: [Int64]) -> Tensor {
        Tensor(name: name, dataType: .float, dims: dims, data: TensorBytes([UInt8](repeating: 0, count: Int(dims.reduce(1, *)) * 4)))
    }

    /// main: conv 3x3 s2 (8 -> `out` channels), relu, conv 3x3; shortcut: `shortcut` nodes from "x" to "s".
    static func report(out: Int64, shortcut: [Node], extra: [Tensor] = []) -> CheckReport {
        let pads = Attribute(name: "pads", value: .ints([1, 1, 1, 1]))
        let nodes = [
            Node(name: "b.conv1", opType: "Conv", inputs: ["x", "w1"], outputs: ["a"], attributes: [pads, Attribute(name: "strides", value: .ints([2, 2]))]),
            Node(name: "b.relu", opType: "Relu", inputs: ["a"], outputs: ["r"]),
            Node(name: "b.conv2", opType: "Conv", inputs: ["r", "w2"], outputs: ["c"], attributes: [pads]),
        ] + shortcut + [Node(name: "b.add", opType: "Add", inputs: ["c", "s"], outputs: ["y"])]
        let g = Graph(nodes: nodes, initializers: [zeros("w1", [out, 8, 3, 3]), zeros("w2", [out, out, 3, 3])] + extra,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.symbol("N"), .known(8), .known(8), .known(8)])))],
                      outputs: [ValueInfo(name: "y", type: nil)])
        return ShapeChecker.check(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: g), file: "m")
    }

    static func pool(_ op: String, _ k: Int64, _ out: String) -> Node {
        Node(name: "b.pool", opType: op, inputs: ["x"], outputs: [out],
             attributes: [Attribute(name: "kernel_shape", value: .ints([k, k])), Attribute(name: "strides", value: .ints([2, 2])),
                          Attribute(name: "pads", value: .ints(k == 3 ? [1, 1, 1, 1] : [0, 0, 0, 0]))])
    }

    @Test func avgPoolAlone() {
        let r = Self.report(out: 8, shortcut: [Self.pool("AveragePool", 2, "s")])
        #expect(r.blocks.map(\.shortcut) == [.avgPool])
        #expect(r.model.shortcutOption == "A")
        #expect(!r.diagnostics.contains { $0.code == .maxPoolShortcut })
    }

    @Test func avgPoolConcatenatedWithItself() {
        let concat = Node(name: "b.cat", opType: "Concat", inputs: ["p", "p"], outputs: ["s"], attributes: [Attribute(name: "axis", value: .int(1))])
        let r = Self.report(out: 16, shortcut: [Self.pool("AveragePool", 2, "p"), concat])
        #expect(r.blocks.map(\.shortcut) == [.avgPool])
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(r.diagnostics)")
    }

    @Test func bareMaxPool() {
        let r = Self.report(out: 8, shortcut: [Self.pool("MaxPool", 3, "s")])
        #expect(r.blocks.map(\.shortcut) == [.maxPool])
        #expect(r.diagnostics.contains { $0.code == .maxPoolShortcut })
    }

    @Test func maxPoolPlusZeroChannels() {
        let pad = Node(name: "b.pad", opType: "Pad", inputs: ["p", "pads"], outputs: ["s"])
        let pads = Tensor(name: "pads", dataType: .int64, dims: [8],
                          data: TensorBytes([0, 4, 0, 0, 0, 4, 0, 0].flatMap { (v: Int64) in withUnsafeBytes(of: v.littleEndian) { Array($0) } }))
        let r = Self.report(out: 16, shortcut: [Self.pool("MaxPool", 3, "p"), pad], extra: [pads])
        #expect(r.blocks.map(\.shortcut) == [.maxPool])
        #expect(r.diagnostics.contains { $0.code == .maxPoolShortcut })
        #expect(r.blocks.first?.outputShape == [.symbol("N"), .known(16), .known(4), .known(4)])
    }
}
