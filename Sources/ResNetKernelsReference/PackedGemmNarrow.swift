/// The packed GEMM for narrow outputs (issue 11): C[M,N] = W[M,K] · B[K,N] computed
/// as Cᵀ = Bᵀ · Wᵀ, so output *positions* fill the tile's rows and output
/// *channels* its columns.
///
/// Why: a ResNet's late stages have few positions and many channels (resnet50 at
/// 224: N = 196 or 49, M = 256…2048). Tiled the usual way, N = 49 fills two
/// 32-column panels (77% of the tile's work is real) and threads must split M,
/// each gathering all of B; transposed, 49 positions fill nine 6-row panels (91%),
/// channel counts are multiples of 32 (100%), and threads split the positions, so
/// each gathers only its own patches.
///
/// The weights are packed once as `PackedA` with panels of `Kernel.nr` rows: that
/// is exactly the tile's B-panel layout (kb x nr, interleaved by k). Each call packs
/// B's columns as panels of `Kernel.mr` (the B source's own packer with nr = mr:
/// kb x mr, interleaved by k, the tile's A-panel layout). The tile accumulates
/// Cᵀ [N, M] in the workspace; the epilogue (bias per channel, C, residual, ReLU)
/// is applied while transposing back into C.
extension PackedGemmWorkspace {
    /// Floats of Cᵀ a narrow call of M x N needs (reserveTransposed), nil on overflow.
    public static func transposedFloats(m: Int, n: Int) -> Int? {
        let (f, o) = m.multipliedReportingOverflow(by: n)
        return o ? nil : f
    }
}

extension PackedGemm {
    /// C[M,N] (+)= W · B (+ bias[m]) (+ residual) (ReLU), W packed with `mr` = Kernel.nr.
    @inlinable
    public static func sgemmNarrow<Source: PackedBSource>(n: Int, weights w: PackedA, b: Source, c: UnsafeMutablePointer<Float>, ldc: Int,
                                                          bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                                          epilogue: GemmEpilogue, workspace: PackedGemmWorkspace) {
        let m = w.m, k = w.k, mr = Kernel.mr
        guard m > 0, n > 0 else { return }
        precondition(w.mr == Kernel.nr, "weights packed for \(w.mr)-row panels, the narrow path needs \(Kernel.nr)")
        precondition(workspace.transposedCapacity >= m * n, "transposed C not reserved at plan time")
        if n == 1 && k > 0 && (Kernel.nr == 16 || Kernel.nr == 32) && k * mr <= workspace.packedBFloats {
            gemv(weights: w, b: b, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue, workspace: workspace)
            return
        }
        let ct = workspace.transposedC  // Cᵀ [n, m], row-major
        let threads = workspace.threads
        let panelsN = (n + mr - 1) / mr, channelPanels = (m + Kernel.nr - 1) / Kernel.nr
        let work = { (t: Int) in
            let (positionPanels, channels) = narrowShare(positionPanels: panelsN, channelPanels: channelPanels, weights: m * k, threads: threads, t: t)
            let rows = (positionPanels.lowerBound * mr)..<min(n, positionPanels.upperBound * mr)
            guard !rows.isEmpty, !channels.isEmpty else { return }
            if k > 0 {
                blockNarrow(w: w, b: b, ct: ct, rows: rows, channelPanels: channels, packedB: workspace.packedB[t])
            }
            transposeEpilogue(ct: ct, m: m, rows: rows, channels: (channels.lowerBound * Kernel.nr)..<min(m, channels.upperBound * Kernel.nr),
                              c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue, zeroProduct: k == 0)
        }
        if threads > 1 { DispatchFor.concurrent(threads, work) } else { work(0) }
    }

