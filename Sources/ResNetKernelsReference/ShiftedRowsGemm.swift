/// The packed GEMM over B rows read in place (issue 11): row r of B is the N floats at
/// b + rowOffsets[r] bytes, so nothing is packed. A convolution's input, padded and split
/// into stride phases once per call (ShiftedRowsConv), has exactly that form: each
/// (channel, ky, kx) row of the patch matrix is the phase plane shifted by one offset.
/// Implicit GEMM packed kh*kw copies of the input instead (resnet50's 56x56 3x3: 7.2 MB
/// written per image, half the conv's time on an AVX-512 core).
extension PackedGemm {
    /// C[M,N] (+)= packedA · B (+ bias[m]) (+ residual) (ReLU), B[r, j] = b[rowOffsets[r] / 4 + j].
    /// Every b + rowOffsets[r] ..< + 4N bytes is readable (the caller's B allocation).
    @inlinable
    public static func sgemmRows(n: Int, a: PackedA, b: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, c: UnsafeMutablePointer<Float>,
                                 ldc: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, epilogue: GemmEpilogue,
                                 workspace: PackedGemmWorkspace) {
        // Nothing is packed, so either split costs no copy: threads split M where the weights
        // outweigh the columns (each then streams half of them: the deep layers), N otherwise.
        let m = a.m
        shareOut(n: n, a: a, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue, workspace: workspace,
                 splitRows: { panelsM, panelsN, threads in panelsM >= threads && (m >= n || panelsN < threads) }) { mRange, nRange, t in
            blockRows(a: a, b: b, rowOffsets: rowOffsets, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue,
                      mRange: mRange, nRange: nRange, tail: workspace.packedB[t])
        }
    }

    /// The block loop of `sgemmRows` over C[mRange panels, nRange]: K slices of kc, each
    /// nr-column panel of B read in place by every M panel of the range. A panel with fewer
    /// than nr columns is first copied (zero-padded) into `tail` (kc x nr floats).
    @inlinable
    static func blockRows(a: PackedA, b: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, c: UnsafeMutablePointer<Float>, ldc: Int,
                          bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, epilogue: GemmEpilogue,
                          mRange: Range<Int>, nRange: Range<Int>, tail: UnsafeMutablePointer<Float>) {
        let m = a.m, k = a.k, mr = Kernel.mr, nr = Kernel.nr
        // From 1 MB of C (the output grid), the next panel's C and residual lines are prefetched
        // as PackedGemm.block does, for the same reason: M rows ldc floats apart. The stem (a 3.3 MB
        // grid), 1 thread, 6 interleaved rounds on a Zen 4 core: resnet50's 2.98 -> 2.72 ms,
        // resnet18's 3.42 -> 3.00. From 512 KB, layer1's 3x3s (0.8 MB grids) were unchanged.
        let farC = prefetchesC(m: m, ldc: ldc)
        var n0 = nRange.lowerBound
        while n0 < nRange.upperBound {
            let nb = min(PackedGemmWorkspace.nc, nRange.upperBound - n0)
            var k0 = 0
            while k0 < k {
                let kb = min(PackedA.kc, k - k0)
                let last = k0 + kb == k
                let accumulate = k0 > 0 || epilogue.accumulate
                var j0 = n0
                while j0 < n0 + nb {
                    let cols = min(nr, n0 + nb - j0)
                    if cols < nr {
                        // Sound: row p's columns j0 ..< j0 + cols lie within its N readable floats.
                        for p in 0..<kb {
                            let src = (b + rowOffsets[k0 + p]).assumingMemoryBound(to: Float.self) + j0
                            (tail + p * nr).update(from: src, count: cols)
                            (tail + p * nr + cols).update(repeating: 0, count: nr - cols)
                        }
                    }
                    let ahead = farC && j0 + nr < n0 + nb ? j0 + nr : -1
                    for pm in mRange {
                        let i0 = pm * mr
                        let rows = min(mr, m - i0), out = c + i0 * ldc + j0
                        if ahead >= 0 {
                            prefetchRows(c + i0 * ldc + ahead, residual: last ? residual.map { $0 + i0 * ldc + ahead } : nil,
                                         rows: rows, ldc: ldc, lines: nr / 16)
                        }
                        let rowBias = last ? bias.map { $0 + i0 } : nil, rowResidual = last ? residual.map { $0 + i0 * ldc + j0 } : nil
                        if cols == nr {
                            Kernel.tileRows(k: kb, a: a.panel(k0: k0, kb: kb, pm: pm), b: b + 4 * j0, rowOffsets: rowOffsets + k0, c: out, ldc: ldc,
                                            rows: rows, cols: cols, accumulate: accumulate, bias: rowBias, residual: rowResidual,
                                            relu: last && epilogue.relu)
                        } else {
                            Kernel.tile(k: kb, a: a.panel(k0: k0, kb: kb, pm: pm), b: tail, c: out, ldc: ldc, rows: rows, cols: cols,
                                        accumulate: accumulate, bias: rowBias, residual: rowResidual, relu: last && epilogue.relu)
                        }
                    }
                    j0 += cols
                }
                k0 += kb
            }
            n0 += nb
        }
    }
}
