import CCPU

/// Where an activation's channels lie: channels first (NCHW: each channel a plane, the
/// ONNX layout) or channels last (NHWC: each position's channels contiguous, the layout the
/// transposed products write without a transposition).
public enum ActivationLayout: Sendable, Equatable { case channelsFirst, channelsLast }

/// A convolution computed transposed with its input read in place (PackedGemm.convGather):
/// Cᵀ[positions, channels] = patches · Wᵀ, six output positions as the tile's rows and 32
/// (AVX2: 16) output channels as its columns. The tile reads position r of patch row
/// k = (c, ky, kx) at `source + rowOffsets[k] + positionOffset(q_r)` bytes, so a stride is
/// only a position's offset and nothing is packed, split into stride phases or compacted:
/// the source is the input itself (any conv whose windows stay inside it: a 1x1 without
/// padding, at any stride) or, where a window reads padding, a zero-padded copy of it made
/// once per image. The weights are packed with
/// their columns in `patchRows` order.
///
/// Why: a ResNet's late stages have few positions and many channels (resnet50 at 224: 196 or
/// 49 positions, 256...2048 channels). Positions in six-row panels fill 99% (196) or 91% (49)
/// of the tiles, against 88% or 77% as 32-column panels; the pointwise convs no longer pack
/// B per call, and the strided ones read their input at the stride instead of deinterleaving
/// it into four phase planes first.
///
/// x is one image (one group) of `g`, channels first ([C, H, W]) or channels last ([H, W, C],
/// then the whole of C is the group). The source is sourceH x sourceW positions in x's layout.
public struct GatherConv: Sendable, Equatable {
    public let g: ConvGeometry
    public let input: ActivationLayout
    /// Whether the input is first copied, zero-padded, into the workspace (`fill`).
    public let copied: Bool
    public let sourceH: Int, sourceW: Int

