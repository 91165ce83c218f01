import Testing
import ResNetIR
@testable import ResNetShapes

/// One row per attack on a rule's arithmetic or arity: each must end in a
/// ShapeError naming the attribute or input at fault (or, where ONNX allows
/// the value, in the right shape), never a trap.
struct HostileRuleTests {
    enum Expect: Sendable { case shape([Int64]), error(String?) }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let node: Node
        let x: [Int64]
        var initializers: [Tensor] = []
        let expect: Expect
        var opset: Int64 = 13
        var testDescription: String { name }
    }

    static func ints(_ name: String, _ v: [Int64], dims: [Int64]? = nil) -> Tensor {
        Tensor(name: name, dataType: .int64, dims: dims ?? [Int64(v.count)],
               data: TensorBytes(v.flatMap { x in withUnsafeBytes(of: x.littleEndian) { Array($0) } }))
    }
    static func floats(_ name: String, _ dims: [Int64]) -> Tensor {
        Tensor(name: name, dataType: .float, dims: dims, data: TensorBytes([UInt8](repeating: 0, count: Int(dims.reduce(1, *)) * 4)))
    }
    static func conv(_ attributes: [Attribute], bias: Bool = false) -> Node {
        Node(name: "c", opType: "Conv", inputs: ["x", "w"] + (bias ? ["b"] : []), outputs: ["y"], attributes: attributes)
    }
    static func a(_ name: String, _ v: [Int64]) -> Attribute { Attribute(name: name, value: .ints(v)) }
    static func a(_ name: String, _ v: Int64) -> Attribute { Attribute(name: name, value: .int(v)) }
    static let w = floats("w", [4, 4, 3, 3])
    static let big: Int64 = 1 << 62

    static let cases: [Case] = [
        Case(name: "conv stride 0", node: conv([a("strides", [0, 1])]), x: [1, 4, 8, 8], initializers: [w], expect: .error("strides")),
        Case(name: "conv stride 0 under SAME_UPPER", node: conv([a("strides", [0, 1]), Attribute(name: "auto_pad", value: .string(Array("SAME_UPPER".utf8)))]),
             x: [1, 4, 8, 8], initializers: [w], expect: .error("strides")),
        Case(name: "conv stride Int64.max", node: conv([a("strides", [.max, .max])]), x: [1, 4, 8, 8], initializers: [w], expect: .shape([1, 4, 1, 1])),
        Case(name: "conv pads 2^62 overflow", node: conv([a("pads", [big, big, 0, 0])]), x: [1, 4, 8, 8], initializers: [w], expect: .error(nil)),
        Case(name: "conv pads negative", node: conv([a("pads", [-1, 0, 0, 0])]), x: [1, 4, 8, 8], initializers: [w], expect: .error("pads")),
        Case(name: "conv pads wrong length", node: conv([a("pads", [1, 1])]), x: [1, 4, 8, 8], initializers: [w], expect: .error("pads")),
        Case(name: "conv dilation -1", node: conv([a("dilations", [-1, 1])]), x: [1, 4, 8, 8], initializers: [w], expect: .error("dilations")),
        Case(name: "conv dilation 2^62 window span", node: conv([a("dilations", [big, 1])]), x: [1, 4, 8, 8], initializers: [w], expect: .error(nil)),
        Case(name: "conv group 0", node: conv([a("group", 0)]), x: [1, 4, 8, 8], initializers: [w], expect: .error("group")),
        Case(name: "conv group Int64.min", node: conv([a("group", .min)]), x: [1, 4, 8, 8], initializers: [w], expect: .error("group")),
        Case(name: "conv group 3 does not divide", node: conv([a("group", 3)]), x: [1, 12, 8, 8], initializers: [w], expect: .error("group")),
        Case(name: "conv group 2^62 channel product", node: conv([a("group", big)]), x: [1, 4, 8, 8], initializers: [w], expect: .error(nil)),
        Case(name: "conv kernel_shape 0", node: conv([a("kernel_shape", [0, 3])]), x: [1, 4, 8, 8], initializers: [w], expect: .error("kernel_shape")),
        Case(name: "conv auto_pad unknown", node: conv([Attribute(name: "auto_pad", value: .string(Array("MIRROR".utf8)))]), x: [1, 4, 8, 8],
             initializers: [w], expect: .error("auto_pad")),
        Case(name: "conv bias too short", node: conv([], bias: true), x: [1, 4, 8, 8], initializers: [w, floats("b", [3])], expect: .error("input 2")),
        Case(name: "conv 1-D weight on 4-D input", node: conv([]), x: [1, 4, 8, 8], initializers: [floats("w", [4, 4, 3])], expect: .error(nil)),
        Case(name: "maxpool ceil_mode 2^62", node: Node(name: "p", opType: "MaxPool", inputs: ["x"], outputs: ["y"],
             attributes: [a("kernel_shape", [2, 2]), a("ceil_mode", big)]), x: [1, 4, 8, 8], expect: .error("ceil_mode")),
        Case(name: "maxpool without kernel_shape", node: Node(name: "p", opType: "MaxPool", inputs: ["x"], outputs: ["y"]), x: [1, 4, 8, 8],
             expect: .error("kernel_shape")),
        Case(name: "slice step Int64.min", node: Node(name: "s", opType: "Slice", inputs: ["x", "st", "en", "ax", "sp"], outputs: ["y"]), x: [1, 4, 8, 8],
             initializers: [ints("st", [-1]), ints("en", [.min]), ints("ax", [3]), ints("sp", [.min])], expect: .shape([1, 4, 8, 1])),
        Case(name: "slice step 0", node: Node(name: "s", opType: "Slice", inputs: ["x", "st", "en", "ax", "sp"], outputs: ["y"]), x: [1, 4, 8, 8],
             initializers: [ints("st", [0]), ints("en", [4]), ints("ax", [3]), ints("sp", [0])], expect: .error("steps")),
        Case(name: "slice axis 2^62", node: Node(name: "s", opType: "Slice", inputs: ["x", "st", "en", "ax"], outputs: ["y"]), x: [1, 4, 8, 8],
             initializers: [ints("st", [0]), ints("en", [4]), ints("ax", [big])], expect: .error("axes")),
        Case(name: "slice duplicate axes", node: Node(name: "s", opType: "Slice", inputs: ["x", "st", "en", "ax"], outputs: ["y"]), x: [1, 4, 8, 8],
             initializers: [ints("st", [0, 0]), ints("en", [4, 4]), ints("ax", [2, -2])], expect: .error("axes")),
        Case(name: "flatten axis 2^62", node: Node(name: "f", opType: "Flatten", inputs: ["x"], outputs: ["y"], attributes: [a("axis", big)]),
             x: [1, 4, 8, 8], expect: .error("axis")),
        Case(name: "concat axis Int64.min", node: Node(name: "c", opType: "Concat", inputs: ["x", "x"], outputs: ["y"], attributes: [a("axis", .min)]),
             x: [1, 4, 8, 8], expect: .error("axis")),
        Case(name: "concat rank mismatch", node: Node(name: "c", opType: "Concat", inputs: ["x", "w"], outputs: ["y"], attributes: [a("axis", 1)]),
             x: [1, 4, 8, 8], initializers: [floats("w", [1, 4, 8])], expect: .error(nil)),
        Case(name: "concat dims differ off axis", node: Node(name: "c", opType: "Concat", inputs: ["x", "w"], outputs: ["y"], attributes: [a("axis", 1)]),
             x: [1, 4, 8, 8], initializers: [floats("w", [1, 4, 8, 7])], expect: .error(nil)),
        Case(name: "reducemean axis out of range", node: Node(name: "r", opType: "ReduceMean", inputs: ["x"], outputs: ["y"], attributes: [a("axes", [5])]),
             x: [1, 4, 8, 8], expect: .error("axes")),
        Case(name: "reshape overflows", node: Node(name: "r", opType: "Reshape", inputs: ["x", "t"], outputs: ["y"]), x: [1, 4, 8, 8],
             initializers: [ints("t", [1 << 40, 1 << 40])], expect: .error(nil)),
        Case(name: "reshape two -1", node: Node(name: "r", opType: "Reshape", inputs: ["x", "t"], outputs: ["y"]), x: [1, 4, 8, 8],
             initializers: [ints("t", [-1, -1])], expect: .error("input 1")),
        Case(name: "constantofshape overflows", node: Node(name: "k", opType: "ConstantOfShape", inputs: ["t"], outputs: ["y"]), x: [1],
             initializers: [ints("t", [1 << 40, 1 << 40])], expect: .error(nil)),
        Case(name: "constantofshape negative", node: Node(name: "k", opType: "ConstantOfShape", inputs: ["t"], outputs: ["y"]), x: [1],
             initializers: [ints("t", [4, -4])], expect: .error("input 0")),
        Case(name: "pad overflows", node: Node(name: "p", opType: "Pad", inputs: ["x", "pads"], outputs: ["y"]), x: [1, 4, 8, 8],
             initializers: [ints("pads", [0, 0, big, 0, 0, 0, big, 0])], expect: .error(nil)),
        Case(name: "pad crops below zero", node: Node(name: "p", opType: "Pad", inputs: ["x", "pads"], outputs: ["y"]), x: [1, 4, 8, 8],
             initializers: [ints("pads", [0, 0, -9, 0, 0, 0, 0, 0])], expect: .error("pads")),
        Case(name: "expand to an overflowing shape", node: Node(name: "e", opType: "Expand", inputs: ["x", "t"], outputs: ["y"]), x: [1, 1],
             initializers: [ints("t", [1 << 40, 1 << 40])], expect: .error(nil)),
        Case(name: "add without outputs", node: Node(name: "add", opType: "Add", inputs: ["x", "x"], outputs: []), x: [1, 4], expect: .error(nil)),
        Case(name: "relu with two inputs", node: Node(name: "r", opType: "Relu", inputs: ["x", "x"], outputs: ["y"]), x: [1, 4], expect: .error(nil)),
        Case(name: "conv missing weight", node: Node(name: "c", opType: "Conv", inputs: ["x", ""], outputs: ["y"]), x: [1, 4, 8, 8], expect: .error("input 1")),
        Case(name: "gather index out of range", node: Node(name: "g", opType: "Gather", inputs: ["x", "i"], outputs: ["y"]), x: [1, 4],
             initializers: [ints("i", [4], dims: [1])], expect: .error("input 1")),
        Case(name: "gemm K mismatch", node: Node(name: "g", opType: "Gemm", inputs: ["x", "w"], outputs: ["y"]), x: [1, 4],
             initializers: [floats("w", [5, 3])], expect: .error(nil)),
        Case(name: "transpose duplicate perm", node: Node(name: "t", opType: "Transpose", inputs: ["x"], outputs: ["y"], attributes: [a("perm", [0, 0])]),
             x: [1, 4], expect: .error("perm")),
        Case(name: "split sizes off", node: Node(name: "s", opType: "Split", inputs: ["x", "sp"], outputs: ["a", "b"], attributes: [a("axis", 1)]),
             x: [1, 4], initializers: [ints("sp", [1, 2])], expect: .error("split")),
        Case(name: "range delta 0", node: Node(name: "r", opType: "Range", inputs: ["s", "l", "d"], outputs: ["y"]), x: [1],
             initializers: [ints("s", [0], dims: []), ints("l", [4], dims: []), ints("d", [0], dims: [])], expect: .error("input 2")),
        Case(name: "range from Int64.min to max", node: Node(name: "r", opType: "Range", inputs: ["s", "l", "d"], outputs: ["y"]), x: [1],
             initializers: [ints("s", [.min], dims: []), ints("l", [.max], dims: []), ints("d", [1], dims: [])], expect: .error(nil)),
        Case(name: "integer div Int64.min / -1", node: Node(name: "d", opType: "Div", inputs: ["p", "q"], outputs: ["y"]), x: [1],
             initializers: [ints("p", [.min]), ints("q", [-1])], expect: .error(nil)),
        Case(name: "cast to type 99", node: Node(name: "c", opType: "Cast", inputs: ["x"], outputs: ["y"], attributes: [a("to", 99)]), x: [1, 4],
             expect: .error("to")),
        Case(name: "relu from another domain", node: Node(name: "r", opType: "Relu", domain: "com.evil", inputs: ["x"], outputs: ["y"]), x: [1, 4],
             expect: .error(nil)),
    ]

    @Test(arguments: cases)
    func hostileNode(_ c: Case) {
        let g = Graph(nodes: [c.node], initializers: c.initializers,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: c.x.map { .known($0) })))],
                      outputs: [ValueInfo(name: c.node.outputs.first ?? "y", type: nil)])
        let inference = ShapeInference(graph: g, opset: c.opset)
        inference.run()
        switch c.expect {
        case let .shape(s):
            #expect(inference.findings.isEmpty, "\(inference.findings)")
            #expect(inference.facts[c.node.outputs[0]]?.shape == s.map { .known($0) })
        case let .error(attribute):
            #expect(inference.findings.count == 1, "expected one finding")
            if let attribute { #expect(inference.findings.first?.error.attribute == attribute, "\(inference.findings)") }
            #expect(inference.findings.first?.location == c.node.name)
        }
    }

    @Test func declaredInputsThatOverflowAreFindings() {
        let g = Graph(nodes: [Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["y"])],
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.known(1 << 40), .known(1 << 40), .known(1 << 40)])))],
                      outputs: [ValueInfo(name: "y", type: nil)])
        let inference = ShapeInference(graph: g, opset: 13)
        inference.run()
        #expect(inference.findings.map(\.location) == ["x"])
    }

    @Test func sliceAxisArithmeticIsTotal() {
        for n: Int64 in [0, 1, 7] {
            for v in Mutatable.values { for w in Mutatable.values { for step in Mutatable.values where step != 0 {
                let r = ShapeRules.sliceAxis(n: n, start: v, end: w, step: step)
                #expect(r.count >= 0 && r.count <= n)
                if r.count > 0 { #expect(r.begin >= 0 && r.begin < n) }
            } } }
        }
    }

    enum Mutatable { static let values: [Int64] = [0, -1, 1, 3, -3, 1 << 62, -(1 << 62), .min, .max] }
}
