import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsInt8
import ResNetKernelsReference

/// Byte images (Planner+ByteImages.swift) through a bottleneck-like chain: a QLinearAdd whose
/// result a 1x1 conv, a second 1x1 and a stride-2 1x1 (a downsample, a second output) read, the
/// first followed by a 3x3 (tap-major) and a 1x1, each conv reading its producer's byte image,
/// QLinearAdds reading the floats, and a sixth conv reading the join with the other offset (its
/// zero point of the other type), which takes no image; in uint8 and in int8 activations (byte
/// offsets 0 and 128), small (96 channels at 9x9: a last tile of 17 columns; the 3x3's operand
/// whole), large (68 channels at 48x48: the 3x3 chunk by chunk) and of 64 channels (VNNI's 1x1s
/// then unchunked, their whole operand interleaved from the image), batch 2, per image and not,
/// 1-2 threads: the SIMD sets equal the reference set exactly, and on each the five other convs
/// read a byte image (the stride-2 1x1's operand is tap-major) and the second and third joins
/// read both operands' (9 reads); the reference set none. The values only byte readers read are
/// written as bytes alone (5: the chain's three convs, the fourth conv and the second join), and a
/// stepwise run hands the second join's result out equal to the reference set's.
struct Int8ByteImageTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let channels: Int, size: Int, int8Activations: Bool
        var testDescription: String { "\(channels) channels \(size)x\(size) \(int8Activations ? "int8" : "uint8")" }
    }

    static let cases = [Case(channels: 96, size: 9, int8Activations: false), Case(channels: 96, size: 9, int8Activations: true),
                        Case(channels: 68, size: 48, int8Activations: false), Case(channels: 68, size: 48, int8Activations: true),
                        // 64 channels: the 1x1s build their whole operand (not chunked), from the byte image all the same.
                        Case(channels: 64, size: 9, int8Activations: false), Case(channels: 64, size: 28, int8Activations: true)]

    static func model(_ c: Case, batch: Int) -> Model {
        typealias P = Int8PlannerPathTests
        let zpType: DataType = c.int8Activations ? .int8 : .uint8
        func zp(_ name: String, _ v: Int) -> Tensor { P.bytes(name, zpType, []) { _ in UInt8(truncatingIfNeeded: v) } }
        func weights(_ name: String, kernel: Int64, seed: Int) -> Tensor {
            P.bytes(name, .int8, [Int64(c.channels), Int64(c.channels), kernel, kernel]) { i in
                UInt8(bitPattern: Int8(truncatingIfNeeded: (i &* 7919 &+ seed) % 61 - 30))
            }
        }
        let i8 = c.int8Activations
        let inits = [P.float("sx", 0.02), zp("zx", i8 ? -11 : 117), P.float("sa", 0.03), zp("za", i8 ? 3 : 131),
                     weights("w1", kernel: 1, seed: 5), weights("w2", kernel: 3, seed: 11), weights("w3", kernel: 1, seed: 13),
                     weights("w4", kernel: 1, seed: 17), weights("w5", kernel: 1, seed: 19), P.float("sw", 0.004), P.bytes("zw", .int8, []) { _ in 0 },
                     P.float("sy", 0.05), zp("zy", i8 ? -7 : 121), P.float("sm", 0.2), zp("zm", i8 ? 1 : 125),
                     P.bytes("zo", i8 ? .uint8 : .int8, []) { _ in i8 ? 131 : 3 }]
        let ms = "com.microsoft", pads = Attribute(name: "pads", value: .ints([1, 1, 1, 1]))
        func add(_ name: String, _ a: [String], _ b: [String], _ out: String) -> Node {
            Node(name: name, opType: "QLinearAdd", domain: ms, inputs: a + b + ["sa", "za"], outputs: [out])
        }
        let nodes = [P.node("QuantizeLinear", ["x", "sx", "zx"], "xq"),
                     add("join", ["xq", "sx", "zx"], ["xq", "sx", "zx"], "aq"),
                     P.node("QLinearConv", ["aq", "sa", "za", "w1", "sw", "zw", "sy", "zy"], "b1"),
                     P.node("QLinearConv", ["b1", "sy", "zy", "w2", "sw", "zw", "sm", "zm"], "b2", [pads]),
                     P.node("QLinearConv", ["b2", "sm", "zm", "w3", "sw", "zw", "sy", "zy"], "b3"),
                     P.node("QLinearConv", ["aq", "sa", "za", "w4", "sw", "zw", "sy", "zy"], "b4"),
                     add("second", ["b3", "sy", "zy"], ["b4", "sy", "zy"], "s1"),
                     add("third", ["s1", "sa", "za"], ["aq", "sa", "za"], "s2"),
                     P.node("DequantizeLinear", ["s2", "sa", "za"], "y"),
                     P.node("QLinearConv", ["aq", "sa", "za", "w5", "sw", "zw", "sy", "zy"], "b5", [Attribute(name: "strides", value: .ints([2, 2]))]),
                     P.node("DequantizeLinear", ["b5", "sy", "zy"], "y2"),
                     // A reader asking another offset (its zero point of the other type): it converts the floats itself.
                     P.node("QLinearConv", ["aq", "sa", "zo", "w4", "sw", "zw", "sy", "zy"], "b6"),
                     P.node("DequantizeLinear", ["b6", "sy", "zy"], "y3")]
        let side = Int64(c.size)
        let g = Graph(nodes: nodes, initializers: inits,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.known(Int64(batch)), .known(Int64(c.channels)), .known(side), .known(side)])))],
                      outputs: [ValueInfo(name: "y", type: nil), ValueInfo(name: "y2", type: nil), ValueInfo(name: "y3", type: nil)])
        return Model(opsetImports: [OpsetImport(domain: "", version: 17), OpsetImport(domain: ms, version: 1)], graph: g)
    }

    @Test(arguments: cases)
    func simdReadsByteImagesAndEqualsReference(_ c: Case) throws {
        let batch = 2, shape = [batch, c.channels, c.size, c.size]
        let x = (0..<shape.reduce(1, *)).map { i -> Float in Float((i &* 7919) % 211) * 0.013 - 1.3 }
        let model = Self.model(c, batch: batch)
        let reference = try Executor(model: model, options: ExecOptions(kernels: .reference))
        let expected = try reference.run(x, shape: shape).flatMap(\.values)
        #expect(try reference.plan(inputShape: shape).byteImageReadsPerImage == 0)
        for kernels in [KernelSet.avx512, .avx2] where kernels.isSupported {
            for threads in [1, 2] {
                for perImage in [true, false] {
                    var options = ExecOptions(kernels: kernels, threads: threads)
                    options.perImage = perImage
                    let executor = try Executor(model: model, options: options)
                    let reads = try executor.plan(inputShape: shape).byteImageReadsPerImage
                    let label = "\(c.testDescription) \(kernels) threads \(threads) perImage \(perImage)"
                    #expect(reads == 9, "\(label): \(reads) byte image reads")
                    let floatless = try executor.plan(inputShape: shape).floatlessPerImage
                    #expect(floatless == 5, "\(label): \(floatless) tensors left unwritten as floats")
                    let got = try executor.run(x, shape: shape).flatMap(\.values)
                    let diff = zip(got, expected).filter { $0 != $1 }.count
                    #expect(got.count == expected.count && diff == 0, "\(label): \(diff) differ")
                }
                // A stepwise run of the batch hands out the second join's result from its bytes.
                let stepped = try Stepper(plan: Executor(model: model, options: ExecOptions(kernels: kernels, threads: threads)).batchPlan(inputShape: shape), input: x)
                let expectedJoin = try Stepper(plan: reference.batchPlan(inputShape: shape), input: x)
                let want = expectedJoin.advance(to: "s1") { Array($1) }, have = stepped.advance(to: "s1") { Array($1) }
                #expect(want != nil && have == want, "\(c.testDescription) \(kernels) threads \(threads): the stepped join differs")
            }
        }
    }

    /// Joins whose results other joins read as bytes, where one is also a graph output (its floats
    /// written all the same) and where the values are single (a B of one value is the scalar it then
    /// is, read as floats, not bytes): y = j1 + (j1 + x), the SIMD sets equal to the reference set.
    @Test(arguments: [[1], [2, 3, 9, 9]])
    func joinsReadingJoinsAndAGraphOutput(_ shape: [Int]) throws {
        typealias P = Int8PlannerPathTests
        let ms = "com.microsoft"
        func add(_ a: String, _ b: String, _ out: String) -> Node {
            Node(name: out, opType: "QLinearAdd", domain: ms, inputs: [a, "sx", "zx", b, "sx", "zx", "sx", "zx"], outputs: [out])
        }
        let nodes = [P.node("QuantizeLinear", ["x", "sx", "zx"], "xq"), add("xq", "xq", "j1"), add("xq", "j1", "j2"), add("j1", "j2", "j3"),
                     P.node("DequantizeLinear", ["j3", "sx", "zx"], "y")]
        let dims = shape.map { Dim.known(Int64($0)) }
        let g = Graph(nodes: nodes, initializers: [P.float("sx", 0.05), P.bytes("zx", .uint8, []) { _ in 100 }],
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: dims)))],
                      outputs: [ValueInfo(name: "y", type: nil), ValueInfo(name: "j1", type: nil)])
        let model = Model(opsetImports: [OpsetImport(domain: "", version: 17), OpsetImport(domain: ms, version: 1)], graph: g)
        let x = (0..<shape.reduce(1, *)).map { i -> Float in Float((i &* 7919) % 211) * 0.05 - 5 }
        let expected = try Executor(model: model, options: ExecOptions(kernels: .reference)).run(x, shape: shape).flatMap(\.values)
        for kernels in [KernelSet.avx512, .avx2] where kernels.isSupported {
            let executor = try Executor(model: model, options: ExecOptions(kernels: kernels, threads: 2))
            let got = try executor.run(x, shape: shape).flatMap(\.values)
            #expect(got == expected, "\(shape) \(kernels): \(zip(got, expected).filter { $0 != $1 }.count) differ")
            // j2 is read only by j3, as bytes (where it has more than one value); j1, a graph output, keeps its floats.
            let floatless = try executor.plan(inputShape: shape).floatlessPerImage
            #expect(floatless == (shape == [1] ? 0 : 1), "\(shape) \(kernels): \(floatless) tensors left unwritten as floats")
        }
    }

    /// A pointwise conv deep enough to run transposed on VNNI (64 -> 32 channels at 7x7: K = 2M, 49
    /// positions) reading a join's byte image: one byte image read on each SIMD set (VNNI builds the
    /// transposed product's operand from the bytes; AVX2's tiles interleave or copy them), the join's
    /// floats left unwritten, outputs equal to the reference set's; 1-2 threads.
    @Test func transposedPointwiseReadsAJoinsBytes() throws {
        typealias P = Int8PlannerPathTests
        let ms = "com.microsoft", c = 64, m = 32, shape = [1, c, 7, 7]
        let inits = [P.float("sx", 0.05), P.bytes("zx", .uint8, []) { _ in 100 },
                     P.bytes("w", .int8, [Int64(m), Int64(c), 1, 1]) { i in UInt8(bitPattern: Int8(truncatingIfNeeded: (i &* 7919 &+ 3) % 61 - 30)) },
                     P.float("sw", 0.004), P.bytes("zw", .int8, []) { _ in 0 }, P.float("sy", 0.1), P.bytes("zy", .uint8, []) { _ in 120 }]
        let nodes = [P.node("QuantizeLinear", ["x", "sx", "zx"], "xq"),
                     Node(name: "join", opType: "QLinearAdd", domain: ms, inputs: ["xq", "sx", "zx", "xq", "sx", "zx", "sx", "zx"], outputs: ["j"]),
                     P.node("QLinearConv", ["j", "sx", "zx", "w", "sw", "zw", "sy", "zy"], "b"),
                     P.node("DequantizeLinear", ["b", "sy", "zy"], "y")]
        let g = Graph(nodes: nodes, initializers: inits,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: shape.map { .known(Int64($0)) })))],
                      outputs: [ValueInfo(name: "y", type: nil)])
        let model = Model(opsetImports: [OpsetImport(domain: "", version: 17), OpsetImport(domain: ms, version: 1)], graph: g)
        let x = (0..<shape.reduce(1, *)).map { i -> Float in Float((i &* 7919) % 211) * 0.05 - 5 }
        let expected = try Executor(model: model, options: ExecOptions(kernels: .reference)).run(x, shape: shape).flatMap(\.values)
        for kernels in [KernelSet.avx512, .avx2] where kernels.isSupported {
            for threads in [1, 2] {
                let executor = try Executor(model: model, options: ExecOptions(kernels: kernels, threads: threads))
                let plan = try executor.plan(inputShape: shape)
                #expect(plan.byteImageReadsPerImage == 1 && plan.floatlessPerImage == 1,
                        "\(kernels) threads \(threads): \(plan.byteImageReadsPerImage) reads, \(plan.floatlessPerImage) floatless")
                let got = try executor.run(x, shape: shape).flatMap(\.values)
                #expect(got == expected, "\(kernels) threads \(threads): \(zip(got, expected).filter { $0 != $1 }.count) differ")
            }
        }
    }

    /// A stem: a strided 3x3 QLinearConv, the 3x3 stride-2 MaxPool, a 3x3 QLinearConv (tap-major). The
    /// pool reads the stem conv's bytes and writes its own for the conv (Int8Pooling: 2 byte image
    /// reads, where the convs alone made none), the stem's floats and, unless the pool's result is also
    /// a graph output, the pool's left unwritten; uint8 and int8 activations (offsets 0 and 128),
    /// floor and ceil mode (a last window half outside), 1-2 threads: the SIMD sets equal the
    /// reference set exactly, and a stepwise run hands out the pool's result equal to it.
    @Test(arguments: [false, true], [false, true])
    func stemPoolReadsAndWritesBytes(int8Activations i8: Bool, poolIsAnOutput: Bool) throws {
        typealias P = Int8PlannerPathTests
        let channels = 8, size = 34, batch = 2
        let zpType: DataType = i8 ? .int8 : .uint8
        func zp(_ name: String, _ v: Int) -> Tensor { P.bytes(name, zpType, []) { _ in UInt8(truncatingIfNeeded: v) } }
        func weights(_ name: String, _ m: Int, _ c: Int, kernel: Int64) -> Tensor {
            P.bytes(name, .int8, [Int64(m), Int64(c), kernel, kernel]) { i in UInt8(bitPattern: Int8(truncatingIfNeeded: (i &* 7919 &+ 5) % 61 - 30)) }
        }
        for ceil in [false, true] {
            let inits = [P.float("sx", 0.02), zp("zx", i8 ? -11 : 117), weights("w1", channels, 3, kernel: 3), weights("w2", channels, channels, kernel: 3),
                         P.float("sw", 0.004), P.bytes("zw", .int8, []) { _ in 0 }, P.float("sy", 0.05), zp("zy", i8 ? -7 : 0),
                         P.float("sm", 0.2), zp("zm", i8 ? 1 : 125)]
            let pool = Node(name: "pool", opType: "MaxPool", inputs: ["b1"], outputs: ["p"],
                            attributes: [Attribute(name: "kernel_shape", value: .ints([3, 3])), Attribute(name: "strides", value: .ints([2, 2])),
                                         Attribute(name: "pads", value: .ints([1, 1, 1, 1])), Attribute(name: "ceil_mode", value: .int(ceil ? 1 : 0))])
            let nodes = [P.node("QuantizeLinear", ["x", "sx", "zx"], "xq"),
                         P.node("QLinearConv", ["xq", "sx", "zx", "w1", "sw", "zw", "sy", "zy"], "b1",
                                [Attribute(name: "pads", value: .ints([1, 1, 1, 1])), Attribute(name: "strides", value: .ints([2, 2]))]),
                         pool,
                         P.node("QLinearConv", ["p", "sy", "zy", "w2", "sw", "zw", "sm", "zm"], "b2", [Attribute(name: "pads", value: .ints([1, 1, 1, 1]))]),
                         P.node("DequantizeLinear", ["b2", "sm", "zm"], "y")]
            let side = Int64(size)
            let g = Graph(nodes: nodes, initializers: inits,
                          inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.known(Int64(batch)), .known(3), .known(side), .known(side)])))],
                          outputs: [ValueInfo(name: "y", type: nil)] + (poolIsAnOutput ? [ValueInfo(name: "p", type: nil)] : []))
            let model = Model(opsetImports: [OpsetImport(domain: "", version: 17), OpsetImport(domain: "com.microsoft", version: 1)], graph: g)
            let shape = [batch, 3, size, size]
            let x = (0..<shape.reduce(1, *)).map { i -> Float in Float((i &* 7919) % 211) * 0.013 - 1.3 }
            let reference = try Executor(model: model, options: ExecOptions(kernels: .reference))
            let expected = try reference.run(x, shape: shape).flatMap(\.values)
            for kernels in [KernelSet.avx512, .avx2] where kernels.isSupported {
                for threads in [1, 2] {
                    let executor = try Executor(model: model, options: ExecOptions(kernels: kernels, threads: threads))
                    let label = "\(i8 ? "int8" : "uint8") ceil \(ceil) pool output \(poolIsAnOutput) \(kernels) threads \(threads)"
                    let plan = try executor.plan(inputShape: shape)
                    #expect(plan.byteImageReadsPerImage == 2, "\(label): \(plan.byteImageReadsPerImage) byte image reads")
                    #expect(plan.floatlessPerImage == (poolIsAnOutput ? 1 : 2), "\(label): \(plan.floatlessPerImage) tensors left unwritten as floats")
                    let got = try executor.run(x, shape: shape).flatMap(\.values)
                    #expect(got == expected, "\(label): \(zip(got, expected).filter { $0 != $1 }.count) differ")
                    let stepped = try Stepper(plan: executor.batchPlan(inputShape: shape), input: x)
                    let want = try Stepper(plan: reference.batchPlan(inputShape: shape), input: x).advance(to: "p") { Array($1) }
                    #expect(want != nil && stepped.advance(to: "p") { Array($1) } == want, "\(label): the stepped pool differs")
                }
            }
        }
    }
}
