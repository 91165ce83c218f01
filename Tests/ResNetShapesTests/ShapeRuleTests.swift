import Testing
import ResNetIR
@testable import ResNetShapes

/// Shape rules at their edges: window arithmetic, broadcasting, reshape,
/// slice clamping, and torch's flatten resolved through constant propagation.
struct ShapeRuleTests {
    struct Window: CustomTestStringConvertible, Sendable {
        let input: Int64, kernel: Int64, stride: Int64, dilation: Int64, begin: Int64, end: Int64
        let autoPad: String, ceil: Bool, expected: Int64
        var testDescription: String { "in \(input) k\(kernel) s\(stride) d\(dilation) p\(begin)+\(end) \(autoPad) ceil \(ceil) -> \(expected)" }
    }

    static let windows: [Window] = [
        Window(input: 224, kernel: 7, stride: 2, dilation: 1, begin: 3, end: 3, autoPad: "NOTSET", ceil: false, expected: 112),  // resnet stem
        Window(input: 112, kernel: 3, stride: 2, dilation: 1, begin: 1, end: 1, autoPad: "NOTSET", ceil: false, expected: 56),   // maxpool
        Window(input: 7, kernel: 3, stride: 2, dilation: 1, begin: 1, end: 1, autoPad: "NOTSET", ceil: false, expected: 4),
        Window(input: 7, kernel: 2, stride: 2, dilation: 1, begin: 0, end: 0, autoPad: "NOTSET", ceil: false, expected: 3),     // ResNet-D pool, floor
        Window(input: 7, kernel: 2, stride: 2, dilation: 1, begin: 0, end: 0, autoPad: "NOTSET", ceil: true, expected: 4),      // ... ceil_mode
        Window(input: 6, kernel: 3, stride: 2, dilation: 1, begin: 1, end: 1, autoPad: "NOTSET", ceil: true, expected: 4),      // ceil adds a window
        Window(input: 2, kernel: 1, stride: 2, dilation: 1, begin: 1, end: 1, autoPad: "NOTSET", ceil: true, expected: 2),      // ... not one starting in the padding
        Window(input: 5, kernel: 3, stride: 1, dilation: 2, begin: 0, end: 0, autoPad: "NOTSET", ceil: false, expected: 1),     // dilation
        Window(input: 7, kernel: 3, stride: 2, dilation: 1, begin: 0, end: 0, autoPad: "SAME_UPPER", ceil: false, expected: 4),
        Window(input: 7, kernel: 3, stride: 2, dilation: 1, begin: 9, end: 9, autoPad: "VALID", ceil: false, expected: 3),
        Window(input: 1, kernel: 1, stride: 1, dilation: 1, begin: 0, end: 0, autoPad: "NOTSET", ceil: false, expected: 1),
    ]

    @Test(arguments: windows)
    func windowOutput(_ w: Window) throws {
        let out = try ShapeRules.windowDim(w.input, Self.attributes(w.kernel, w.stride, w.dilation, w.begin, w.end, w.autoPad, w.ceil), 0)
        #expect(out.output == w.expected)
    }

    static func attributes(_ k: Int64, _ s: Int64, _ d: Int64, _ b: Int64, _ e: Int64, _ autoPad: String, _ ceil: Bool) -> ShapeRules.WindowAttributes {
        ShapeRules.WindowAttributes(kernel: [k], strides: [s], dilations: [d], pads: [b, e], autoPad: autoPad, ceilMode: ceil)
    }

