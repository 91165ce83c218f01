import ResNetIR
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// 3x3 stride-1 convolutions as Winograd on the SIMD kernel sets (issue 11).
extension Planner {
    /// Where Winograd pays, measured against the direct path that reads the padded input in
    /// place (ShiftedRowsConv), per-layer profiles of interleaved runs on a Zen 5 core:
    /// - AVX-512 (resnet50, 3 runs): the 28x28 convs (49 F(4x4) tiles) 4.7-5.2 ms against
    ///   5.4-5.7 direct; the 14x14 convs (16 tiles) 9.8-10.2 against 8.3-8.7; the 56x56 convs
    ///   by F(2x2, 3x3) 5.1-6.3 against 4.0-4.2.
    /// - AVX2, half the tile's speed, so the saved multiply-adds weigh more (2 runs each):
    ///   resnet18's 14x14 convs 3.7-4.3 ms by F(4x4) against 5.5-6.0 direct; the 56x56 convs
    ///   by F(2x2) 4.4-5.7 against 5.2-5.5 (resnet18), 6.4-7.0 against 7.7-8.3 (resnet50).
    /// - AVX-512, the 14x14 convs by F(2x2) (49 tiles), channels last in and out like the
    ///   transposed convs around them: in a chain of five layer3 bottlenecks (1 thread, 8
    ///   interleaved rounds) the 3x3s 7.42 -> 6.04 ms, the blocks 15.1 -> 12.9; resnet18's
    ///   three 14x14 3x3s 1.15 -> 0.89 ms each (channels first). On 7x7 (16 tiles) F(2x2) lost:
    ///   resnet50's two layer4 3x3s 2.30 -> 2.91 ms (6 rounds).
    /// - AVX-512 on a Zen 4 core (two 256-bit halves per FMA), the 56x56 convs by F(2x2) with
    ///   the channel-lane transforms (session 15, see winogradTile): 1.55-1.80 ms against 2.35.
    /// So F(4x4, 3x3) for outputs 28 columns wide or less (on AVX-512 with 32 tiles or more, else
    /// F(2x2) there); above 28 columns F(2x2) until session 18 (F(3x3) now: winogradTile), on
    /// AVX-512 only with channel lanes (tile-lane F(2x2) lost there; with channel lanes it is
    /// unmeasured on a Zen 5, where the direct path runs twice as fast); on AVX2 F(4x4) from 16 tiles
    /// (with channel lanes from 32 since session 22, F(2x2) below: winogradChoice). Errors stay in range: on torchvision's resnet50
    /// against onnxruntime's stored output, with F(4x4) on the points 0, ±1, ±2 (Lavin & Gray),
    /// F(4x4) on the 28x28 and 14x14 convs took the logits from 5.7e-5 (direct) to 8.0e-5, and
    /// with F(2x2) on the 56x56 convs 7.5e-5 (AVX2 8.5e-5; exported with BN already folded,
    /// 9.4e-5); F(4x4) on the 56x56 convs alone made 1.6e-4, over the 1e-4 `parity` holds by
    /// default; on AVX-512 F(4x4) at 28x28 beside channel-lane F(2x2) at 56x56 made 1.008e-4 on the
    /// BN-folded export, so session 15 ran F(2x2) at 28x28 there. F(4x4) now uses the points 0, ±1,
    /// 2, -1/2 (WinogradF4x4: about 1.5x less rounding): AVX-512 6.5e-5 (folded 7.5e-5), AVX2 6.8e-5
    /// (folded 6.9e-5); resnet18 4.4e-6 / 5.8e-6.
    /// The fewest tiles an image `tile` runs on. AVX-512: 32, but 16 for channel-lane F(2x2).
    /// AVX2: 16, but 32 for channel-lane F(4x4) (it gives way to F(2x2) below, winogradChoice).
    static func winogradMinimumTiles(_ set: KernelSet, tile: WinogradTile, channelLanes: Bool) -> Int {
        // F(2x2) with channel lanes from 16 tiles on AVX-512 too (session 30, Zen 4, bench_ab, medians):
        // resnet50's 7x7 layer4.1-2 3x3s 2.26-2.28 -> 2.08-2.09 ms on 1 thread and 1.16-1.17 -> 1.10-1.12
        // on 2 (their 16.8 MB of transformed weights against 9.4 MB direct hold the second thread back),
        // resnet18's three 2.27-2.28 -> 2.06-2.07 on 1 and 1.16-1.17 -> 1.15 on 2.
        if set == .avx512 && tile == .f2x2 && channelLanes { return 16 }
        return set == .avx512 || (tile == .f4x4 && channelLanes) ? 32 : 16
    }
    /// F(4x4) at 28 columns and less, F(3x3) above, on AVX-512 only with the channel-lane transforms
    /// (`channelLanes`: channels last in and out, convWinogradChannelsLast): there it is what pays
    /// (resnet50's 56x56 3x3s on a Zen 4 core, ab-inproc --plans 12-15 rounds: 2.46 ms by
    /// tile-lane F(2x2) against 2.35 direct, 1.70-1.80 by channel-lane F(2x2)). At 28x28 F(4x4)
    /// against channel-lane F(2x2) (ab-inproc --plans, 15 rounds, Zen 4, medians): resnet50's
    /// layer2 3x3s 0.88-1.01 against 1.30-1.40 ms on 1 thread, 0.42-0.43 against 0.60-0.66 on 2;
    /// resnet18's layer2 on 2 threads 2.97 -> 2.12 ms.
    /// Above 28 columns F(3x3) on the finite points 0, ±1, ±2 (WinogradF3x3) since session 18, in
    /// place of F(2x2): 25 products per 9 outputs instead of 16 per 4, and 25/9 transformed values
    /// per output instead of 4 (ab-inproc --plans, Zen 4, medians): resnet50's 56x56 3x3s 0.79-0.88
    /// -> 0.70-0.83 ms on 2 threads (25 rounds: layer1 6.30 -> 5.84 ms; 5.71 -> 5.13 in an
    /// earlier run of 15 with F(3x3) on the points 0, ±1, 2, ∞, the same work), 1.37-1.49 ->
    /// 1.04-1.38 on 1; AVX2, 1 thread, 1.79-2.05 -> 1.40-1.63 (layer1 13.3 -> 11.9). Its 5x5 tiles
    /// make 12.8 KB per tile at C = M = 64, so the 56x56 convs take the shared schedule (the whole
    /// batch's tiles, 361 an image, per product): blocks in L2 measured no faster on 2 threads
    /// (37 tiles: 0.65-0.73 against 0.59-0.71 ms, 15 rounds; 61 tiles: layer1 5.24-5.33 against
    /// 5.21 ms, 20 rounds).
    /// Rounding: resnet50's logits against onnxruntime's 7.6e-5 on both sets (BN-folded export
    /// 8.0e-5 / 7.9e-5), from 6.5e-5 / 6.8e-5 (7.5e-5 / 6.9e-5) with F(2x2); on the points 0, ±1,
    /// 2, ∞ the folded export went to 1.024e-4, over parity's 1e-4. At 14x14 F(3x3) (25 tiles of
    /// 15x15) measured even with F(2x2) (49 tiles), so F(2x2) stays there.
    static func winogradTile(_ g: ConvGeometry, _ set: KernelSet, channelLanes: Bool) -> WinogradTile? {
        if g.outW <= 28 { return .f4x4 }
        return set == .avx512 && !channelLanes ? nil : .f3x3
    }

