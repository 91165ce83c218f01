import ResNetIR
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// Winograd between channels-last activations with the transforms' lanes over channels
/// (Winograd.transformInputChannelsLast / transformOutputChannelsLast), on the SIMD sets.
extension Planner {
    /// The lanes the channel-lane transforms of the plan's kernel set take: C and M must be multiples.
    var winogradChannelLanes: Int { kernels == .avx512 ? WinogradAVX512.channelLanes : WinogradAVX2.channelLanes }

    /// Plans `node` (a 3x3 stride-1 conv between channels-last tensors, x [N, H, W, C] stored,
    /// C and M multiples of winogradChannelLanes) as Winograd with `tile`. Each xi plane of the
    /// transformed input is [T, C], so its product with U_xiᵀ is a pointwise conv over T
    /// positions channels last (convGather: read in place, on AVX2 packed from 512 output
    /// channels, written as the output transform reads it). Why: the tile-lane transforms gathered and scattered channels-last values a
    /// float at a time (a 14x14 output's 7 tiles per row filled 7 of 16 lanes), and the
    /// narrow GEMM between them packed V's columns and transposed its product back. resnet50's
    /// layer3 3x3s (F(2x2), C = M = 256), two plans in one process run alternately
    /// (ab-inproc --plans, 20 rounds, Zen 4): 1 thread 2.37-2.60 -> 1.43-1.49 ms each, layer3
    /// 32.7 -> 27.0 ms, summed steps 94.5 -> 86.0; 2 threads 1.50-1.64 -> 1.12-1.16, layer3
    /// 21.0 -> 18.5. resnet18 on 2 threads: its layer3 3x3s 1.11-1.16 -> 0.75-0.77 ms.
    ///
    /// Schedule, as convWinograd's: narrow channels, blocks of tiles each run by one thread
    /// from transform to inverse transform (in its L2); wide channels (`shared`), the whole
    /// batch as one block, threads splitting its tiles for the transforms and its xi planes
    /// for the products (each reads its share of U).
    /// False (nothing planned) when the weights' sizes overflow: the conv then runs the direct path.
    func convWinogradChannelsLast(_ node: Node, x: Int, xs: [Int], w: FloatConstant, bias: FloatConstant?, g: ConvGeometry, m: Int,
                                  y: Int, relu: Bool, shortcut: Int?, tile: WinogradTile) throws -> Bool {
        let positions = tile.positions
        let (tr, tc) = tile.tiles(g)
        let c = g.channels, n = xs[0]
        let threads = packedWorkspace.threads, kernels = self.kernels
        let perImage = tr &* tc, totalTiles = n &* perImage
        guard totalTiles > 0 else { return false }  // an empty batch: the direct path plans it (nothing to run)
        let perTile = positions &* (c &+ m) &* 4
        let l2Tiles = 512 * 1024 / max(perTile, 1)
        let shared = l2Tiles < 48
        // Blocks of whole tiles, about l2Tiles each, their count a multiple of the threads.
        var blockTiles = shared ? totalTiles : max(1, min(min(l2Tiles, 256), (totalTiles + threads - 1) / threads))
        if !shared {
            var blocks = (totalTiles + blockTiles - 1) / blockTiles
            blocks = (blocks + threads - 1) / threads * threads
            blockTiles = max(1, (totalTiles + blocks - 1) / blocks)
        }
        let blocks = (totalTiles + blockTiles - 1) / blockTiles
        let buffers = shared ? 1 : threads  // sets of V and Mᵀ
        let (vRow, o5) = positions.multipliedReportingOverflow(by: c), (mRow, o6) = positions.multipliedReportingOverflow(by: m)
        let (vFloats, o1) = vRow.multipliedReportingOverflow(by: blockTiles)
        let (mFloats, o2) = mRow.multipliedReportingOverflow(by: blockTiles)
        let (vAll, o3) = vFloats.multipliedReportingOverflow(by: buffers)
        let (mAll, o4) = mFloats.multipliedReportingOverflow(by: buffers)
        guard !o1, !o2, !o3, !o4, !o5, !o6 else { throw ExecError.overBudget(what: "Winograd buffers of '\(node.name)'", bytes: nil, budget: budget.bytes) }
        for (floats, what) in [(vAll, "transformed input"), (mAll, "transformed output")] {
            try budget.check(elements: floats, what: "Winograd \(what) of '\(node.name)'")
        }
        // U_xi packed as the transposed path's B side (tileColumns-row panels), as convWinograd's narrow GEMMs pack it.
        guard let packed = try packedWinogradWeights(node, w: w, tile: tile, m: m, c: c, panelRows: kernels.tileColumns) else { return false }
        // Each xi plane's product: a pointwise conv over a run of tiles, channels last; its rows C floats apart.
        try chargeConstant(elements: c, elementSize: MemoryLayout<Int>.size, what: "row offsets of '\(node.name)'")
        let rowOffsets = (0..<c).map { 4 * $0 }
        func pointwise(_ tiles: Int) -> GatherConv? {
            GatherConv(ConvGeometry(channels: c, height: 1, width: tiles, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1,
                                    padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 1, outW: tiles), input: .channelsLast)
        }
        // The products' geometries, made here once: every block but the last has blockTiles tiles.
        let lastColumns = totalTiles - (blocks - 1) * blockTiles
        guard let fullGather = pointwise(blockTiles), let lastGather = pointwise(lastColumns) else {
            throw ExecError.overBudget(what: "Winograd tiles of '\(node.name)'", bytes: nil, budget: budget.bytes)
        }
        let v = newTensor([vAll]), mt = newTensor([mAll])
        let perThread = imageWorkspaces
        imageWorkspacesUsed = true
        let macs = n &* m &* g.outH &* g.outW &* c &* 9  // the direct convolution's (see convWinograd)
        emit(node, macs: macs, kernel: "\(kernels.rawValue) winograd F(\(tile.step)x\(tile.step)), channel lanes",
            work: .winogradChannelLanes(WinogradChannelLanesConv(
            x: x, y: y, bias: bias, shortcut: shortcut, relu: relu, tile: tile, g: g, c: c, m: m, perImage: perImage, totalTiles: totalTiles,
            kernels: kernels, packed: packed, rowOffsets: rowOffsets, fullGather: fullGather, lastGather: lastGather, threads: threads,
            perThread: perThread, shared: shared, blocks: blocks, blockTiles: blockTiles, v: v, mt: mt, vFloats: vFloats, mFloats: mFloats)))
        return true
    }
}