    /// The layout of `g` over an input in `input`, or nil for a geometry it does not take: a
    /// figure outside 1 ..< 2^31 (pads 0 ..< 2^31), so every product of two fits an Int, or a
    /// source whose size in bytes overflows. The planner then runs the conv another way.
    public init?(_ g: ConvGeometry, input: ActivationLayout) {
        guard g.figuresFit31Bits else { return nil }
        // The rows and columns the last output's window reaches, + 1: each a sum of products of two figures.
        let needH = (g.outH - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1
        let needW = (g.outW - 1) * g.strideW + (g.kernelW - 1) * g.dilationW + 1
        self.g = g
        self.input = input
        copied = g.padTop > 0 || g.padLeft > 0 || needH > g.height || needW > g.width
        sourceH = copied ? needH : g.height
        sourceW = copied ? needW : g.width
        let (plane, o1) = sourceH.multipliedReportingOverflow(by: sourceW)
        let (floats, o2) = plane.multipliedReportingOverflow(by: g.channels)
        guard !o1, !o2, !floats.multipliedReportingOverflow(by: 4).overflow else { return nil }
    }

    /// Byte offsets of the steps of a packed panel of six positions (24 bytes a step), for
    /// convGather's packed 1x1s: one per step of a sub-slice (PackedGemm.narrowSlice, 128;
    /// convGather checks the two agree).
    public static let packedSteps: [Int] = (0..<128).map { 24 * $0 }

    /// Floats of the padded copy (0 when the input is read as it stands).
    public var paddedFloats: Int { copied ? g.channels * sourceH * sourceW : 0 }
    /// Output positions: the transposed product's rows.
    public var positions: Int { g.outH * g.outW }

    /// The patch rows in the order the product runs them, as indices into the weights' own
    /// order (c, ky, kx): that order channels first; channels last, tap-major (ky, kx, c), so
    /// consecutive steps read consecutive floats of each position. Why: channels last, one
    /// position's taps lie C floats apart, so in the weights' order each step reads six new
    /// lines, and at resnet50's layer4 (C 512, stride 2) those lie 4 KB apart, in one L1 set:
    /// the stride-2 3x3 ran 1.6x slower than from channels-first planes until reordered.
    public func patchRows() -> [Int] {
        let taps = g.kernelH * g.kernelW
        guard input == .channelsLast, taps > 1 else { return Array(0..<(g.channels * taps)) }
        var rows: [Int] = []
        rows.reserveCapacity(g.channels * taps)
        for tap in 0..<taps { for c in 0..<g.channels { rows.append(c * taps + tap) } }
        return rows
    }

    /// Byte offset of each patch row, in `patchRows` order, from the source's start.
    public func rowOffsets() -> [Int] {
        let taps = g.kernelH * g.kernelW
        return patchRows().map { row in
            let (c, tap) = row.quotientAndRemainder(dividingBy: taps)
            let (ky, kx) = tap.quotientAndRemainder(dividingBy: g.kernelW)
            let shift = ky * g.dilationH * sourceW + kx * g.dilationW
            return 4 * (input == .channelsFirst ? c * sourceH * sourceW + shift : shift * g.channels + c)
        }
    }

    /// Weights W [M, C * kh * kw] with their columns in `patchRows` order (a copy, for PackedA).
    public func reorderedWeights(_ w: UnsafePointer<Float>, m: Int) -> [Float] {
        let rows = patchRows(), k = rows.count
        var out = [Float](repeating: 0, count: m * k)
        for i in 0..<m { for (j, r) in rows.enumerated() { out[i * k + j] = w[i * k + r] } }
        return out
    }

    /// Byte offset of output position q (oy * outW + ox) from the source's start: its window's corner.
    @inlinable @inline(__always)
    public func positionOffset(_ q: Int) -> Int {
        let corner = (q / g.outW) * g.strideH * sourceW + (q % g.outW) * g.strideW
        return 4 * (input == .channelsFirst ? corner : corner * g.channels)
    }

    /// Writes part `part` of `parts` of the padded copy of x (channels first: a range of channels;
    /// channels last: a range of rows); disjoint parts may run at once.
    @inlinable
    public func fill(_ x: UnsafePointer<Float>, part: Int, of parts: Int, into out: UnsafeMutablePointer<Float>) {
        let c = g.channels
        // Source columns j whose input column j - padLeft lies in [0, W): jLo ..< jHi.
        let jLo = min(sourceW, g.padLeft), jHi = max(jLo, min(sourceW, g.padLeft + g.width))
        switch input {
        case .channelsFirst:
            for ch in (c * part / parts)..<(c * (part + 1) / parts) {
                var dst = out + ch * sourceH * sourceW
                let src = x + ch * g.height * g.width
                for i in 0..<sourceH {
                    let iy = i - g.padTop
                    if iy < 0 || iy >= g.height {
                        dst.update(repeating: 0, count: sourceW)
                    } else {
                        dst.update(repeating: 0, count: jLo)
                        (dst + jLo).update(from: src + iy * g.width + jLo - g.padLeft, count: jHi - jLo)
                        (dst + jHi).update(repeating: 0, count: sourceW - jHi)
                    }
                    dst += sourceW
                }
            }
        case .channelsLast:
            for i in (sourceH * part / parts)..<(sourceH * (part + 1) / parts) {
                let dst = out + i * sourceW * c, iy = i - g.padTop
                if iy < 0 || iy >= g.height {
                    dst.update(repeating: 0, count: sourceW * c)
                    continue
                }
                dst.update(repeating: 0, count: jLo * c)
                (dst + jLo * c).update(from: x + (iy * g.width + jLo - g.padLeft) * c, count: (jHi - jLo) * c)
                (dst + jHi * c).update(repeating: 0, count: (sourceW - jHi) * c)
            }
        }
    }
}

extension PackedGemm {
    /// The transposed path's K step: half a packed slice, so a unit's weights (128 x 32 floats)
    /// leave room in a 48 KB L1 for the positions' lines and C's rows. (Inlinable, as is
    /// prefetchShare: the driver is specialised in the kernel-set modules, which could
    /// otherwise only call them.)
    @inlinable static var narrowSlice: Int { 128 }

