import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// A 3x3 stride-1 convolution prepared as Winograd (Planner.convWinograd): x [N, C, H, W] ->
/// y [N, M, Ho, Wo] through V [positions][C, tiles] (transformed input), M_xi = U_xi · V_xi
/// (U the transformed weights, packed per position xi at plan time) and the inverse transform
/// with bias, residual and ReLU fused. The batch's N x tr tile rows run in blocks.
struct WinogradConv<T: ExecScalar> {
    let x: Int, y: Int
    let bias: FloatConstant?, shortcut: Int?, relu: Bool
    let tile: WinogradTile
    let g: ConvGeometry
    /// Input channels C, output channels M.
    let c: Int, m: Int
    /// Tile rows and columns an image; tile rows the batch has (N x tr).
    let tr: Int, tc: Int, totalRows: Int
    let kernels: KernelSet
    /// Whether M_xi is computed transposed (its last column panel would be mostly padding).
    let narrow: Bool
    /// U_xi packed for the tile, one a position.
    let packed: [PackedA]
    let threads: Int
    /// Single-threaded workspaces, one a thread.
    let perThread: [PackedGemmWorkspace]
    /// Wide channels: one block (the whole batch), threads splitting each phase; else blocks of
    /// `blockRows` tile rows, each run whole by one thread on its own V, M and scratch.
    let shared: Bool, blocks: Int, blockRows: Int
    /// A block's tiles (V's and M's columns), and their leading dimension (16 spare for the lane groups' overrun).
    let blockTiles: Int, ld: Int
    /// Tensor ids of V, M and the scratch, and the floats of one thread's V, M and scratch.
    let v: Int, mt: Int, scratch: Int
    let vFloats: Int, mFloats: Int, perThreadScratch: Int
    let inputLayout: ActivationLayout, outputLayout: ActivationLayout

    var positions: Int { tile.positions }
    var inputPlane: Int { c * g.height * g.width }
    var outputPlane: Int { m * g.outH * g.outW }