    /// Whether a conv of geometry `g` with `m` output channels can run the channel-lane Winograd
    /// (convWinogradChannelsLast) between transposed convs: channels in whole lane groups and a
    /// full tile of them on both sides.
    func channelLaneWinograd(_ g: ConvGeometry, m: Int) -> Bool {
        let lanes = winogradChannelLanes
        return g.channels % lanes == 0 && m % lanes == 0 && g.channels >= kernels.tileColumns && m >= kernels.tileColumns
    }

    /// The Winograd tile a conv of geometry `g` over x `xs` (group 1) runs with, nil for the direct
    /// path; `channelLanes` when it would run channels last in and out with channelLaneWinograd.
    func winogradChoice(_ g: ConvGeometry, xs: [Int], channelLanes: Bool) -> WinogradTile? {
        guard simd, winograd, !exact, Winograd.applies(g), xs.count == 4, xs[1] == g.channels,
              let first = Self.winogradTile(g, kernels, channelLanes: channelLanes) else { return nil }
        // F(2x2) where F(4x4) has too few tiles (winogradMinimumTiles): on AVX-512 resnet's 14x14
        // (16 F(4x4) tiles, 49 F(2x2)). On AVX2 with channel lanes too, since session 22 (Zen 3,
        // ab-inproc --plans, both build orders, minima): resnet50's five 14x14 3x3s 1.71-1.91 ->
        // 1.48-1.59 ms on 1 thread, 0.88-0.95 -> 0.76-0.78 on 2 (layer3 16.3 -> 15.4-15.7 ms, medians),
        // resnet18's three 0.91-0.92 -> 0.75-0.77 on 2; and on 7x7 (4 F(4x4) tiles, 16 F(2x2)), where F(4x4)
        // did not run: resnet50's layer4.1-2 3x3s 3.09-3.13 -> 2.76-2.87 ms on 1 thread, 1.58-1.69 ->
        // 1.43-1.53 on 2, resnet18's three 1.58-1.59 -> 1.43-1.45 on 2. (F(3x3) at 28x28 instead of
        // F(4x4) lost there: resnet50's layer2 3x3s 0.53-0.56 -> 0.71-0.74 ms on 2 threads. Session 9
        // had measured tile-lane F(2x2) on 7x7 26% slower than direct on AVX-512, so AVX2 without
        // lanes keeps F(4x4) from 16 tiles.) Likewise F(2x2) where F(3x3) has too few: a short, wide
        // output (8 x 30: 30 F(3x3) tiles, 60 F(2x2)), which ran F(2x2) before F(3x3) came.
        let candidates: [WinogradTile] = switch first {
        case .f4x4: kernels == .avx512 || channelLanes ? [.f4x4, .f2x2] : [.f4x4]
        case .f3x3: [.f3x3, .f2x2]
        case .f2x2: [.f2x2]
        }
        for tile in candidates {
            let (tr, tc) = tile.tiles(g)
            if tr * tc >= Self.winogradMinimumTiles(kernels, tile: tile, channelLanes: channelLanes) { return tile }
        }
        return nil
    }

