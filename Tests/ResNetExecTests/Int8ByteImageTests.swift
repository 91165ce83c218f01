import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsInt8
import ResNetKernelsReference

/// Byte images (Planner+ByteImages.swift): a QLinearAdd whose result two chunked pointwise convs
/// read (96 channels, 81 positions: a last tile of 17 columns) and a second QLinearAdd reads as
/// floats, in uint8 and in int8 activations (byte offsets 0 and 128), batch 2, per image and not,
/// 1-2 threads: the SIMD sets equal the reference set exactly, and on VNNI both convs read the
/// add's byte image (the reference set and the AVX2 tile read none).
struct Int8ByteImageTests {
    static func model(int8Activations: Bool, batch: Int) -> Model {
        typealias P = Int8PlannerPathTests
        let zpType: DataType = int8Activations ? .int8 : .uint8
        func zp(_ name: String, _ v: Int) -> Tensor { P.bytes(name, zpType, []) { _ in UInt8(truncatingIfNeeded: v) } }
        func weights(_ name: String, seed: Int) -> Tensor {
            P.bytes(name, .int8, [96, 96, 1, 1]) { i in UInt8(bitPattern: Int8(truncatingIfNeeded: (i &* 7919 &+ seed) % 61 - 30)) }
        }
        let inits = [P.float("sx", 0.02), zp("zx", int8Activations ? -11 : 117), P.float("sa", 0.03), zp("za", int8Activations ? 3 : 131),
                     weights("w1", seed: 5), weights("w2", seed: 17), P.float("sw", 0.004), P.bytes("zw", .int8, []) { _ in 0 },
                     P.float("sy", 0.05), zp("zy", int8Activations ? -7 : 121)]
        let ms = "com.microsoft"
        let nodes = [P.node("QuantizeLinear", ["x", "sx", "zx"], "xq"),
                     Node(name: "join", opType: "QLinearAdd", domain: ms, inputs: ["xq", "sx", "zx", "xq", "sx", "zx", "sa", "za"], outputs: ["aq"]),
                     P.node("QLinearConv", ["aq", "sa", "za", "w1", "sw", "zw", "sy", "zy"], "b1"),
                     P.node("QLinearConv", ["aq", "sa", "za", "w2", "sw", "zw", "sy", "zy"], "b2"),
                     Node(name: "second", opType: "QLinearAdd", domain: ms, inputs: ["b1", "sy", "zy", "b2", "sy", "zy", "sa", "za"], outputs: ["s1"]),
                     Node(name: "third", opType: "QLinearAdd", domain: ms, inputs: ["s1", "sa", "za", "aq", "sa", "za", "sa", "za"], outputs: ["s2"]),
                     P.node("DequantizeLinear", ["s2", "sa", "za"], "y")]
        let g = Graph(nodes: nodes, initializers: inits,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.known(Int64(batch)), .known(96), .known(9), .known(9)])))],
                      outputs: [ValueInfo(name: "y", type: nil)])
        return Model(opsetImports: [OpsetImport(domain: "", version: 17), OpsetImport(domain: ms, version: 1)], graph: g)
    }

    @Test(arguments: [false, true])
    func simdReadsTheAddsBytesAndEqualsReference(int8Activations: Bool) throws {
        let batch = 2, shape = [batch, 96, 9, 9]
        let x = (0..<(batch * 96 * 81)).map { i -> Float in Float((i &* 7919) % 211) * 0.013 - 1.3 }
        let model = Self.model(int8Activations: int8Activations, batch: batch)
        let reference = try Executor(model: model, options: ExecOptions(kernels: .reference))
        let expected = try reference.run(x, shape: shape)[0].values
        #expect(try reference.plan(inputShape: shape).byteImageReadsPerImage == 0)
        for kernels in [KernelSet.avx512, .avx2] where kernels.isSupported {
            let vnni = Int8Tile.forSet(kernels) == .vnni
            for threads in [1, 2] {
                for perImage in [true, false] {
                    var options = ExecOptions(kernels: kernels, threads: threads)
                    options.perImage = perImage
                    let executor = try Executor(model: model, options: options)
                    let reads = try executor.plan(inputShape: shape).byteImageReadsPerImage
                    #expect(reads == (vnni ? 2 : 0), "\(kernels) threads \(threads) perImage \(perImage): \(reads) byte image reads")
                    let got = try executor.run(x, shape: shape)[0].values
                    let diff = zip(got, expected).filter { $0 != $1 }.count
                    #expect(got.count == expected.count && diff == 0, "\(kernels) threads \(threads) perImage \(perImage): \(diff) differ")
                }
            }
            print("byte images \(vnni ? "read" : "not read, as expected,") on the \(kernels) set (integer tile \(Int8Tile.forSet(kernels)))")
        }
    }
}
