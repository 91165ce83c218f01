import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsReference
import ResNetKernelsInt8

/// QLinearConv through the planner on each of its int8 paths (the transposed VNNI product, tap-major
/// and pointwise convs chunk by chunk, and without the tile's requantization: weight zero point 3),
/// with groups and a batch of 2, per image and not, 1-3 threads: the SIMD kernel sets against the
/// reference set, exactly. And the integer scratch the plan charges covers what it holds.
struct Int8PlannerPathTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String, c: Int, m: Int, h: Int, k: Int, group: Int, stride: Int, pad: Int, wzp: Int8
        var testDescription: String { "\(name) wzp \(wzp)" }
    }

    static func bytes(_ name: String, _ type: DataType, _ dims: [Int64], _ value: (Int) -> UInt8) -> Tensor {
        let count = Int(dims.reduce(1, *))
        return Tensor(name: name, dataType: type, dims: dims, data: TensorBytes((0..<count).map(value)))
    }
    static func float(_ name: String, _ v: Float) -> Tensor {
        Tensor(name: name, dataType: .float, dims: [], data: TensorBytes(withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }))
    }
    static func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [Attribute] = []) -> Node {
        Node(name: output, opType: op, inputs: inputs, outputs: [output], attributes: attributes)
    }

    static func model(_ c: Case, batch: Int) -> Model {
        let cg = c.c / c.group
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: seed >> 33) }
        let w = bytes("w", .int8, [Int64(c.m), Int64(cg), Int64(c.k), Int64(c.k)]) { _ in UInt8(bitPattern: Int8(truncatingIfNeeded: Int(next() % 61) - 30)) }
        let inits = [float("sx", 0.02), bytes("zx", .uint8, []) { _ in 117 }, w, float("sw", 0.01),
                     bytes("zw", .int8, []) { _ in UInt8(bitPattern: c.wzp) }, float("sy", 0.09), bytes("zy", .uint8, []) { _ in 9 }]
        let attrs = [Attribute(name: "group", value: .int(Int64(c.group))), Attribute(name: "strides", value: .ints([Int64(c.stride), Int64(c.stride)])),
                     Attribute(name: "pads", value: .ints(Array(repeating: Int64(c.pad), count: 4))),
                     Attribute(name: "kernel_shape", value: .ints([Int64(c.k), Int64(c.k)]))]
        let nodes = [node("QuantizeLinear", ["x", "sx", "zx"], "xq"),
                     node("QLinearConv", ["xq", "sx", "zx", "w", "sw", "zw", "sy", "zy"], "yq", attrs),
                     node("DequantizeLinear", ["yq", "sy", "zy"], "y")]
        let g = Graph(nodes: nodes, initializers: inits,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.known(Int64(batch)), .known(Int64(c.c)), .known(Int64(c.h)), .known(Int64(c.h))])))],
                      outputs: [ValueInfo(name: "y", type: nil)])
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: g)
    }

    static let cases: [Case] = {
        var out: [Case] = []
        for wzp: Int8 in [0, 3] {
            out += [
                Case(name: "transposed g2 mg64 7x7", c: 128, m: 128, h: 7, k: 3, group: 2, stride: 1, pad: 1, wzp: wzp),
                Case(name: "transposed g1 m40 7x7", c: 64, m: 40, h: 7, k: 3, group: 1, stride: 1, pad: 1, wzp: wzp),
                Case(name: "transposed 1x1 n=4", c: 256, m: 64, h: 2, k: 1, group: 1, stride: 1, pad: 0, wzp: wzp),
                Case(name: "pointwise g2 96/group 20x20", c: 192, m: 80, h: 20, k: 1, group: 2, stride: 1, pad: 0, wzp: wzp),
                Case(name: "pointwise 132 13x13", c: 132, m: 24, h: 13, k: 1, group: 1, stride: 1, pad: 0, wzp: wzp),
                Case(name: "pointwise K 1032 10x10", c: 1032, m: 12, h: 10, k: 1, group: 1, stride: 1, pad: 0, wzp: wzp),
                Case(name: "tapmajor chunked g2 48x48", c: 128, m: 16, h: 48, k: 3, group: 2, stride: 1, pad: 1, wzp: wzp),
                Case(name: "tapmajor avx2-chunked 32/group 48x48", c: 64, m: 10, h: 48, k: 3, group: 2, stride: 1, pad: 1, wzp: wzp),
                Case(name: "stem-like 160", c: 3, m: 16, h: 160, k: 7, group: 1, stride: 2, pad: 3, wzp: wzp),
            ]
        }
        return out
    }()

    @Test(arguments: cases)
    func simdEqualsReference(_ c: Case) throws {
        let batch = 2
        let count = batch * c.c * c.h * c.h
        let x = (0..<count).map { i -> Float in Float((i &* 7919) % 211) * 0.013 - 1.1 }
        let model = Self.model(c, batch: batch)
        let expected = try Executor(model: model, options: ExecOptions(kernels: .reference)).run(x, shape: [batch, c.c, c.h, c.h])[0].values
        for kernels in [KernelSet.avx512, .avx2] where kernels.isSupported {
            for threads in [1, 2, 3] {
                for perImage in [true, false] {
                    var options = ExecOptions(kernels: kernels, threads: threads)
                    options.perImage = perImage
                    let got = try Executor(model: model, options: options).run(x, shape: [batch, c.c, c.h, c.h])[0].values
                    let diff = zip(got, expected).filter { $0 != $1 }.count
                    #expect(got.count == expected.count && diff == 0, "\(c.testDescription) \(kernels) threads \(threads) perImage \(perImage): \(diff) differ")
                }
            }
        }
    }

    /// The plans of one Executor (a batch's per-thread plans) share a QLinearConv's packed weights
    /// (PreparedWeights): a second plan charges none of them, a plan with its own cache all again.
    @Test(arguments: [KernelSet.avx512, .avx2, .reference])
    func plansShareThePackedIntegerWeights(_ kernels: KernelSet) throws {
        guard kernels.isSupported else { return }
        for c in [Self.cases[0], Self.cases[3], Self.cases[6]] {
            let model = Self.model(c, batch: 1)
            func charged(_ prepared: PreparedWeights) throws -> Int {
                let p = Planner<Float>(graph: model.graph, opset: 17, kernels: kernels, threads: 1, budget: .default, exact: false,
                                       winograd: true, prepared: prepared)
                _ = try p.build(inputShape: [1, c.c, c.h, c.h])
                return p.constantBytes
            }
            let shared = PreparedWeights()
            let first = try charged(shared), second = try charged(shared), own = try charged(PreparedWeights())
            #expect(second < first && own == first, "\(c.testDescription) \(kernels): \(first), then \(second), alone \(own) bytes charged")
        }
    }

    /// The global pool's plane sum (four running sums) equals the sum taken in order, exactly, for the
    /// integer values a quantized tensor holds: every length around the four-wide loop, 49 (resnet's
    /// 7x7) and a plane of 10^5 values at both ends of the 8-bit ranges.
    @Test func planeSumIsExactForIntegers() {
        let values: [Float] = (0..<100_000).map { (i: Int) -> Float in
            if i % 7 == 0 { return 255 }
            if i % 11 == 0 { return -128 }
            return Float((i &* 7919) % 256)
        }
        for count in Array(0...9) + [49, 100_000] {
            let inOrder = values.prefix(count).reduce(0.0) { $0 + Double($1) }
            let got = values.withUnsafeBufferPointer { QLinearGlobalAveragePoolStep<Float>.planeSum($0.baseAddress!, count: count) }
            #expect(got == inOrder, "\(count) values: \(got) against \(inOrder)")
        }
    }

    /// The shared integer scratch grows each buffer to its own largest request over every step; the
    /// plan must charge that sum. a: 64 -> 8, 3x3 at 56x56 (chunked: a large plane and words, a small
    /// operand); b: 8 -> 1024, 1x1 (large sums, small plane and operand): no single step holds it all.
    @Test func chargedScratchCoversWhatIsHeld() throws {
        let wa = Self.bytes("wa", .int8, [8, 64, 3, 3]) { UInt8(truncatingIfNeeded: $0 % 7) }
        let wb = Self.bytes("wb", .int8, [1024, 8, 1, 1]) { UInt8(truncatingIfNeeded: $0 % 5) }
        let inits = [Self.float("sx", 0.02), Self.bytes("zx", .uint8, []) { _ in 117 }, wa, wb, Self.float("sw", 0.01),
                     Self.bytes("zw", .int8, []) { _ in 0 }, Self.float("sy", 0.09), Self.bytes("zy", .uint8, []) { _ in 9 }]
        let pads = Attribute(name: "pads", value: .ints([1, 1, 1, 1]))
        let nodes = [Self.node("QuantizeLinear", ["x", "sx", "zx"], "xq"),
                     Self.node("QLinearConv", ["xq", "sx", "zx", "wa", "sw", "zw", "sy", "zy"], "aq", [pads]),
                     Self.node("QLinearConv", ["aq", "sy", "zy", "wb", "sw", "zw", "sy", "zy"], "bq"),
                     Self.node("DequantizeLinear", ["bq", "sy", "zy"], "y")]
        let g = Graph(nodes: nodes, initializers: inits,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.known(1), .known(64), .known(56), .known(56)])))],
                      outputs: [ValueInfo(name: "y", type: nil)])
        let model = Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: g)
        for kernels in [KernelSet.avx512, .avx2] where kernels.isSupported {
            let p = Planner<Float>(graph: model.graph, opset: 17, kernels: kernels, threads: 2, budget: .default, exact: false, winograd: true,
                                   prepared: PreparedWeights())
            _ = try p.build(inputShape: [1, 64, 56, 56])
            #expect(p.maxInt8ScratchBytes >= p.int8Scratch.reservedBytes,
                    "\(kernels): charged \(p.maxInt8ScratchBytes) bytes of integer scratch, it holds \(p.int8Scratch.reservedBytes)")
        }
    }
}