    /// U [positions][M, C] (G g Gᵀ at plan time, in float64), packed per xi for the kernel set's
    /// tile with `panelRows`-row panels, charged as constants; nil when a size overflows (the conv
    /// then runs the direct path).
    func packedWinogradWeights(_ node: Node, w: FloatConstant, tile: WinogradTile, m: Int, c: Int, panelRows: Int) throws -> [PackedA]? {
        let positions = tile.positions
        guard let perXi = PackedA.floatCount(m: m, k: c, mr: panelRows) else { return nil }
        let (packedFloats, o1) = perXi.multipliedReportingOverflow(by: positions)
        let (plane, o2) = m.multipliedReportingOverflow(by: c)
        let (uFloats, o3) = plane.multipliedReportingOverflow(by: positions)
        guard !o1, !o2, !o3 else { return nil }
        return try prepared.packed("winograd \(node.outputs.first ?? node.name) \(tile) \(panelRows)") {
            try chargeConstant(elements: packedFloats, elementSize: 4, what: "Winograd weights of '\(node.name)'")
            try budget.check(elements: uFloats, what: "Winograd weights of '\(node.name)' before packing")
        } make: {
            w.withValues { (wf: UnsafeBufferPointer<T>) in
                let u = UnsafeMutablePointer<Float>.allocate(capacity: uFloats)
                defer { u.deallocate() }
                tile.transformWeights(asF32(base(wf)), m: m, c: c, into: u)
                return (0..<positions).map { xi in PackedA(a: u + xi * plane, lda: c, m: m, k: c, mr: panelRows) }
            }
        }
    }

