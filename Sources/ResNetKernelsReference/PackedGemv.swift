/// The transposed product of a single position (issue 11): C[M, 1] = W[M, K] · b[K], a
/// matrix-vector product over the weights as the narrow path packs them (panels of
/// Kernel.nr channels, kc-deep slices, interleaved by k).
///
/// Why: a classifier at batch 1 (resnet50's fc: 1000 x 2048, 8 MB of weights) has one
/// position, and the 6-row tile computed five rows of padding for it: 12 FMAs per weight
/// pair where one row needs 2, so the tile's arithmetic (0.1 ms on a Zen 5 core) came on
/// top of streaming the weights. Here each weight is read once, with one FMA per 16 lanes.
extension PackedGemm {
    /// c[j * ldc] = (c[j * ldc] if accumulating) + sum_k W[j, k] b[k] (+ bias[j]) (+ residual[j * ldc])
    /// (ReLU), for j in 0 ..< M. B's one column is packed first into thread 0's B buffer (K x mr
    /// floats: the caller checked they fit), read by every thread; threads split the channel panels.
    @inlinable
    static func gemv<Source: PackedBSource>(weights w: PackedA, b: Source, c: UnsafeMutablePointer<Float>, ldc: Int,
                                            bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, epilogue: GemmEpilogue,
                                            workspace: PackedGemmWorkspace) {
        let m = w.m, k = w.k, mr = Kernel.mr, nr = Kernel.nr
        precondition((nr == 16 || nr == 32) && k * mr <= workspace.packedBFloats, "gemv: panels of \(nr) channels (16 or 32), or B's column does not fit the buffer")
        // B's column as the narrow path packs it (panels of mr positions, one real): b[k] at k * mr.
        let column = workspace.packedB[0]
        var k0 = 0
        while k0 < k {
            let kb = min(PackedA.kc, k - k0)
            b.pack(k0: k0, kb: kb, n0: 0, nb: 1, nr: mr, into: column + k0 * mr)
            k0 += kb
        }
        let channelPanels = (m + nr - 1) / nr
        let parts = min(workspace.threads, channelPanels)
        @inline(__always) func work(_ part: Int) {
            for pc in (channelPanels * part / parts)..<(channelPanels * (part + 1) / parts) {
                let j0 = pc * nr
                // Two accumulators per 16 lanes (even and odd k), so consecutive FMAs do not wait on each other.
                var sums = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                var k0 = 0
                while k0 < k {
                    let kb = min(PackedA.kc, k - k0)
                    // Sound: the panel holds kb x nr floats (PackedA, zero past M); the column kb x mr.
                    let panel = UnsafeRawPointer(w.panel(k0: k0, kb: kb, pm: pc)), x = column + k0 * mr
                    var p = 0
                    if nr == 32 {
                        while p + 2 <= kb {
                            let x0 = SIMD16<Float>(repeating: x[p * mr]), x1 = SIMD16<Float>(repeating: x[(p + 1) * mr])
                            let row = panel + 4 * p * 32
                            sums.0.addProduct(x0, row.loadUnaligned(as: SIMD16<Float>.self))
                            sums.1.addProduct(x0, row.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
                            sums.2.addProduct(x1, row.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self))
                            sums.3.addProduct(x1, row.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self))
                            p += 2
                        }
                        if p < kb {
                            let x0 = SIMD16<Float>(repeating: x[p * mr]), row = panel + 4 * p * 32
                            sums.0.addProduct(x0, row.loadUnaligned(as: SIMD16<Float>.self))
                            sums.1.addProduct(x0, row.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
                        }
                    } else {
                        // nr 16 (AVX2): one vector per step, the steps alternating accumulators.
                        while p + 2 <= kb {
                            let row = panel + 4 * p * 16
                            sums.0.addProduct(SIMD16<Float>(repeating: x[p * mr]), row.loadUnaligned(as: SIMD16<Float>.self))
                            sums.2.addProduct(SIMD16<Float>(repeating: x[(p + 1) * mr]), row.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
                            p += 2
                        }
                        if p < kb {
                            sums.0.addProduct(SIMD16<Float>(repeating: x[p * mr]), (panel + 4 * p * 16).loadUnaligned(as: SIMD16<Float>.self))
                        }
                    }
                    k0 += kb
                }
                let low = sums.0 + sums.2, high = sums.1 + sums.3
                for j in 0..<min(nr, m - j0) {
                    let product = j < 16 ? low[j] : high[j - 16]
                    var v = epilogue.accumulate ? c[(j0 + j) * ldc] + product : product
                    if let bias { v += bias[j0 + j] }
                    if let residual { v += residual[(j0 + j) * ldc] }
                    c[(j0 + j) * ldc] = epilogue.relu ? max(v, 0) : v
                }
            }
        }
        if parts > 1 {
            DispatchFor.concurrent(parts) { part in
                // Names Kernel, so each kernel set specialises the closure under its own name (README).
                _ = Kernel.self
                work(part)
            }
        } else {
            work(0)
        }
    }
}
