/// A ShiftedRowsConv with few output positions (a deep layer's 7x7) computed transposed,
/// as `sgemmNarrow` does for pointwise convs: Cᵀ[positions, channels] = Bᵀ · Wᵀ, six real
/// output positions as the tile's rows, read from the planes in place (`tileGather`: each
/// position's offset in the grid, each row's shift from the offset table), 32 (AVX2: 16)
/// output channels as its columns from the weights packed with tileColumns-row panels.
/// Why: on the wide grid a 7x7 output is 63 columns of which 49 are real, in two 32-column
/// panels (77% of the tile's work); six-position panels skip the grid's dropped columns
/// (49 positions in 9 panels: 91%), and nothing is packed per call but the planes.
extension PackedGemm {
    /// x [C, H, W] -> y [M, outH, outW] (+ bias[m]) (+ residual) (ReLU). `weights` packed with
    /// Kernel.nr-row panels; the workspace's shifted-rows buffer holds s.planeFloats, its
    /// transposed C M x outH x outW floats (both reserved at plan time).
    @inlinable
    public static func convShiftedRowsNarrow(_ s: ShiftedRowsConv, image: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>, weights w: PackedA,
                                             output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                             relu: Bool, workspace: PackedGemmWorkspace) {
        let m = w.m, k = w.k, mr = Kernel.mr, nr = Kernel.nr, g = s.g
        let positions = g.outH * g.outW
        guard m > 0, positions > 0, k > 0 else { return }
        precondition(w.mr == nr, "weights packed for \(w.mr)-row panels, the narrow path needs \(nr)")
        precondition(workspace.transposedCapacity >= m * positions, "transposed C not reserved at plan time")
        let threads = workspace.threads
        // Sound: init? checked the figure for overflow.
        let planes = workspace.shiftedRowsBuffer(floats: s.planeFloats!)
        s.fill(image, into: planes, threads: threads)
        let ct = workspace.transposedC  // Cᵀ [positions, m]
        let positionPanels = (positions + mr - 1) / mr, channelPanels = (m + nr - 1) / nr
        let base = UnsafeRawPointer(planes)
        @inline(__always) func work(_ t: Int) {
            let (panels, channelRange) = narrowShare(positionPanels: positionPanels, channelPanels: channelPanels, weights: m * k, threads: threads, t: t)
            guard !panels.isEmpty, !channelRange.isEmpty else { return }
            var k0 = 0
            while k0 < k {
                let kb = min(PackedA.kc, k - k0)
                // A weight panel (kb x nr) stays in L1 while every position panel passes over it.
                for pc in channelRange {
                    let j0 = pc * nr, wp = w.panel(k0: k0, kb: kb, pm: pc)
                    for pp in panels {
                        let q0 = pp * mr, rows = min(mr, positions - q0)
                        // Each position's byte offset in the grid (rows past the last repeat it: computed, not stored).
                        @inline(__always) func offset(_ i: Int) -> Int {
                            let q = q0 + min(i, rows - 1)
                            return 4 * ((q / g.outW) * s.phaseW + q % g.outW)
                        }
                        Kernel.tileGather(k: kb, positions: base, rowOffsets: rowOffsets + k0,
                                          positionOffsets: (offset(0), offset(1), offset(2), offset(3), offset(4), offset(5)),
                                          b: wp, c: ct + q0 * m + j0, ldc: m, rows: rows, cols: min(nr, m - j0), accumulate: k0 > 0)
                    }
                }
                k0 += kb
            }
            let rows = (panels.lowerBound * mr)..<min(positions, panels.upperBound * mr)
            transposeEpilogue(ct: ct, m: m, rows: rows, channels: (channelRange.lowerBound * nr)..<min(m, channelRange.upperBound * nr),
                              c: output, ldc: positions, bias: bias, residual: residual, epilogue: GemmEpilogue(relu: relu), zeroProduct: false)
        }
        if threads > 1 { DispatchFor.concurrent(threads) { work($0) } } else { work(0) }
    }
}
