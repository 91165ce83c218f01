/// The transposed product of a single position (issue 11): C[M, 1] = W[M, K] · b[K], a
/// matrix-vector product over the weights as the narrow path packs them (panels of
/// Kernel.nr channels, kc-deep slices, interleaved by k).
///
/// Why: a classifier at batch 1 (resnet50's fc, 1000 x 2048, 8 MB of weights) has one
/// position, and the 6-row tile computed five rows of padding for it: 12 FMAs per weight
/// pair where one row needs 2, so the tile's arithmetic (0.1 ms on a Zen 5 core) came on
/// top of streaming the weights. Here each weight is read once, with one FMA per 16 lanes.
///
/// Each output is summed exactly as the tile sums it (one FMA chain per K slice from zero, the
/// slices added in order) and finished by the same transposeEpilogue, so a batch
/// run image by image equals the batch run at once, bit for bit (BatchSeparabilityTests).
/// Four channel panels run side by side, for four independent chains instead of one.
extension PackedGemm {
    /// c[j * ldc] = (c[j * ldc] if accumulating) + sum_k W[j, k] b[k] (+ bias[j]) (+ residual[j * ldc])
    /// (ReLU), for j in 0 ..< M. B's one column is packed first into thread 0's B buffer (K x mr
    /// floats: the caller checked they fit), read by every thread; threads split the channel panels,
    /// each writing its channels' sums to the workspace's Cᵀ (M floats, reserved: sgemmNarrow checks).
    @inlinable
    static func gemv<Source: PackedBSource>(weights w: PackedA, b: Source, c: UnsafeMutablePointer<Float>, ldc: Int,
                                            bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, epilogue: GemmEpilogue,
                                            workspace: PackedGemmWorkspace) {
        let m = w.m, k = w.k, mr = Kernel.mr, nr = Kernel.nr
        precondition((nr == 16 || nr == 32) && k * mr <= workspace.packedBFloats, "gemv: panels of \(nr) channels (16 or 32), or B's column does not fit the buffer")
        // B's column as the narrow path packs it (panels of mr positions, one real): b[k] at k * mr.
        // Sound: the slices' k * mr floats fit the buffer (checked above); pack writes kb x mr each.
        let column = workspace.packedB[0], ct = workspace.transposedC  // Cᵀ [1, m]
        var k0 = 0
        while k0 < k {
            let kb = min(PackedA.kc, k - k0)
            b.pack(k0: k0, kb: kb, n0: 0, nb: 1, nr: mr, into: column + k0 * mr)
            k0 += kb
        }
        let channelPanels = (m + nr - 1) / nr
        let parts = min(workspace.threads, channelPanels)
        typealias Lanes = (SIMD16<Float>, SIMD16<Float>)  // a panel's nr sums (the second half unused when nr is 16)
        @inline(__always) func work(_ part: Int) {
            let panels = (channelPanels * part / parts)..<(channelPanels * (part + 1) / parts)
            var first = panels.lowerBound
            while first < panels.upperBound {
                // Up to four panels; a missing one repeats the last (computed, not stored).
                let q = (first, min(first + 1, panels.upperBound - 1), min(first + 2, panels.upperBound - 1), min(first + 3, panels.upperBound - 1))
                var sums: (Lanes, Lanes, Lanes, Lanes) = ((.zero, .zero), (.zero, .zero), (.zero, .zero), (.zero, .zero))
                var k0 = 0
                while k0 < k {
                    let kb = min(PackedA.kc, k - k0), x = column + k0 * mr
                    // Sound: each panel holds kb x nr floats (PackedA, zero past M); the column kb x mr.
                    let w0 = UnsafeRawPointer(w.panel(k0: k0, kb: kb, pm: q.0)), w1 = UnsafeRawPointer(w.panel(k0: k0, kb: kb, pm: q.1))
                    let w2 = UnsafeRawPointer(w.panel(k0: k0, kb: kb, pm: q.2)), w3 = UnsafeRawPointer(w.panel(k0: k0, kb: kb, pm: q.3))
                    var acc: (Lanes, Lanes, Lanes, Lanes) = ((.zero, .zero), (.zero, .zero), (.zero, .zero), (.zero, .zero))
                    for p in 0..<kb {
                        let xv = SIMD16<Float>(repeating: x[p * mr]), o = 4 * p * nr  // o: step p's byte offset in a panel
                        acc.0.0.addProduct(xv, w0.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
                        acc.1.0.addProduct(xv, w1.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
                        acc.2.0.addProduct(xv, w2.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
                        acc.3.0.addProduct(xv, w3.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self))
                        if nr == 32 {
                            acc.0.1.addProduct(xv, w0.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self))
                            acc.1.1.addProduct(xv, w1.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self))
                            acc.2.1.addProduct(xv, w2.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self))
                            acc.3.1.addProduct(xv, w3.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self))
                        }
                    }
                    // As the tile stores a later slice: its sum plus C so far.
                    if k0 == 0 {
                        sums = acc
                    } else {
                        sums = ((acc.0.0 + sums.0.0, acc.0.1 + sums.0.1), (acc.1.0 + sums.1.0, acc.1.1 + sums.1.1),
                                (acc.2.0 + sums.2.0, acc.2.1 + sums.2.1), (acc.3.0 + sums.3.0, acc.3.1 + sums.3.1))
                    }
                    k0 += kb
                }
                // The sums go to Cᵀ's one row, and transposeEpilogue applies C, bias, residual and
                // ReLU as it does for the tile's, so the two paths cannot drift apart.
                let count = min(4, panels.upperBound - first)
                for g in 0..<count {
                    let lanes = g == 0 ? sums.0 : g == 1 ? sums.1 : g == 2 ? sums.2 : sums.3
                    let j0 = (first + g) * nr
                    for j in 0..<min(nr, m - j0) { ct[j0 + j] = j < 16 ? lanes.0[j] : lanes.1[j - 16] }
                }
                transposeEpilogue(ct: ct, m: m, rows: 0..<1, channels: (first * nr)..<min(m, (first + count) * nr), c: c, ldc: ldc,
                                  bias: bias, residual: residual, epilogue: epilogue, zeroProduct: false)
                first += count
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