    /// Thread t's share of a transposed product: a run of position panels and every channel
    /// panel, or, when the weights are large (2^20 floats, 4 MB, and more: resnet50's layer4
    /// convs, where each thread reading all of them from memory is what limits; layer4's 3x3
    /// ran 1.10x faster on 2 threads than on 1), or there are fewer position panels than
    /// threads (a classifier at batch 1: one position), or the positions split less evenly by
    /// more than 1/16 (the busiest thread would run that many more tiles: 7 panels of a 7x7
    /// plane go 4 + 3 where 16 channel panels go 8 + 8), every position panel and a run of
    /// channel panels. resnet18's layer4 downsample (49 positions, 512 channels) on 2 threads,
    /// gemm-bench, channels last: 156-157 -> 192 GFLOP/s; in the model (10 interleaved rounds)
    /// 0.100 -> 0.080 ms. The margin: split by channels, every thread packs every position where
    /// the product packs them (sgemmNarrow; convGather channels first), about as much again as
    /// the 3% that 33 six-row panels (14x14 on AVX2) split 17 + 16 would cost.
    @inlinable
    static func narrowShare(positionPanels: Int, channelPanels: Int, weights: Int, threads: Int, t: Int) -> (Range<Int>, Range<Int>) {
        guard threads > 1 else { return (0..<positionPanels, 0..<channelPanels) }
        // Tiles on the busiest thread: a split's largest share times the other side.
        let evener = DispatchFor.splitsEvenlier(((channelPanels + threads - 1) / threads, positionPanels),
                                                than: ((positionPanels + threads - 1) / threads, channelPanels))
        if (weights >= 1 << 20 || positionPanels < threads || evener) && channelPanels >= threads {
            return (0..<positionPanels, (channelPanels * t / threads)..<(channelPanels * (t + 1) / threads))
        }
        return ((positionPanels * t / threads)..<(positionPanels * (t + 1) / threads), 0..<channelPanels)
    }

