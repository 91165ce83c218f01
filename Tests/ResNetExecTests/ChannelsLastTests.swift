import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsReference

/// Activations kept channels last between the convs that run transposed (Planner+ChannelsLast):
/// a late-stage-like graph (14x14 and 7x7, residual joins, a Winograd 3x3, a strided 1x1 and a
/// strided 3x3 shortcut pair, pooled heads) on each SIMD kernel set against the reference kernels, at batch
/// 1 and 2 (per-image threads), 1 and 2 threads; which tensors the plan keeps channels last; an
/// intermediate that is also a graph output staying channels first; and a stepwise run handing
/// out a channels-last value in the graph's layout.
struct ChannelsLastTests {
    typealias B = BatchSeparabilityTests

    /// x [N, 16, 14, 14] -> a = relu(1x1 -> 40) -> c = relu(3x3(a) + a) -> d = 1x1 s2 (c) -> 48,
    /// f = relu(3x3 s2 (c) + d) -> g = 1x1 (f) -> 64 -> p = GlobalAveragePool(g), h = 1x1 (g) -> 32;
    /// fp = AveragePool 1x1 (f), k = 1x1 (f) + fp, l = 1x1 (k) -> 32, q = GlobalMaxPool(k), fr = Relu(f)
    /// (a second reader of f's channels-first copy).
    static func model(outputs: [String]) -> Model {
        func weights(_ name: String, _ dims: [Int64], _ seed: Int) -> Tensor {
            B.floats(name, dims) { Float(($0 * 37 + seed * 11) % 23) * 0.02 - 0.22 }
        }
        let nodes = [
            B.node("Conv", ["x", "wa", "ba"], "a0"), B.node("Relu", ["a0"], "a"),
            B.node("Conv", ["a", "wb", "bb"], "b", [B.attr("pads", [1, 1, 1, 1])]), B.node("Add", ["b", "a"], "c0"), B.node("Relu", ["c0"], "c"),
            B.node("Conv", ["c", "wd", "bd"], "d", [B.attr("strides", [2, 2])]),
            B.node("Conv", ["c", "we", "be"], "e", [B.attr("strides", [2, 2]), B.attr("pads", [1, 1, 1, 1])]),
            B.node("Add", ["d", "e"], "f0"), B.node("Relu", ["f0"], "f"),
            B.node("Conv", ["f", "wg", "bg"], "g"), B.node("GlobalAveragePool", ["g"], "p"),
            B.node("Conv", ["g", "wh", "bh"], "h"),
            // A pool reads f (a channels-first copy), and a join adds the pool's output as the
            // shortcut of a conv that writes channels last (a channels-last copy of it).
            B.node("AveragePool", ["f"], "fp", [B.attr("kernel_shape", [1, 1])]),
            B.node("Conv", ["f", "wk", "bk"], "k0"), B.node("Add", ["k0", "fp"], "k"), B.node("Conv", ["k", "wl", "bl"], "l"),
            B.node("GlobalMaxPool", ["k"], "q"), B.node("Relu", ["f"], "fr"),
        ]
        let initializers = [
            weights("wa", [40, 16, 1, 1], 1), weights("ba", [40], 2), weights("wb", [40, 40, 3, 3], 3), weights("bb", [40], 4),
            weights("wd", [48, 40, 1, 1], 5), weights("bd", [48], 6), weights("we", [48, 40, 3, 3], 7), weights("be", [48], 8),
            weights("wg", [64, 48, 1, 1], 9), weights("bg", [64], 10), weights("wh", [32, 64, 1, 1], 11), weights("bh", [32], 12),
            weights("wk", [48, 48, 1, 1], 13), weights("bk", [48], 14), weights("wl", [32, 48, 1, 1], 15), weights("bl", [32], 16),
        ]
        let g = Graph(nodes: nodes, initializers: initializers,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [Dim(.symbol("N")), .known(16), .known(14), .known(14)])))],
                      outputs: outputs.map { ValueInfo(name: $0, type: nil) })
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: g)
    }

    static func input(_ n: Int) -> [Float] { (0..<(n * 16 * 196)).map { Float(($0 * 13) % 29) * 0.07 - 1.0 } }

    static func assertClose(_ got: [Float], _ want: [Float], _ what: String) {
        #expect(got.count == want.count, "\(what)")
        var worst: Float = 0
        for (a, b) in zip(got, want) { let d = abs(a - b); if !(d <= worst) { worst = d } }
        #expect(worst <= 1e-4, "\(what): max abs diff \(worst)")
    }

    @Test(arguments: [KernelSet.avx2, .avx512])
    func matchesTheReferenceKernels(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        for outputs in [["p", "h", "l", "q", "fr"], ["p", "c", "h", "l", "q", "fr"]] {
            let model = Self.model(outputs: outputs)
            let reference = Executor(model: model, options: ExecOptions(referenceKernels: true))
            for (n, threads, winograd) in [(1, 1, true), (1, 2, true), (2, 2, true), (1, 1, false)] {
                var options = ExecOptions(kernels: set, threads: threads)
                options.winograd = winograd
                let executor = Executor(model: model, options: options)
                let x = Self.input(n), shape = [n, 16, 14, 14]
                let got = try executor.batchPlan(inputShape: shape).run(x), want = try reference.run(x, shape: shape)
                for (g, w) in zip(got, want) { Self.assertClose(g.values, w.values, "\(set) outputs \(outputs) batch \(n) threads \(threads) \(g.name)") }
                // a, c, d, f, g, k and a copy of fp stay channels last; the pool of f reads a
                // channels-first copy, the global pool of g reads g as it stands. With c a graph output, b writes channels first and reads
                // its shortcut a through a channels-first copy. b runs Winograd (unless turned off:
                // then transposed), whose transforms read and write either layout.
                let kept = try executor.batchPlan(inputShape: shape).channelsLast.count
                let cOut = outputs.contains("c")
                #expect(kept == (cOut ? 6 : 7), "\(set) outputs \(outputs) winograd \(winograd): \(kept) tensors channels last")
                let ops = try executor.batchPlan(inputShape: shape).steps.map(\.op)
                #expect(ops.filter { $0 == "ToChannelsFirst" }.count == (cOut ? 2 : 1), "\(set): \(ops)")
                #expect(ops.filter { $0 == "ToChannelsLast" }.count == 1, "\(set): \(ops)")
                let perImage = try executor.plan(inputShape: shape).run(x)
                for (a, b) in zip(perImage, got) { #expect(a.values == b.values, "\(set) batch \(n): per-image plans, \(a.name)") }
            }
        }
    }

    @Test func referencePlansKeepTheGraphsLayout() throws {
        let executor = Executor(model: Self.model(outputs: ["p", "h", "l", "q", "fr"]), options: ExecOptions(referenceKernels: true))
        #expect(try executor.batchPlan(inputShape: [1, 16, 14, 14]).channelsLast.isEmpty)
    }

    @Test func stepwiseRunsHandOutChannelsFirst() throws {
        let model = Self.model(outputs: ["p", "h", "l", "q", "fr"]), x = Self.input(1), shape = [1, 16, 14, 14]
        let simd = try Stepper(plan: Executor(model: model).batchPlan(inputShape: shape), input: x)
        let reference = try Stepper(plan: Executor(model: model, options: ExecOptions(referenceKernels: true)).batchPlan(inputShape: shape), input: x)
        for value in ["c", "f", "g", "k"] {
            let got = simd.advance(to: value) { s, v in (s, Array(v)) }, want = reference.advance(to: value) { s, v in (s, Array(v)) }
            #expect(got?.0 != nil && got?.0 == want?.0, "\(value)")
            Self.assertClose(got?.1 ?? [], want?.1 ?? [.nan], "stepwise \(value)")
        }
    }
}