    /// One image's (one group's) convolution x -> y (+ bias[m]) (+ residual) (ReLU), transposed,
    /// the input read in place (GatherConv). `weights` packed with Kernel.nr-row panels.
    /// `output` channels first: y [M, outH, outW] (the product goes to the workspace's
    /// transposed C, M x positions floats, then back with the epilogue; residual likewise
    /// channels first); channels last: y [outH, outW, M], written by the tiles with the epilogue
    /// (residual channels last). The workspace's shifted-rows buffer holds s.paddedFloats
    /// (both reserved at plan time).
    @inlinable
    public static func convGather(_ s: GatherConv, image: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>, weights w: PackedA,
                                  output: UnsafeMutablePointer<Float>, outputLayout: ActivationLayout, bias: UnsafePointer<Float>?,
                                  residual: UnsafePointer<Float>?, relu: Bool, workspace: PackedGemmWorkspace) {
        let m = w.m, k = w.k, mr = Kernel.mr, nr = Kernel.nr
        let positions = s.positions
        guard m > 0, positions > 0, k > 0 else { return }
        precondition(w.mr == nr, "weights packed for \(w.mr)-row panels, the transposed path needs \(nr)")
        let direct = outputLayout == .channelsLast
        precondition(direct || workspace.transposedCapacity >= m * positions, "transposed C not reserved at plan time")
        let threads = workspace.threads
        let source: UnsafeRawPointer
        if s.copied {
            let padded = workspace.shiftedRowsBuffer(floats: s.paddedFloats)
            let parts = min(threads, s.input == .channelsFirst ? s.g.channels : s.sourceH)
            DispatchFor.concurrent(parts) { t in
                // Names Kernel, so each kernel set specialises the closure under its own name (README).
                _ = Kernel.self
                s.fill(image, part: t, of: parts, into: padded)
            }
            source = UnsafeRawPointer(padded)
        } else {
            source = UnsafeRawPointer(image)
        }
        let ct = direct ? output : workspace.transposedC  // [positions, m]
        let positionPanels = (positions + mr - 1) / mr, channelPanels = (m + nr - 1) / nr
        // A 1x1 conv packs each sub-slice of its positions first (six per panel, interleaved by
        // step: the tile's A layout) into the thread's B buffer. Why: read in place, channels last
        // a position's channels are a row C floats long, and with C a multiple of 512 (2 KB) the
        // rows fall into a few L1 sets (resnet50's layer4 1x1s, 49 positions of C 512, ran 15%
        // slower so, though a sub-slice, 25 KB, would fit L1 whole); channels first, each step is
        // a plane further on. A window's taps read a padded copy instead.
        let packs = s.g.kernelH * s.g.kernelW == 1
        // Packed tiles read packedSteps[0 ..< sub-slice]: an invariant of this file, not of the model.
        precondition(GatherConv.packedSteps.count >= narrowSlice, "packedSteps shorter than a sub-slice")
        // Position panels per block when packing: what the B buffer holds at a full sub-slice.
        let blockPanels = packs ? max(1, PackedA.kc * ((PackedGemmWorkspace.nc + nr - 1) / nr * nr) / (narrowSlice * mr)) : positionPanels
        @inline(__always) func work(_ t: Int, _ packedSteps: UnsafePointer<Int>) {
            let (threadPanels, channelRange) = narrowShare(positionPanels: positionPanels, channelPanels: channelPanels, weights: m * k, threads: threads, t: t)
            guard !threadPanels.isEmpty, !channelRange.isEmpty else { return }
            let packed = workspace.packedB[t]
            var firstPanel = threadPanels.lowerBound
            while firstPanel < threadPanels.upperBound {
                let panels = firstPanel..<min(threadPanels.upperBound, firstPanel + blockPanels)
                firstPanel = panels.upperBound
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
                        if packs {
                        // Sound: panel pp's sb x 6 floats lie within the B buffer (blockPanels); each
                        // read is a patch element the tile itself would read (rowOffsets, positionOffset).
                        for pp in panels {
                            let q0 = pp * mr, rows = min(mr, positions - q0)
                            var dst = packed + (pp - panels.lowerBound) * sb * mr
                            let o0 = s.positionOffset(q0), o1 = s.positionOffset(q0 + min(1, rows - 1))
                            let o2 = s.positionOffset(q0 + min(2, rows - 1)), o3 = s.positionOffset(q0 + min(3, rows - 1))
                            let o4 = s.positionOffset(q0 + min(4, rows - 1)), o5 = s.positionOffset(q0 + min(5, rows - 1))
                            if s.input == .channelsLast {
                                // Each position's steps are consecutive floats (rowOffsets[p] == 4p).
                                let row = source.assumingMemoryBound(to: Float.self) + k0 + s0
                                let r0 = row + o0 / 4, r1 = row + o1 / 4, r2 = row + o2 / 4, r3 = row + o3 / 4, r4 = row + o4 / 4, r5 = row + o5 / 4
                                for p in 0..<sb {
                                    dst[0] = r0[p]; dst[1] = r1[p]; dst[2] = r2[p]; dst[3] = r3[p]; dst[4] = r4[p]; dst[5] = r5[p]
                                    dst += 6
                                }
                            } else {
                                let steps = rowOffsets + k0 + s0
                                for p in 0..<sb {
                                    let at = source + steps[p]
                                    dst[0] = at.load(fromByteOffset: o0, as: Float.self); dst[1] = at.load(fromByteOffset: o1, as: Float.self)
                                    dst[2] = at.load(fromByteOffset: o2, as: Float.self); dst[3] = at.load(fromByteOffset: o3, as: Float.self)
                                    dst[4] = at.load(fromByteOffset: o4, as: Float.self); dst[5] = at.load(fromByteOffset: o5, as: Float.self)
                                    dst += 6
                                }
                            }
                        }
                    }
                    // The last unit of K applies the epilogue in the tile when writing y directly.
                        let last = direct && k0 + s0 + sb == k
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
                                // Rows past the last position repeat it: computed, not stored.
                                @inline(__always) func offset(_ i: Int) -> Int { s.positionOffset(q0 + min(i, rows - 1)) }
                                // Packed: six floats per step, the steps 24 bytes apart (GatherConv.packedSteps).
                                Kernel.tileGather(k: sb, positions: packs ? UnsafeRawPointer(packed + (pp - panels.lowerBound) * sb * mr) : source,
                                                  rowOffsets: packs ? packedSteps : rowOffsets + k0 + s0,
                                                  positionOffsets: packs ? (0, 4, 8, 12, 16, 20) : (offset(0), offset(1), offset(2), offset(3), offset(4), offset(5)),
                                                  b: wp, c: ct + q0 * m + j0, ldc: m, rows: rows, cols: min(nr, m - j0), accumulate: k0 + s0 > 0,
                                                  columnBias: last ? bias.map { $0 + j0 } : nil,
                                                  residual: last ? residual.map { $0 + q0 * m + j0 } : nil, relu: last && relu)
                            }
                        }
                        s0 += sb
                    }
                    k0 += kb
                }
            }
            guard !direct else { return }
            let rows = (threadPanels.lowerBound * mr)..<min(positions, threadPanels.upperBound * mr)
            transposeEpilogue(ct: ct, m: m, rows: rows, channels: (channelRange.lowerBound * nr)..<min(m, channelRange.upperBound * nr),
                              c: output, ldc: positions, bias: bias, residual: residual, epilogue: GemmEpilogue(relu: relu), zeroProduct: false)
        }
        GatherConv.packedSteps.withUnsafeBufferPointer { steps in
            let steps = steps.baseAddress!
            if threads > 1 { DispatchFor.concurrent(threads) { work($0, steps) } } else { work(0, steps) }
        }
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
