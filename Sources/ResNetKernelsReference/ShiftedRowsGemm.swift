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

    /// The block loop of `sgemmRows` over C[mRange panels, nRange]: K slices of kc, blocks of
    /// nc columns, each M panel of the range passing over the block's nr-column panels of B
    /// read in place. A panel with fewer than nr columns is first copied (zero-padded) into
    /// `tail` (kc x nr floats).
    @inlinable
    static func blockRows(a: PackedA, b: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, c: UnsafeMutablePointer<Float>, ldc: Int,
                          bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, epilogue: GemmEpilogue,
                          mRange: Range<Int>, nRange: Range<Int>, tail: UnsafeMutablePointer<Float>) {
        let m = a.m, k = a.k, mr = Kernel.mr, nr = Kernel.nr
        // Each M panel passes over the block's column panels in turn, writing its rows of C left
        // to right, as PackedGemm.block does and for the same reason (the rows' lines are then
        // streams the hardware prefetcher follows; column panel by column panel they were M
        // streams a panel each, prefetched a panel ahead from 1 MB of C). resnet50, 1 thread,
        // one plan run alternately both ways (Benchmarks/ab-inproc, 30 rounds, Zen 4): layer1's
        // 3x3s 2.53/2.62/2.60 -> 2.45/2.47/2.49 ms (medians), the stem unchanged (2.81 -> 2.83).
        var n0 = nRange.lowerBound
        while n0 < nRange.upperBound {
            let nb = min(PackedGemmWorkspace.nc, nRange.upperBound - n0)
            // The block's whole panels are read in place; a last partial one (cols < nr) is first
            // copied, zero-padded, into `tail`, once per K slice.
            let whole = nb / nr * nr, partial = nb - whole
            var k0 = 0
            while k0 < k {
                let kb = min(PackedA.kc, k - k0)
                let last = k0 + kb == k
                let accumulate = k0 > 0 || epilogue.accumulate
                if partial > 0 {
                    // Sound: row p's columns n0 + whole ..< n0 + nb lie within its N readable floats.
                    for p in 0..<kb {
                        let src = (b + rowOffsets[k0 + p]).assumingMemoryBound(to: Float.self) + n0 + whole
                        (tail + p * nr).update(from: src, count: partial)
                        (tail + p * nr + partial).update(repeating: 0, count: nr - partial)
                    }
                }
                for pm in mRange {
                    let i0 = pm * mr
                    let rows = min(mr, m - i0), ap = a.panel(k0: k0, kb: kb, pm: pm)
                    let rowBias = last ? bias.map { $0 + i0 } : nil
                    var j0 = n0
                    while j0 < n0 + nb {
                        let cols = min(nr, n0 + nb - j0), out = c + i0 * ldc + j0
                        let rowResidual = last ? residual.map { $0 + i0 * ldc + j0 } : nil
                        if cols == nr {
                            Kernel.tileRows(k: kb, a: ap, b: b + 4 * j0, rowOffsets: rowOffsets + k0, c: out, ldc: ldc,
                                            rows: rows, cols: cols, accumulate: accumulate, bias: rowBias, residual: rowResidual,
                                            relu: last && epilogue.relu)
                        } else {
                            Kernel.tile(k: kb, a: ap, b: tail, c: out, ldc: ldc, rows: rows, cols: cols,
                                        accumulate: accumulate, bias: rowBias, residual: rowResidual, relu: last && epilogue.relu)
                        }
                        j0 += cols
                    }
                }
                k0 += kb
            }
            n0 += nb
        }
    }
}
