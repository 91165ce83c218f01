import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsReference

/// The channel-lane Winograd path (Planner+WinogradChannelsLast) as planned: both schedules,
/// with runs of tiles that cross images in a batch, on each SIMD set against the reference
/// kernels.
/// - C = M = 32 on 16x16: F(2x2), 64 tiles an image, small enough for the block schedule (at
///   batch 3 on 2 threads, blocks of 96 tiles: the first holds image 0 and half of image 1);
/// - C = M = 96 on 14x14: F(2x2), 49 tiles an image, the shared schedule (at batch 3 on 2
///   threads the transforms split 147 tiles 73/74, inside image 1);
/// - C = M = 32 on 28x28: F(4x4) (49 tiles an image), as resnet's 28x28 stage runs on both sets;
/// - C = M = 32 on 7x7: F(2x2) on AVX2 (16 tiles an image), direct on AVX-512 (below its 32).
struct WinogradChannelsLastPlanTests {
    typealias B = BatchSeparabilityTests

    /// x [N, C, H, H] -> a = relu(1x1 (x)) -> b = relu(3x3 (a) + a) -> c = 1x1 (b); p = GlobalAveragePool(c).
    /// `chain`: a second block d = relu(3x3 (b) + b) before c = 1x1 (d), as resnet18's layer1 chains them.
    static func model(channels c: Int, size h: Int, outputsB: Bool = false, chain: Bool = false) -> Model {
        func weights(_ name: String, _ dims: [Int64], _ seed: Int) -> Tensor {
            B.floats(name, dims) { Float(($0 * 37 + seed * 11) % 23) * 0.01 - 0.11 }
        }
        let c64 = Int64(c)
        let nodes = [
            B.node("Conv", ["x", "wa", "ba"], "a0"), B.node("Relu", ["a0"], "a"),
            B.node("Conv", ["a", "wb", "bb"], "b0", [B.attr("pads", [1, 1, 1, 1])]), B.node("Add", ["b0", "a"], "b1"), B.node("Relu", ["b1"], "b"),
        ] + (chain ? [B.node("Conv", ["b", "wd", "bd"], "d0", [B.attr("pads", [1, 1, 1, 1])]), B.node("Add", ["d0", "b"], "d1"),
                      B.node("Relu", ["d1"], "d")] : []) + [
            B.node("Conv", [chain ? "d" : "b", "wc", "bc"], "c"), B.node("GlobalAveragePool", ["c"], "p"),
        ]
        let initializers = [
            weights("wa", [c64, c64, 1, 1], 1), weights("ba", [c64], 2), weights("wb", [c64, c64, 3, 3], 3), weights("bb", [c64], 4),
            weights("wc", [c64, c64, 1, 1], 5), weights("bc", [c64], 6),
        ] + (chain ? [weights("wd", [c64, c64, 3, 3], 7), weights("bd", [c64], 8)] : [])
        let g = Graph(nodes: nodes, initializers: initializers,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [Dim(.symbol("N")), .known(Int64(c)), .known(Int64(h)), .known(Int64(h))])))],
                      outputs: [ValueInfo(name: "p", type: nil), ValueInfo(name: "c", type: nil)] + (outputsB ? [ValueInfo(name: "b", type: nil)] : []))
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: g)
    }

    /// The batch plan of `model` on `set` (one plan for the batch: tile runs across images), run on
    /// x and checked against the reference kernels; returns the plan for its layout checks.
    static func planMatchingReference(_ model: Model, _ set: KernelSet, shape: [Int], threads: Int, x: [Float], _ what: String) throws -> ExecutionPlan {
        var options = ExecOptions(kernels: set, threads: threads)
        options.perImage = false
        let plan = try Executor(model: model, options: options).batchPlan(inputShape: shape)
        let got = try plan.run(x), want = try Executor(model: model, options: ExecOptions(referenceKernels: true)).run(x, shape: shape)
        let gotNames: [String] = got.map { $0.name }, wantNames: [String] = want.map { $0.name }
        #expect(gotNames == wantNames, "\(what): outputs \(gotNames)")
        for (g, w) in zip(got, want) { ChannelsLastTests.assertClose(g.values, w.values, "\(what) \(g.name)") }
        return plan
    }

    @Test(arguments: [KernelSet.avx2, .avx512])
    func matchesTheReferenceKernels(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        for (c, h) in [(32, 16), (96, 14), (32, 28), (32, 7)] {
            let model = Self.model(channels: c, size: h)
            for (n, threads) in [(1, 1), (1, 2), (3, 2)] {
                let x = (0..<(n * c * h * h)).map { Float(($0 * 13) % 29) * 0.07 - 1.0 }
                let plan = try Self.planMatchingReference(model, set, shape: [n, c, h, h], threads: threads, x: x,
                                                          "\(set) C \(c) batch \(n) threads \(threads)")
                // a and b stay channels last (b is the Winograd conv's output); c, a graph output, does not.
                #expect(plan.channelsLast.count == 2, "\(set) C \(c): \(plan.channelsLast.count) tensors channels last")
                #expect(!plan.steps.map(\.op).contains { $0.hasPrefix("ToChannels") }, "\(set) C \(c): a layout copy")
            }
        }
    }

    /// Above 1024 output positions (resnet's 56x56) only the Winograd conv runs channels last: it
    /// reads a copy of its input made channels last and writes channels last, the 1x1 after it
    /// reads a channels-first copy; the copies run split over threads and edge blocks (33 x 33).
    /// Above 28 columns the conv is F(3x3) (Planner.winogradTile): at C 32 on 33x33 (121 tiles of
    /// 6.4 KB) the block schedule, at C 64 on 56x56 (361 tiles of 12.8 KB) the shared one.
    @Test(arguments: [KernelSet.avx2, .avx512])
    func wideStageCopiesAroundTheWinogradConv(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        for (c, h) in [(32, 33), (64, 56)] {
            let model = Self.model(channels: c, size: h)
            let g = ConvGeometry(channels: c, height: h, width: h, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1,
                                 dilationH: 1, dilationW: 1, outH: h, outW: h)
            #expect(Planner<Float>.winogradTile(g, set, channelLanes: true) == .f3x3, "\(set) H \(h)")
            for (n, threads) in [(1, 1), (1, 2), (2, 2)] {
                let x = (0..<(n * c * h * h)).map { Float(($0 * 13) % 29) * 0.07 - 1.0 }
                let plan = try Self.planMatchingReference(model, set, shape: [n, c, h, h], threads: threads, x: x,
                                                          "\(set) C \(c) H \(h) batch \(n) threads \(threads)")
                let ops = plan.steps.map(\.op)
                #expect(ops.filter { $0 == "ToChannelsLast" }.count == 1 && ops.filter { $0 == "ToChannelsFirst" }.count == 1,
                        "\(set) C \(c) H \(h): copies \(ops.filter { $0.hasPrefix("ToChannels") })")
                // The copy of a and the Winograd conv's output b.
                #expect(plan.channelsLast.count == 2, "\(set) C \(c) H \(h): \(plan.channelsLast.count) tensors channels last")
            }
        }
        // b a graph output as well (graph outputs stay channels first): the conv runs channels
        // first, no copies. Two Winograd blocks in a chain (resnet18's layer1): b stays channels
        // last between them, one copy in (a, also the first shortcut) and one out (d).
        for (outputsB, chain, copies, channelsLast) in [(true, false, [String](), 0), (false, true, ["ToChannelsLast", "ToChannelsFirst"], 3)] {
            let model = Self.model(channels: 32, size: 33, outputsB: outputsB, chain: chain)
            let x: [Float] = (0..<(2 * 32 * 33 * 33)).map { (i: Int) -> Float in Float((i * 7) % 31) * 0.05 - 0.8 }
            let plan = try Self.planMatchingReference(model, set, shape: [2, 32, 33, 33], threads: 2, x: x, "\(set) outputsB \(outputsB) chain \(chain):")
            #expect(plan.outputs.count == (outputsB ? 3 : 2))
            let ops = plan.steps.map(\.op)
            #expect(ops.filter { $0.hasPrefix("ToChannels") } == copies, "\(set) outputsB \(outputsB) chain \(chain): \(ops)")
            #expect(plan.channelsLast.count == channelsLast, "\(set) outputsB \(outputsB) chain \(chain): \(plan.channelsLast.count) channels last")
        }
    }

    /// The tile each output size gets: F(4x4) up to 28 columns (F(2x2) below 32 F(4x4) tiles,
    /// on AVX2 only with channel lanes: resnet's 14x14 and 7x7), F(3x3) above, and F(2x2) where F(3x3) has too few tiles (a short, wide output: 8 x 30
    /// makes 30 F(3x3) tiles and 60 F(2x2); 3 x 30 10 and 30), none where even F(2x2) has too few
    /// (16 with channel lanes, 32 without on AVX-512; F(4x4) 32 on AVX-512 and with lanes: winogradMinimumTiles).
    @Test(arguments: [KernelSet.avx2, .avx512])
    func tileChoiceBySize(_ set: KernelSet) {
        let p = Planner<Float>(graph: Self.model(channels: 32, size: 8).graph, opset: 17, kernels: set, threads: 1, budget: .default,
                               exact: false, winograd: true)
        func choice(_ h: Int, _ w: Int, channelLanes: Bool = true) -> WinogradTile? {
            let g = ConvGeometry(channels: 32, height: h, width: w, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1,
                                 dilationH: 1, dilationW: 1, outH: h, outW: w)
            return p.winogradChoice(g, xs: [1, 32, h, w], channelLanes: channelLanes)
        }
        #expect(choice(56, 56) == .f3x3 && choice(30, 30) == .f3x3, "\(set)")
        #expect(choice(8, 30) == (set == .avx512 ? .f2x2 : .f3x3), "\(set): 8 x 30 (30 F(3x3) tiles)")
        #expect(choice(3, 30) == .f2x2, "\(set): 3 x 30 (10 F(3x3) tiles, 30 F(2x2))")
        #expect(choice(28, 28) == .f4x4 && choice(14, 14) == .f2x2, "\(set)")
        // F(4x4) from exactly 32 tiles (32 x 16: 8 x 4), F(2x2) at 28 (28 x 16: 7 x 4).
        #expect(choice(32, 16) == .f4x4 && choice(28, 16) == .f2x2, "\(set): 32 and 28 F(4x4) tiles")
        // 7x7: 4 F(4x4) tiles, 16 F(2x2), enough with lanes on both sets; 5x5: 9 F(2x2), too few. Without
        // lanes AVX2 keeps F(4x4) from 16 tiles (14x14) and neither set takes F(2x2) at 7x7.
        #expect(choice(7, 7) == .f2x2 && choice(5, 5) == nil, "\(set): 7x7 and 5x5")
        #expect(choice(7, 7, channelLanes: false) == nil && choice(14, 14, channelLanes: false) == (set == .avx512 ? .f2x2 : .f4x4),
                "\(set): tile lanes")
    }
}
