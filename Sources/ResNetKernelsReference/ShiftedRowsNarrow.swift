import CCPU

/// A ShiftedRowsConv with few output positions (a deep layer's 7x7) computed transposed,
/// as `sgemmNarrow` does for pointwise convs: Cᵀ[positions, channels] = Bᵀ · Wᵀ, six real
/// output positions as the tile's rows, read from the planes in place (`tileGather`: each
/// position's offset in the grid, each row's shift from the offset table), 32 (AVX2: 16)
/// output channels as its columns from the weights packed with tileColumns-row panels.
/// Why: on the wide grid a 7x7 output is 63 columns of which 49 are real, in two 32-column
/// panels (77% of the tile's work); six-position panels skip the grid's dropped columns
/// (49 positions in 9 panels: 91%), and nothing is packed per call but the planes.
extension PackedGemm {
    /// The transposed path's K step: half a packed slice, so a unit's weights (128 x 32 floats)
    /// leave room in a 48 KB L1 for the positions' planes and C's rows. (Inlinable, as is
    /// prefetchShare: the driver is specialised in the kernel-set modules, which could
    /// otherwise only call them.)
    @inlinable static var narrowSlice: Int { 128 }

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
            // Units in order: K slice k0 (kc wide, as the weights are packed), sub-slice s0
            // (narrowSlice wide), channel panel pc; nil past the last.
            @inline(__always) func unit(_ k0: Int, _ s0: Int, _ pc: Int) -> (weights: UnsafePointer<Float>, depth: Int)? {
                var (k0, s0, pc) = (k0, s0, pc)
                if pc >= channelRange.upperBound {
                    pc = channelRange.lowerBound; s0 += narrowSlice
                    if s0 >= min(PackedA.kc, k - k0) { s0 = 0; k0 += PackedA.kc }
                    guard k0 < k else { return nil }
                }
                let kb = min(PackedA.kc, k - k0)
                return (w.panel(k0: k0, kb: kb, pm: pc) + s0 * nr, min(narrowSlice, kb - s0))
            }
            var k0 = 0
            while k0 < k {
                let kb = min(PackedA.kc, k - k0)
                var s0 = 0
                while s0 < kb {
                    let sb = min(narrowSlice, kb - s0)
                    for pc in channelRange {
                        // This unit's weights (sb x nr, 16 KB on AVX-512) stay in L1 while every
                        // position panel passes over them; the next unit's are prefetched a share
                        // per position panel. Why: the hardware prefetcher follows the first pass
                        // over a unit, but then sees eight passes from L1 and no stream, so each
                        // unit began with a stall (resnet's 7x7 3x3: 118-150 GFLOP/s on one
                        // Zen 5 core without, 163-188 with, in gemm-bench's warm column).
                        let j0 = pc * nr, wp = w.panel(k0: k0, kb: kb, pm: pc) + s0 * nr
                        let next = unit(k0, s0, pc + 1)
                        for pp in panels {
                            if let next {
                                prefetchShare(next.weights, lines: next.depth * nr / 16, part: pp - panels.lowerBound, parts: panels.count)
                            }
                            let q0 = pp * mr, rows = min(mr, positions - q0)
                            // Each position's byte offset in the grid (rows past the last repeat it: computed, not stored).
                            @inline(__always) func offset(_ i: Int) -> Int {
                                let q = q0 + min(i, rows - 1)
                                return 4 * ((q / g.outW) * s.phaseW + q % g.outW)
                            }
                            Kernel.tileGather(k: sb, positions: base, rowOffsets: rowOffsets + k0 + s0,
                                              positionOffsets: (offset(0), offset(1), offset(2), offset(3), offset(4), offset(5)),
                                              b: wp, c: ct + q0 * m + j0, ldc: m, rows: rows, cols: min(nr, m - j0), accumulate: k0 + s0 > 0)
                        }
                    }
                    s0 += sb
                }
                k0 += kb
            }
            let rows = (panels.lowerBound * mr)..<min(positions, panels.upperBound * mr)
            transposeEpilogue(ct: ct, m: m, rows: rows, channels: (channelRange.lowerBound * nr)..<min(m, channelRange.upperBound * nr),
                              c: output, ldc: positions, bias: bias, residual: residual, epilogue: GemmEpilogue(relu: relu), zeroProduct: false)
        }
        if threads > 1 { DispatchFor.concurrent(threads) { work($0) } } else { work(0) }
    }

    /// Prefetches part `part` of `parts` of the `lines` cache lines at `start`: a weight unit
    /// brought in while the one before it is used, spread over the passes made over that one.
    /// (The pointwise narrow path prefetches its next whole weight panel with it: measured with
    /// warm weights it had seemed no faster; with cold ones, as in a model, it is.)
    @inlinable @inline(__always)
    static func prefetchShare(_ start: UnsafePointer<Float>, lines: Int, part: Int, parts: Int) {
        let share = (lines + parts - 1) / parts, first = part * share
        let raw = UnsafeRawPointer(start)
        for l in first..<max(first, min(lines, first + share)) { rt_prefetch(raw + 64 * l) }
    }
}