    @Test func windowLargerThanInputIsAnError() {
        #expect(throws: ShapeError.self) {
            try ShapeRules.windowDim(2, Self.attributes(5, 1, 1, 0, 0, "NOTSET", false), 0)
        }
    }

    @Test func broadcasting() {
        let n = SDim.symbol("N")
        #expect(ShapeRules.broadcast([[n, .known(64), .known(56), .known(56)], [n, .known(64), .known(1), .known(1)]])
                == [n, .known(64), .known(56), .known(56)])
        #expect(ShapeRules.broadcast([[.known(3), .known(4)], [.known(4)]]) == [.known(3), .known(4)])
        #expect(ShapeRules.broadcast([[n, .known(8)], [n, .known(16)]]) == nil)
        #expect(ShapeRules.broadcast([[.symbol("A")], [.symbol("B")]]) == [.unknown])
    }

    /// Builds a one-node graph around `node` and returns the inferred shape of its output.
    static func infer(_ nodes: [Node], inputs: [(String, [Dim])], initializers: [Tensor] = [], output: String, opset: Int64 = 17) -> SShape? {
        let g = Graph(nodes: nodes, initializers: initializers,
                      inputs: inputs.map { ValueInfo(name: $0.0, type: TypeDescriptor(.tensor(elemType: 1, shape: $0.1))) },
                      outputs: [ValueInfo(name: output, type: nil)])
        let inference = ShapeInference(graph: g, opset: opset)
        inference.run()
        return inference.facts[output]?.shape
    }

    static func int64s(_ name: String, _ v: [Int64]) -> Tensor {
        Tensor(name: name, dataType: .int64, dims: [Int64(v.count)],
               data: TensorBytes(v.flatMap { x in withUnsafeBytes(of: x.littleEndian) { Array($0) } }))
    }

    @Test func torchFlattenResolvesThroughConstants() {
        let nodes = [
            Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
            Node(opType: "Gather", inputs: ["s", "zero"], outputs: ["n"], attributes: [Attribute(name: "axis", value: .int(0))]),
            Node(opType: "Unsqueeze", inputs: ["n", "axes"], outputs: ["n1"]),
            Node(opType: "Concat", inputs: ["n1", "minus1"], outputs: ["t"], attributes: [Attribute(name: "axis", value: .int(0))]),
            Node(opType: "Reshape", inputs: ["x", "t"], outputs: ["y"]),
        ]
        let zero = Tensor(name: "zero", dataType: .int64, dims: [], data: TensorBytes([0, 0, 0, 0, 0, 0, 0, 0]))
        let y = Self.infer(nodes, inputs: [("x", [.symbol("N"), .known(512), .known(1), .known(1)])],
                           initializers: [zero, Self.int64s("axes", [0]), Self.int64s("minus1", [-1])], output: "y")
        #expect(y == [.symbol("N"), .known(512)])
    }

    @Test func zeroPadShortcutResolvesThroughConstants() {
        let nodes = [
            Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
            Node(opType: "Mul", inputs: ["s", "keep"], outputs: ["m"]),
            Node(opType: "Add", inputs: ["m", "extra"], outputs: ["z"]),
            Node(opType: "ConstantOfShape", inputs: ["z"], outputs: ["zeros"]),
            Node(opType: "Concat", inputs: ["x", "zeros"], outputs: ["y"], attributes: [Attribute(name: "axis", value: .int(1))]),
        ]
        let y = Self.infer(nodes, inputs: [("x", [.symbol("N"), .known(16), .known(8), .known(8)])],
                           initializers: [Self.int64s("keep", [1, 0, 1, 1]), Self.int64s("extra", [0, 16, 0, 0])], output: "y")
        #expect(y == [.symbol("N"), .known(32), .known(8), .known(8)])
    }

    struct ReshapeCase: CustomTestStringConvertible, Sendable {
        let target: [Int64], allowZero: Bool, expected: SShape?
        var testDescription: String { "\(target) allowzero \(allowZero)" }
    }

    static let reshapes: [ReshapeCase] = [
        ReshapeCase(target: [0, -1], allowZero: false, expected: [.known(2), .known(12)]),
        ReshapeCase(target: [-1, 4], allowZero: false, expected: [.known(6), .known(4)]),
        ReshapeCase(target: [0, 3, 0], allowZero: false, expected: [.known(2), .known(3), .known(4)]),
        ReshapeCase(target: [0, 24], allowZero: true, expected: nil),    // a literal 0: 24 elements cannot become 0
        ReshapeCase(target: [-1, -1], allowZero: false, expected: nil),  // two -1s
        ReshapeCase(target: [4, -2], allowZero: false, expected: nil),   // negative dim
        ReshapeCase(target: [5, -1], allowZero: false, expected: nil),   // 24 is not a multiple of 5
        ReshapeCase(target: [0, 0, 0, 0], allowZero: false, expected: nil),  // copies a dim the input does not have
    ]

    @Test(arguments: reshapes)
    func reshape(_ c: ReshapeCase) {
        let node = Node(opType: "Reshape", inputs: ["x", "t"], outputs: ["y"],
                        attributes: c.allowZero ? [Attribute(name: "allowzero", value: .int(1))] : [])
        #expect(Self.infer([node], inputs: [("x", [.known(2), .known(3), .known(4)])], initializers: [Self.int64s("t", c.target)],
                           output: "y") == c.expected)
    }

    /// timm's ECA: x.mean((2, 3)).view(N, 1, -1) with N symbolic: the symbols cancel, -1 is C.
    @Test func reshapeCancelsSymbols() {
        let nodes = [
            Node(opType: "Shape", inputs: ["x"], outputs: ["s"]),
            Node(opType: "Gather", inputs: ["s", "zero"], outputs: ["n"], attributes: [Attribute(name: "axis", value: .int(0))]),
            Node(opType: "Unsqueeze", inputs: ["n", "axes"], outputs: ["n1"]),
            Node(opType: "Concat", inputs: ["n1", "rest"], outputs: ["t"], attributes: [Attribute(name: "axis", value: .int(0))]),
            Node(opType: "Reshape", inputs: ["x", "t"], outputs: ["y"]),
        ]
        let zero = Tensor(name: "zero", dataType: .int64, dims: [], data: TensorBytes([0, 0, 0, 0, 0, 0, 0, 0]))
        let y = Self.infer(nodes, inputs: [("x", [.symbol("N"), .known(64), .known(1), .known(1)])],
                           initializers: [zero, Self.int64s("axes", [0]), Self.int64s("rest", [1, -1])], output: "y")
        #expect(y == [.symbol("N"), .known(1), .known(64)])
    }

    @Test func sliceClampsAndSteps() {
        let node = Node(opType: "Slice", inputs: ["x", "starts", "ends", "axes", "steps"], outputs: ["y"])
        let y = Self.infer([node], inputs: [("x", [.symbol("N"), .known(8), .known(7), .known(7)])],
                           initializers: [Self.int64s("starts", [0, 0]), Self.int64s("ends", [Int64.max, 1 << 62]),
                                          Self.int64s("axes", [2, 3]), Self.int64s("steps", [2, 2])], output: "y")
        #expect(y == [.symbol("N"), .known(8), .known(4), .known(4)])
        let reversed = Self.infer([node], inputs: [("x", [.known(10)])],
                                  initializers: [Self.int64s("starts", [-1]), Self.int64s("ends", [Int64.min]),
                                                 Self.int64s("axes", [0]), Self.int64s("steps", [-3])], output: "y")
        #expect(reversed == [.known(4)])
    }

    @Test func convChannelMismatchIsReported() {
        let w = Tensor(name: "w", dataType: .float, dims: [16, 8, 3, 3], data: TensorBytes([UInt8](repeating: 0, count: 16 * 8 * 9 * 4)))
        let g = Graph(nodes: [Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"])], initializers: [w],
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.symbol("N"), .known(4), .known(8), .known(8)])))],
                      outputs: [ValueInfo(name: "y", type: nil)])
        let inference = ShapeInference(graph: g, opset: 17)
        inference.run()
        #expect(inference.findings.map(\.error.kind) == [.invalid])
        #expect(inference.findings.first?.error.message.contains("4 channels") == true)
    }
}

