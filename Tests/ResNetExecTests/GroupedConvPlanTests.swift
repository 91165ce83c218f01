import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsReference

/// Grouped convs (ResNeXt's 3x3s: 32 groups of 4 to 32 channels) on each SIMD set against the
/// reference kernels: at batch 1 on several threads, from 4 groups a thread, threads claim whole
/// groups (each on its own workspace); with fewer groups they split each group's GEMM; a batch of
/// at least as many images as threads splits by image. Every path a group can take: shifted rows
/// (narrow groups), stride 2, transposed (a 7x7 plane with 32 channels a group), a 1x1 with a fused
/// residual Add and ReLU.
struct GroupedConvPlanTests {
    typealias B = BatchSeparabilityTests

    /// x [N, 128, 14, 14] -> a = relu(conv 3x3 p1, 32 groups of 4, bias) -> b = conv 3x3 s2 p1 (16 groups of 8)
    /// [N, 128, 7, 7] -> c = conv 3x3 p1 (4 groups of 32) -> y = relu(conv 1x1 (8 groups of 16) (c) + b).
    static func model() -> Model {
        let weights: (String, [Int64], Int) -> Tensor = { name, dims, seed in B.floats(name, dims) { Float(($0 * 37 + seed * 11) % 23) * 0.02 - 0.22 } }
        let pads = B.attr("pads", [1, 1, 1, 1])
        let nodes = [
            B.node("Conv", ["x", "wa", "ba"], "ca", [B.attr("group", 32), pads]), B.node("Relu", ["ca"], "a"),
            B.node("Conv", ["a", "wb"], "b", [B.attr("group", 16), B.attr("strides", [2, 2]), pads]),
            B.node("Conv", ["b", "wc"], "c", [B.attr("group", 4), pads]),
            B.node("Conv", ["c", "wd"], "d", [B.attr("group", 8)]), B.node("Add", ["d", "b"], "s"), B.node("Relu", ["s"], "y"),
        ]
        let initializers = [
            weights("wa", [128, 4, 3, 3], 1), B.floats("ba", [128]) { Float($0 % 7) * 0.05 - 0.15 }, weights("wb", [128, 8, 3, 3], 2),
            weights("wc", [128, 32, 3, 3], 3), weights("wd", [128, 16, 1, 1], 4),
        ]
        let x = ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [Dim(.symbol("N")), .known(128), .known(14), .known(14)])))
        let graph = Graph(nodes: nodes, initializers: initializers, inputs: [x], outputs: [ValueInfo(name: "y", type: nil)])
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
    }

    @Test(arguments: [KernelSet.avx2, .avx512])
    func groupsMatchTheReferenceKernels(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        // Threads 2 and 3 at batch 1: the 32- and 16-group convs split by group (3 threads: 16 >= 12),
        // the 4- and 8-group ones inside each group; batches 2 and 3 on 2 threads split by image.
        for (n, threads) in [(1, 1), (1, 2), (1, 3), (2, 2), (3, 2)] {
            let x = (0..<(n * 128 * 14 * 14)).map { Float(($0 * 13) % 29) * 0.07 - 1.0 }
            _ = try WinogradChannelsLastPlanTests.planMatchingReference(Self.model(), set, shape: [n, 128, 14, 14], threads: threads, x: x,
                                                                        "\(set) batch \(n) threads \(threads)")
        }
    }
}