    func perform(on p: ExecutionPlanOf<T>) {
        let positions = self.positions, inputPlane = self.inputPlane, outputPlane = self.outputPlane
        withOptionalValues(bias) { (biasPointer: UnsafePointer<T>?) in
            let b = biasPointer.map { UnsafePointer(asF32($0)) }
            let xp = UnsafePointer(p.f32(x)), yp = p.f32(y)
            let rp: UnsafePointer<Float>? = shortcut.map { UnsafePointer(p.f32($0)) }
            // M_xi [M, columns] = U_xi · V_xi [C, columns], single-threaded on `workspace`.
            func gemm(_ xi: Int, _ vp: UnsafeMutablePointer<Float>, _ mp: UnsafeMutablePointer<Float>, _ columns: Int, _ workspace: PackedGemmWorkspace) {
                let bx = MatrixB(b: UnsafePointer(vp + xi * c * ld), ldb: ld), cx = mp + xi * m * ld
                if narrow {
                    PackedKernels.sgemmNarrow(kernels, n: columns, weights: packed[xi], b: bx, c: cx, ldc: ld, bias: nil,
                                              residual: nil, epilogue: GemmEpilogue(), workspace: workspace)
                } else {
                    PackedKernels.sgemm(kernels, n: columns, a: packed[xi], b: bx, c: cx, ldc: ld, workspace: workspace)
                }
            }
            // Global tile rows r0..<r1 (of the batch's N x tr) image by image: the image, its
            // tile rows, and their first column in V and M (columns count from r0's tiles).
            func segments(_ r0: Int, _ r1: Int, _ body: (Int, Range<Int>, Int) -> Void) {
                var r = r0
                while r < r1 {
                    let img = r / tr, end = min(r1, (img + 1) * tr)
                    body(img, (r - img * tr)..<(end - img * tr), (r - r0) * tc)
                    r = end
                }
            }
            func transformInput(_ r0: Int, _ r1: Int, channels: Range<Int>, _ vp: UnsafeMutablePointer<Float>, _ sp: UnsafeMutablePointer<Float>) {
                segments(r0, r1) { img, rows, base in
                    let image = xp + img * inputPlane
                    switch kernels {
                    case .avx512: WinogradAVX512.transformInput(tile, image, g, channels: channels, tileRows: rows, v: vp, ldv: ld, tileBase: base, scratch: sp,
                                                                layout: inputLayout)
                    case .avx2, .reference: WinogradAVX2.transformInput(tile, image, g, channels: channels, tileRows: rows, v: vp, ldv: ld, tileBase: base, scratch: sp,
                                                                           layout: inputLayout)
                    }
                }
            }
            func transformOutput(_ r0: Int, _ r1: Int, outputs: Range<Int>, _ mp: UnsafeMutablePointer<Float>, _ sp: UnsafeMutablePointer<Float>) {
                segments(r0, r1) { img, rows, base in
                    let out = yp + img * outputPlane, res = rp.map { $0 + img * outputPlane }
                    switch kernels {
                    case .avx512:
                        WinogradAVX512.transformOutput(tile, UnsafePointer(mp), g, outputs: outputs, tileRows: rows, m: m, ldm: ld,
                                                       tileBase: base, bias: b, residual: res, relu: relu, into: out, scratch: sp, layout: outputLayout)
                    case .avx2, .reference:
                        WinogradAVX2.transformOutput(tile, UnsafePointer(mp), g, outputs: outputs, tileRows: rows, m: m, ldm: ld,
                                                     tileBase: base, bias: b, residual: res, relu: relu, into: out, scratch: sp, layout: outputLayout)
                    }
                }
            }
            if shared {
                // One block, the whole batch: threads split input channels, then GEMMs, then output channels.
                let vp = p.f32(v), mp = p.f32(mt)
                DispatchFor.concurrent(threads) { t in
                    transformInput(0, totalRows, channels: (c * t / threads)..<(c * (t + 1) / threads), vp, p.f32(scratch) + t * perThreadScratch)
                }
                DispatchFor.concurrent(threads) { t in
                    for xi in stride(from: t, to: positions, by: threads) { gemm(xi, vp, mp, blockTiles, perThread[t]) }
                }
                DispatchFor.concurrent(threads) { t in
                    transformOutput(0, totalRows, outputs: (m * t / threads)..<(m * (t + 1) / threads), mp, p.f32(scratch) + t * perThreadScratch)
                }
                return
            }
            // Blocks: each thread runs whole blocks on its own V, M and scratch.
            DispatchFor.concurrent(min(threads, blocks)) { t in
                let vp = p.f32(v) + t * vFloats, mp = p.f32(mt) + t * mFloats, sp = p.f32(scratch) + t * perThreadScratch
                for block in stride(from: t, to: blocks, by: threads) {
                    let r0 = block * blockRows, r1 = min(totalRows, r0 + blockRows)
                    transformInput(r0, r1, channels: 0..<c, vp, sp)
                    for xi in 0..<positions { gemm(xi, vp, mp, (r1 - r0) * tc, perThread[t]) }
                    transformOutput(r0, r1, outputs: 0..<m, mp, sp)
                }
            }
        }
    }
}

/// A 3x3 stride-1 convolution between channels-last tensors whose channels fill whole lane
/// groups, as Winograd on channel lanes (Planner.convWinogradChannelsLast): x [N, H, W, C] ->
/// V [positions][tiles, C], Mᵀ_xi [tiles, M] = V_xi · U_xiᵀ (a pointwise gather conv over the
/// tiles, U_xi packed at plan time), then the inverse transform into y [N, Ho, Wo, M] with
/// bias, residual and ReLU fused.
struct WinogradChannelLanesConv<T: ExecScalar> {
    let x: Int, y: Int
    let bias: FloatConstant?, shortcut: Int?, relu: Bool
    let tile: WinogradTile
    let g: ConvGeometry
    let c: Int, m: Int
    /// Tiles an image, and the batch's.
    let perImage: Int, totalTiles: Int
    let kernels: KernelSet
    /// U_xi packed as the transposed path's B side, one a position.
    let packed: [PackedA]
    /// The products' row offsets (C floats apart) and geometries: a full block's, the last block's.
    let rowOffsets: [Int]
    let fullGather: GatherConv, lastGather: GatherConv
    let threads: Int
    let perThread: [PackedGemmWorkspace]
    /// Wide channels: one block, threads splitting each phase; else blocks of `blockTiles` tiles, one thread each.
    let shared: Bool, blocks: Int, blockTiles: Int
    /// Tensor ids of V and Mᵀ, and the floats of one thread's set of each.
    let v: Int, mt: Int, vFloats: Int, mFloats: Int

    var positions: Int { tile.positions }