    /// Plans `node` as Winograd when it applies; false leaves it to the direct path.
    /// x [N, C, H, W], weights [M, C, 3, 3] (group 1), y [N, M, Ho, Wo]. The GEMMs' columns
    /// are a block's tiles, which may span images: batch 8 runs wider GEMMs than batch 1.
    func convWinograd(_ node: Node, x: Int, xs: [Int], w: FloatConstant, bias: FloatConstant?, g: ConvGeometry, m: Int,
                      y: Int, relu: Bool, shortcut: Int?, inputLayout: ActivationLayout = .channelsFirst,
                      outputLayout: ActivationLayout = .channelsFirst) throws -> Bool {
        let channelLanes = inputLayout == .channelsLast && outputLayout == .channelsLast && channelLaneWinograd(g, m: m)
        guard let tile = winogradChoice(g, xs: xs, channelLanes: channelLanes) else { return false }
        // Channels last in and out with whole lane groups of channels: the channel-lane transforms.
        if channelLanes {
            return try convWinogradChannelsLast(node, x: x, xs: xs, w: w, bias: bias, g: g, m: m, y: y, relu: relu, shortcut: shortcut, tile: tile)
        }
        let positions = tile.positions
        let (tr, tc) = tile.tiles(g)
        let c = g.channels, n = xs[0]
        // Two schedules. Narrow channels (~512 KB of transformed input and output, positions
        // x (C + M) floats per tile, hold 48 tiles or more): blocks of whole tile rows (of the
        // batch's N x tr rows) about that size, each run by one thread from transform to
        // inverse transform, so they stay in L2 between the steps; block counts are rounded
        // to a multiple of the threads. Wide channels (U, positions x M x C floats, is then
        // 1 MB and more): the whole batch as one block, the threads splitting its input
        // channels, then its GEMMs, then its output channels, so each thread reads only its
        // share of U (split by tile rows, each read all of it: resnet50's 14x14 convs ran
        // 1.46x faster on 2 threads than on 1).
        let threads = packedWorkspace.threads, kernels = self.kernels
        let totalRows = n &* tr
        let perTile = positions &* (c &+ m) &* 4
        let l2Tiles = 512 * 1024 / max(perTile, 1)
        let shared = l2Tiles < 48
        let rowsPerThread = (totalRows + threads - 1) / threads
        var blockRows = shared ? totalRows : max(1, min((min(l2Tiles, 256) + tc / 2) / tc, rowsPerThread))
        var blocks = (totalRows + blockRows - 1) / blockRows
        if !shared && blocks % threads != 0 {
            blocks = (blocks + threads - 1) / threads * threads
            blockRows = (totalRows + blocks - 1) / blocks
            blocks = (totalRows + blockRows - 1) / blockRows
        }
        let buffers = shared ? 1 : threads  // sets of V and M
        let blockTiles = blockRows &* tc
        let ld = blockTiles + 16  // columns of V and M: a block's tiles, then 16 spare for the lane groups' overrun
        let (vFloats, o1) = (positions * c).multipliedReportingOverflow(by: ld)
        let (mFloats, o2) = (positions * m).multipliedReportingOverflow(by: ld)
        let (vAll, o3) = vFloats.multipliedReportingOverflow(by: buffers)
        let (mAll, o4) = mFloats.multipliedReportingOverflow(by: buffers)
        let (scratchAll, o5) = tile.scratchFloats(g).multipliedReportingOverflow(by: threads)
        guard !o1, !o2, !o3, !o4, !o5 else {
            throw ExecError.overBudget(what: "Winograd buffers of '\(node.name)'", bytes: nil, budget: budget.bytes)
        }
        for (floats, what) in [(vAll, "transformed input"), (mAll, "transformed output"), (scratchAll, "scratch")] {
            try budget.check(elements: floats, what: "Winograd \(what) of '\(node.name)'")
        }
        // Narrow GEMMs (the last tile-column panel mostly padding) run transposed, as in conv().
        let cols = kernels.tileColumns
        let narrow = m >= cols && runsTransposed(real: blockTiles, columns: blockTiles)
        let panelRows = narrow ? cols : kernels.tileRows
        guard let packed = try packedWinogradWeights(node, w: w, tile: tile, m: m, c: c, panelRows: panelRows) else { return false }
        let v = newTensor([vAll]), mt = newTensor([mAll]), scratch = newTensor([scratchAll])
        // The plan's single-threaded workspaces, one per thread (budgeted with the plan's buffers).
        let perThread = imageWorkspaces
        imageWorkspacesUsed = true
        if narrow { try reserveTransposed(node, m: m, n: blockTiles) }
        let perThreadScratch = tile.scratchFloats(g)
        let macs = n &* m &* g.outH &* g.outW &* c &* 9  // the direct convolution's, so GFLOP/s is effective (Winograd does 1/4, 25/81 or 1/2.25 of them)
        emit(node, macs: macs, kernel: "\(kernels.rawValue) winograd F(\(tile.step)x\(tile.step))" + (narrow ? ", transposed" : ""),
            work: .winograd(WinogradConv(
            x: x, y: y, bias: bias, shortcut: shortcut, relu: relu, tile: tile, g: g, c: c, m: m, tr: tr, tc: tc, totalRows: totalRows,
            kernels: kernels, narrow: narrow, packed: packed, threads: threads, perThread: perThread, shared: shared, blocks: blocks,
            blockRows: blockRows, blockTiles: blockTiles, ld: ld, v: v, mt: mt, scratch: scratch, vFloats: vFloats, mFloats: mFloats,
            perThreadScratch: perThreadScratch, inputLayout: inputLayout, outputLayout: outputLayout)))
        return true
    }
}
