import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsReference

/// A ResNet stem as planned (Planner.feedsChannelsLastPool): the 7x7 s2 conv above 1024 output
/// positions runs transposed and writes channels last only when max pools reading it as it stands
/// are all that read its result, and the pool writes channels last when every reader of its result
/// reads that as it stands; each SIMD set against the reference kernels, batch and threads
/// splitting the pool's rows.
struct StemPoolPlanTests {
    typealias B = BatchSeparabilityTests

    /// x [N, 3, 80, 80] -> r = relu(conv 7x7 s2 p3 (32 channels)) [N, 32, 40, 40] -> p = MaxPool 3x3 s2 p1 (r)
    /// -> q = 1x1 conv (p). `pool` replaces the pool's attributes; `alsoOutputsR` makes r a graph output too;
    /// `poolIndices` asks the pool for its indices (an N-D kernel pool, which reads channels first).
    /// `size` the input's height and width; `sigmoidOfR` adds s = Sigmoid(r) as a graph output (a reader that needs channels first),
    /// `sigmoidOfP` likewise t = Sigmoid(p); `residualOfP` adds a = Conv(q) + p (the Add fused into that conv) and g =
    /// GlobalAveragePool(a) as the output instead of q, as resnet18's first block adds the pool's result.
    static func model(size: Int64 = 80, alsoOutputsR: Bool = false, poolIndices: Bool = false, pool: [Attribute]? = nil, sigmoidOfR: Bool = false,
                      sigmoidOfP: Bool = false, residualOfP: Bool = false) -> Model {
        let poolAttributes = pool ?? [B.attr("kernel_shape", [3, 3]), B.attr("strides", [2, 2]), B.attr("pads", [1, 1, 1, 1])]
        var maxPool = B.node("MaxPool", ["r"], "p", poolAttributes)
        if poolIndices { maxPool = Node(name: "p", opType: "MaxPool", inputs: ["r"], outputs: ["p", "i"], attributes: poolAttributes) }
        let nodes = [
            B.node("Conv", ["x", "w", "b"], "c", [B.attr("strides", [2, 2]), B.attr("pads", [3, 3, 3, 3])]), B.node("Relu", ["c"], "r"),
            maxPool, B.node("Conv", ["p", "wq"], "q"),
        ] + (sigmoidOfR ? [B.node("Sigmoid", ["r"], "s")] : []) + (sigmoidOfP ? [B.node("Sigmoid", ["p"], "t")] : [])
            + (residualOfP ? [B.node("Conv", ["q", "wv"], "v"), B.node("Add", ["v", "p"], "a"), B.node("GlobalAveragePool", ["a"], "g")] : [])
        let initializers = [
            B.floats("w", [32, 3, 7, 7]) { Float(($0 * 37) % 23) * 0.01 - 0.11 }, B.floats("b", [32]) { Float($0 % 5) * 0.1 - 0.2 },
            B.floats("wq", [32, 32, 1, 1]) { Float(($0 * 11) % 17) * 0.02 - 0.16 },
        ] + (residualOfP ? [B.floats("wv", [32, 32, 1, 1]) { Float(($0 * 5) % 13) * 0.03 - 0.18 }] : [])
        let x = ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [Dim(.symbol("N")), .known(3), .known(size), .known(size)])))
        let outputs = [ValueInfo(name: residualOfP ? "g" : "q", type: nil)] + (alsoOutputsR ? [ValueInfo(name: "r", type: nil)] : [])
            + (sigmoidOfR ? [ValueInfo(name: "s", type: nil)] : []) + (sigmoidOfP ? [ValueInfo(name: "t", type: nil)] : [])
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: Graph(nodes: nodes, initializers: initializers, inputs: [x], outputs: outputs))
    }

    @Test(arguments: [KernelSet.avx2, .avx512])
    func stemWritesChannelsLastForItsPool(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        for (n, threads) in [(1, 1), (1, 2), (3, 2)] {
            let x: [Float] = (0..<(n * 3 * 80 * 80)).map { (i: Int) -> Float in Float((i * 13) % 29) * 0.07 - 1.0 }
            let plan = try WinogradChannelsLastPlanTests.planMatchingReference(Self.model(), set, shape: [n, 3, 80, 80], threads: threads, x: x,
                                                                               "\(set) batch \(n) threads \(threads)")
            // r and p are channels last, each read as it stands (p by q, a transposed 1x1): no layout copy.
            #expect(plan.channelsLast.count == 2, "\(set) batch \(n): \(plan.channelsLast.count) tensors channels last")
            let copies: [String] = plan.steps.map { $0.op }.filter { (op: String) -> Bool in op.hasPrefix("ToChannels") }
            #expect(copies.isEmpty, "\(set) batch \(n): \(copies)")
        }
        // Anything else reading r (here the graph's outputs), or a pool that runs the N-D kernel: the stem
        // stays channels first, and so does the pool's result. A pool with other windows, strides and pads
        // still reads it channels last and writes so for q; a second reader of p that needs channels first
        // (a Sigmoid) keeps p channels first; p as a fused residual's shortcut, beside q, stays channels
        // last (r, p, q, and a, which the global pool reads as it stands).
        let x: [Float] = (0..<(2 * 3 * 80 * 80)).map { (i: Int) -> Float in Float((i * 7) % 31) * 0.05 - 0.8 }
        let otherPool = [B.attr("kernel_shape", [2, 3]), B.attr("strides", [1, 2]), B.attr("pads", [0, 1, 1, 0]), B.attr("dilations", [2, 1])]
        let cases: [(Model, Int, String)] = [(Self.model(alsoOutputsR: true), 0, "r an output"), (Self.model(poolIndices: true), 0, "indices"),
                                             (Self.model(pool: otherPool), 2, "2x3 pool"), (Self.model(sigmoidOfP: true), 1, "p also to a Sigmoid"),
                                             (Self.model(residualOfP: true), 4, "p a residual's shortcut")]
        for (model, channelsLast, what) in cases {
            let plan = try WinogradChannelsLastPlanTests.planMatchingReference(model, set, shape: [2, 3, 80, 80], threads: 2, x: x, "\(set) \(what)")
            let copies: [String] = plan.steps.map { $0.op }.filter { (op: String) -> Bool in op.hasPrefix("ToChannels") }
            #expect(plan.channelsLast.count == channelsLast, "\(set) \(what): \(plan.channelsLast.count) tensors channels last")
            #expect(copies.isEmpty, "\(set) \(what): \(copies)")
        }
    }

    /// resnet18's shape of it: the pool's result above 1024 positions (36 x 36) read by a wide
    /// channel-lane Winograd conv and added as the residual of a second one, so p stays channels last
    /// with no copy anywhere; whole batches, per-image plans and a stepwise run (which hands p out
    /// channels first) all agree with the reference kernels.
    @Test(arguments: [KernelSet.avx2, .avx512])
    func poolFeedsWideWinogradBlockChannelsLast(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        let weights: (String, [Int64], Int) -> Tensor = { name, dims, seed in B.floats(name, dims) { Float(($0 * 37 + seed * 11) % 23) * 0.01 - 0.11 } }
        let pads = B.attr("pads", [1, 1, 1, 1])
        let nodes = [
            B.node("Conv", ["x", "w", "b"], "c", [B.attr("strides", [2, 2]), B.attr("pads", [3, 3, 3, 3])]), B.node("Relu", ["c"], "r"),
            B.node("MaxPool", ["r"], "p", [B.attr("kernel_shape", [3, 3]), B.attr("strides", [2, 2]), pads]),
            B.node("Conv", ["p", "wa", "ba"], "a0", [pads]), B.node("Relu", ["a0"], "a"),
            B.node("Conv", ["a", "wb", "bb"], "b0", [pads]), B.node("Add", ["b0", "p"], "b1"), B.node("Relu", ["b1"], "h"),
            B.node("GlobalAveragePool", ["h"], "g"),
        ]
        let initializers = [
            weights("w", [32, 3, 7, 7], 1), weights("b", [32], 2), weights("wa", [32, 32, 3, 3], 3), weights("ba", [32], 4),
            weights("wb", [32, 32, 3, 3], 5), weights("bb", [32], 6),
        ]
        let input = ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [Dim(.symbol("N")), .known(3), .known(144), .known(144)])))
        let model = Model(opsetImports: [OpsetImport(domain: "", version: 17)],
                          graph: Graph(nodes: nodes, initializers: initializers, inputs: [input], outputs: [ValueInfo(name: "g", type: nil)]))
        for (n, threads) in [(1, 1), (2, 2)] {
            let shape = [n, 3, 144, 144]
            let x: [Float] = (0..<(n * 3 * 144 * 144)).map { (i: Int) -> Float in Float((i * 13) % 29) * 0.07 - 1.0 }
            let plan = try WinogradChannelsLastPlanTests.planMatchingReference(model, set, shape: shape, threads: threads, x: x,
                                                                               "\(set) batch \(n) threads \(threads)")
            let copies: [String] = plan.steps.map { $0.op }.filter { (op: String) -> Bool in op.hasPrefix("ToChannels") }
            #expect(copies.isEmpty, "\(set) batch \(n): \(copies)")
            // r, p, a and h channels last (h read by the global pool as it stands).
            #expect(plan.channelsLast.count == 4, "\(set) batch \(n): \(plan.channelsLast.count) tensors channels last")
            let batched = try plan.run(x)
            let perImage = try Executor(model: model, options: ExecOptions(kernels: set, threads: threads)).plan(inputShape: shape).run(x)
            for (a, b) in zip(perImage, batched) { #expect(a.values == b.values, "\(set) batch \(n): per-image plans, \(a.name)") }
        }
        let x: [Float] = (0..<(3 * 144 * 144)).map { (i: Int) -> Float in Float((i * 7) % 31) * 0.05 - 0.8 }
        let simd = try Stepper(plan: Executor(model: model, options: ExecOptions(kernels: set, threads: 2)).batchPlan(inputShape: [1, 3, 144, 144]), input: x)
        let reference = try Stepper(plan: Executor(model: model, options: ExecOptions(referenceKernels: true)).batchPlan(inputShape: [1, 3, 144, 144]),
                                    input: x)
        for value in ["p", "h"] {
            let got = simd.advance(to: value) { s, v in (s, Array(v)) }, want = reference.advance(to: value) { s, v in (s, Array(v)) }
            #expect(got?.0 != nil && got?.0 == want?.0, "\(set) stepwise \(value)")
            ChannelsLastTests.assertClose(got?.1 ?? [], want?.1 ?? [.nan], "\(set) stepwise \(value)")
        }
    }

    /// A conv of at most 1024 positions runs channels last anyway (runsChannelsLast): its output stays
    /// so for the max pool, which reads it as it stands (and writes so for q), while another reader
    /// (a Sigmoid) gets the one channels-first copy.
    @Test(arguments: [KernelSet.avx2, .avx512])
    func smallConvKeepsChannelsLastForItsPoolBesideAnotherReader(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        let x: [Float] = (0..<(2 * 3 * 40 * 40)).map { (i: Int) -> Float in Float((i * 11) % 37) * 0.05 - 0.9 }
        let plan = try WinogradChannelsLastPlanTests.planMatchingReference(Self.model(size: 40, sigmoidOfR: true), set, shape: [2, 3, 40, 40],
                                                                           threads: 2, x: x, "\(set) 20x20 stem with a second reader")
        let copies: [String] = plan.steps.map { $0.op }.filter { (op: String) -> Bool in op.hasPrefix("ToChannels") }
        #expect(copies == ["ToChannelsFirst"], "\(set): \(copies)")
        #expect(plan.channelsLast.count == 2, "\(set): \(plan.channelsLast.count) tensors channels last")
    }

    /// A deep stem (timm's resnet-d and -t: 3x3 s2 3 -> 32, 3x3 32 -> 32, 3x3 32 -> 64, then the max
    /// pool) above 3136 output positions (65 x 65 here): the two stride-1 3x3s run the channel-lane
    /// Winograd between one copy of their input made channels last and a channels-last result the
    /// pool reads as it stands; against the reference kernels at batch 1 and 2 on 1 and 2 threads.
    @Test(arguments: [KernelSet.avx2, .avx512])
    func deepStemRunsChannelLaneWinograd(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        let weights: (String, [Int64], Int) -> Tensor = { name, dims, seed in B.floats(name, dims) { Float(($0 * 37 + seed * 11) % 23) * 0.02 - 0.22 } }
        let pads = B.attr("pads", [1, 1, 1, 1])
        let nodes = [
            B.node("Conv", ["x", "w0"], "c0", [B.attr("strides", [2, 2]), pads]), B.node("Relu", ["c0"], "r0"),
            B.node("Conv", ["r0", "w1"], "c1", [pads]), B.node("Relu", ["c1"], "r1"),
            B.node("Conv", ["r1", "w2"], "c2", [pads]), B.node("Relu", ["c2"], "r2"),
            B.node("MaxPool", ["r2"], "p", [B.attr("kernel_shape", [3, 3]), B.attr("strides", [2, 2]), pads]), B.node("Conv", ["p", "wq"], "q"),
        ]
        let initializers = [weights("w0", [32, 3, 3, 3], 1), weights("w1", [32, 32, 3, 3], 2), weights("w2", [64, 32, 3, 3], 3), weights("wq", [64, 64, 1, 1], 4)]
        let x = ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [Dim(.symbol("N")), .known(3), .known(130), .known(130)])))
        let model = Model(opsetImports: [OpsetImport(domain: "", version: 17)],
                          graph: Graph(nodes: nodes, initializers: initializers, inputs: [x], outputs: [ValueInfo(name: "q", type: nil)]))
        for (n, threads) in [(1, 1), (1, 2), (2, 2)] {
            let input = (0..<(n * 3 * 130 * 130)).map { Float(($0 * 13) % 29) * 0.07 - 1.0 }
            let plan = try WinogradChannelsLastPlanTests.planMatchingReference(model, set, shape: [n, 3, 130, 130], threads: threads, x: input,
                                                                               "\(set) batch \(n) threads \(threads)")
            // r1 and r2 channels last (r2 read by the pool as it stands), r0 copied once.
            let copies: [String] = plan.steps.map { $0.op }.filter { (op: String) -> Bool in op.hasPrefix("ToChannels") }
            #expect(copies == ["ToChannelsLast"], "\(set) batch \(n): \(copies)")
            #expect(plan.channelsLast.count >= 3, "\(set) batch \(n): \(plan.channelsLast.count) tensors channels last")
        }
    }
}