    func perform(on p: ExecutionPlanOf<T>) {
        let positions = self.positions, inputPlane = c * g.height * g.width, outputPlane = m * g.outH * g.outW
        withOptionalValues(bias) { (biasPointer: UnsafePointer<T>?) in
            let b = biasPointer.map { UnsafePointer(asF32($0)) }
            let xp = UnsafePointer(p.f32(x)), yp = p.f32(y)
            let rp: UnsafePointer<Float>? = shortcut.map { UnsafePointer(p.f32($0)) }
            // Global tiles t0 ..< t1 (image-major) image by image: the image, its tiles, and their first row in V and Mᵀ.
            func segments(_ t0: Int, _ t1: Int, _ body: (Int, Range<Int>, Int) -> Void) {
                var t = t0
                while t < t1 {
                    let img = t / perImage, end = min(t1, (img + 1) * perImage)
                    body(img, (t - img * perImage)..<(end - img * perImage), t - t0)
                    t = end
                }
            }
            // V rows of tiles t0 ..< t1 from the block starting at tile `first`; xi planes `columns` rows apart.
            func transformInput(_ t0: Int, _ t1: Int, first: Int, columns: Int, _ vp: UnsafeMutablePointer<Float>) {
                segments(t0, t1) { img, tiles, row in
                    let image = xp + img * inputPlane, at = vp + (row + t0 - first) * c
                    switch kernels {
                    case .avx512: WinogradAVX512.transformInputChannelsLast(tile, image, g, tiles: tiles, v: at, xiStride: columns * c)
                    case .avx2, .reference: WinogradAVX2.transformInputChannelsLast(tile, image, g, tiles: tiles, v: at, xiStride: columns * c)
                    }
                }
            }
            func transformOutput(_ t0: Int, _ t1: Int, first: Int, columns: Int, _ mp: UnsafeMutablePointer<Float>) {
                segments(t0, t1) { img, tiles, row in
                    let at = UnsafePointer(mp + (row + t0 - first) * m), out = yp + img * outputPlane, res = rp.map { $0 + img * outputPlane }
                    switch kernels {
                    case .avx512:
                        WinogradAVX512.transformOutputChannelsLast(tile, at, g, m: m, tiles: tiles, xiStride: columns * m, bias: b,
                                                                   residual: res, relu: relu, into: out)
                    case .avx2, .reference:
                        WinogradAVX2.transformOutputChannelsLast(tile, at, g, m: m, tiles: tiles, xiStride: columns * m, bias: b,
                                                                 residual: res, relu: relu, into: out)
                    }
                }
            }
            // Mᵀ_xi [columns, M] = V_xi [columns, C] · U_xiᵀ, single-threaded on `workspace`.
            func product(_ xi: Int, columns: Int, _ vp: UnsafeMutablePointer<Float>, _ mp: UnsafeMutablePointer<Float>, _ workspace: PackedGemmWorkspace) {
                // Sound: xi's plane of V (columns x C) and of Mᵀ (columns x M) lie inside the sets, sized for blockTiles.
                let gather = columns == blockTiles ? fullGather : lastGather
                rowOffsets.withUnsafeBufferPointer { offsets in
                    PackedKernels.convGather(kernels, gather, image: UnsafePointer(vp + xi * columns * c), rowOffsets: offsets.baseAddress!,
                                             weights: packed[xi], output: mp + xi * columns * m, outputLayout: .channelsLast, bias: nil,
                                             residual: nil, relu: false, workspace: workspace)
                }
            }
            if shared {
                let vp = p.f32(v), mp = p.f32(mt)
                DispatchFor.concurrent(threads) { t in
                    transformInput(totalTiles * t / threads, totalTiles * (t + 1) / threads, first: 0, columns: totalTiles, vp)
                }
                DispatchFor.concurrent(threads) { t in
                    for xi in stride(from: t, to: positions, by: threads) { product(xi, columns: totalTiles, vp, mp, perThread[t]) }
                }
                DispatchFor.concurrent(threads) { t in
                    transformOutput(totalTiles * t / threads, totalTiles * (t + 1) / threads, first: 0, columns: totalTiles, mp)
                }
                return
            }
            DispatchFor.concurrent(min(threads, blocks)) { t in
                // Sound: thread t's V and Mᵀ sets lie at t * vFloats and t * mFloats of buffers holding `threads` of each.
                let vp = p.f32(v) + t * vFloats, mp = p.f32(mt) + t * mFloats
                for block in stride(from: t, to: blocks, by: threads) {
                    let t0 = block * blockTiles, t1 = min(totalTiles, t0 + blockTiles), columns = t1 - t0
                    transformInput(t0, t1, first: t0, columns: columns, vp)
                    for xi in 0..<positions { product(xi, columns: columns, vp, mp, perThread[t]) }
                    transformOutput(t0, t1, first: t0, columns: columns, mp)
                }
            }
        }
    }
}