    /// Cᵀ[rows, channel panels] = (B[:, rows])ᵀ · Wᵀ, in blocks of at most `nc` rows and K slices of `kc`.
    @inlinable
    static func blockNarrow<Source: PackedBSource>(w: PackedA, b: Source, ct: UnsafeMutablePointer<Float>, rows: Range<Int>,
                                                   channelPanels: Range<Int>, packedB: UnsafeMutablePointer<Float>) {
        let m = w.m, k = w.k, mr = Kernel.mr, nr = Kernel.nr
        // The workspace's B buffer holds kc x roundUp(nc, nr) floats: row blocks of whole
        // mr-panels no longer than nc fit it.
        let rowBlock = PackedGemmWorkspace.nc / mr * mr
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let rb = min(rowBlock, rows.upperBound - r0)
            let rowPanels = (rb + mr - 1) / mr
            var k0 = 0
            while k0 < k {
                let kb = min(PackedA.kc, k - k0)
                // B's columns r0..<r0+rb as mr-wide panels: the tile's A side.
                b.pack(k0: k0, kb: kb, n0: r0, nb: rb, nr: mr, into: packedB)
                // A weight panel (kb x nr) stays in L1 while this block's position panels pass over
                // it; the next one (this slice's next channel panel, else the next slice's first) is
                // prefetched a share per pass. Why: in a model the weights come from memory (resnet50's
                // are 100 MB), and the hardware prefetcher sees only the first pass over each panel.
                // gemm-bench, cold weights, 1 core, 6 alternating passes: l4 1x1 2048>512 158 -> 176
                // GFLOP/s (medians), 512>2048 159 -> 177, l3 1x1s +2-4%; in resnet50 (1 thread, 6
                // interleaved rounds) layer4's 1x1s 6.15 -> 5.57 ms, the summed layers 47.6 -> 46.2 ms;
                // on 2 threads, where threads split layer4's channels, within noise.
                for pc in channelPanels {
                    let j0 = pc * nr
                    let wp = w.panel(k0: k0, kb: kb, pm: pc)
                    let nextDepth = min(PackedA.kc, k - k0 - kb)
                    let next: UnsafePointer<Float>? = pc + 1 < channelPanels.upperBound ? w.panel(k0: k0, kb: kb, pm: pc + 1)
                        : nextDepth > 0 ? w.panel(k0: k0 + kb, kb: nextDepth, pm: channelPanels.lowerBound) : nil
                    // Sound (a prefetch never faults, but the hint stays in bounds anyway): the next panel is
                    // one PackedA holds (pc + 1 < the panel count, or a later slice), and its lines,
                    // rounded down, end within its depth x nr floats.
                    let nextLines = (pc + 1 < channelPanels.upperBound ? kb : nextDepth) * nr / 16
                    for pr in 0..<rowPanels {
                        if let next { prefetchShare(next, lines: nextLines, part: pr, parts: rowPanels) }
                        let i0 = pr * mr
                        Kernel.tile(k: kb, a: UnsafePointer(packedB + pr * kb * mr), b: wp, c: ct + (r0 + i0) * m + j0, ldc: m,
                                    rows: min(mr, rb - i0), cols: min(nr, m - j0), accumulate: k0 > 0,
                                    bias: nil, residual: nil, relu: false)
                    }
                }
                k0 += kb
            }
            r0 += rb
        }
    }

    /// C[j, i] = epilogue(Cᵀ[i, j]) for i in rows, j in channels: + C if accumulating, + bias[j],
    /// + residual[j, i], ReLU. Sixteen channels at a time: first a plain transposing copy
    /// (16 C lines, which stay in L1 while the positions advance), then the epilogue along
    /// each channel's positions, contiguous in C and the residual, so it vectorizes.
    /// (Lane-by-lane SIMD access in one pass measured 2x slower on resnet50's layer4 conv3.)
    @inlinable
    static func transposeEpilogue(ct: UnsafePointer<Float>, m: Int, rows: Range<Int>, channels: Range<Int>, c: UnsafeMutablePointer<Float>, ldc: Int,
                                  bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, epilogue: GemmEpilogue, zeroProduct: Bool) {
        let relu = epilogue.relu, accumulate = epilogue.accumulate
        let (lo, count) = (rows.lowerBound, rows.count)
        var j0 = channels.lowerBound
        while j0 < channels.upperBound {
            let j1 = min(channels.upperBound, j0 + 16)
            if zeroProduct {
                if !accumulate { for j in j0..<j1 { (c + j * ldc + lo).update(repeating: 0, count: count) } }
            } else if accumulate {
                for i in rows {
                    let src = ct + i * m
                    for j in j0..<j1 { c[j * ldc + i] += src[j] }
                }
            } else {
                // Four positions at a time, each channel's four values in one vector store: the
                // float-by-float copy (an index product and two overflow checks per float) was
                // 70% of the transposed drivers' own time in a resnet50 profile.
                var i = rows.lowerBound
                while i + 4 <= rows.upperBound {
                    let s0 = ct + i * m, s1 = s0 + m, s2 = s1 + m, s3 = s2 + m
                    var dst = UnsafeMutableRawPointer(c + j0 * ldc + i)
                    for j in j0..<j1 {
                        // Sound: C's row j holds positions i ..< i + 4 (i + 4 <= rows.upperBound <= ldc).
                        dst.storeBytes(of: SIMD4<Float>(s0[j], s1[j], s2[j], s3[j]), as: SIMD4<Float>.self)
                        dst += 4 * ldc
                    }
                    i += 4
                }
                for i in i..<rows.upperBound {
                    let src = ct + i * m
                    for j in j0..<j1 { c[j * ldc + i] = src[j] }
                }
            }
            for j in j0..<j1 {
                let row = c + j * ldc + lo
                let b = bias?[j] ?? 0
                if let residual {
                    let r = residual + j * ldc + lo
                    if relu { for i in 0..<count { row[i] = max(row[i] + b + r[i], 0) } } else { for i in 0..<count { row[i] += b + r[i] } }
                } else if relu {
                    for i in 0..<count { row[i] = max(row[i] + b, 0) }
                } else if bias != nil {
                    for i in 0..<count { row[i] += b }
                }
            }
            j0 = j1
        }
    }
}
