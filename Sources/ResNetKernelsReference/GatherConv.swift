import CCPU

/// Where an activation's channels lie: channels first (NCHW: each channel a plane, the
/// ONNX layout) or channels last (NHWC: each position's channels contiguous, the layout the
/// transposed products write without a transposition).
public enum ActivationLayout: Sendable, Equatable { case channelsFirst, channelsLast }

/// A convolution computed transposed with its input read in place (PackedGemm.convGather):
/// Cᵀ[positions, channels] = patches · Wᵀ, seven output positions (AVX2: six; the kernel's
/// gatherRows) as the tile's rows and 32 (AVX2: 16) output channels as its columns. The tile reads position r of patch row
/// k = (c, ky, kx) at `source + rowOffsets[k] + positionOffset(q_r)` bytes, so a stride is
/// only a position's offset and nothing is packed, split into stride phases or compacted:
/// the source is the input itself (any conv whose windows stay inside it: a 1x1 without
/// padding, at any stride) or, where a window reads padding, a zero-padded copy of it made
/// once per image. The weights are packed with
/// their columns in `patchRows` order.
///
/// Why: a ResNet's late stages have few positions and many channels (resnet50 at 224: 196 or
/// 49 positions, 256...2048 channels). Positions in seven-row panels fill 100% of the tiles at 196
/// and 49 (six-row ones 99% and 91%), against 88% or 77% as 32-column panels; the pointwise convs no longer pack
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

    /// Floats of the padded copy (0 when the input is read as it stands).
    public var paddedFloats: Int { copied ? g.channels * sourceH * sourceW : 0 }
    /// Output positions: the transposed product's rows.
    public var positions: Int { g.outH * g.outW }

    /// The patch rows in the order the product runs them, as indices into the weights' own
    /// order (c, ky, kx): that order channels first; channels last, tap-major (ky, kx, c), so
    /// consecutive steps read consecutive floats of each position. Why: channels last, one
    /// position's taps lie C floats apart, so in the weights' order each step reads a new line per
    /// position, and at resnet50's layer4 (C 512, stride 2) those lie 4 KB apart, in one L1 set:
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

    /// positionOffset of positions q0 ..< q0 + count into `out`, those from q0 + rows on
    /// repeating the last real one (a tile's rows past the last position): one division per
    /// tile, where a call per position cost one each on the transposed convs' hot loop.
    @inlinable
    public func positionOffsets(from q0: Int, rows: Int, count: Int, into out: UnsafeMutablePointer<Int>) {
        var oy = q0 / g.outW, ox = q0 - oy * g.outW
        let scale = input == .channelsFirst ? 4 : 4 * g.channels
        for i in 0..<count {
            if i > 0 && i < rows {
                ox += 1
                if ox == g.outW { ox = 0; oy += 1 }
            }
            out[i] = (oy * g.strideH * sourceW + ox * g.strideW) * scale
        }
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
    /// One image's (one group's) convolution x -> y (+ bias[m]) (+ residual) (ReLU), transposed,
    /// the input read in place (GatherConv). `weights` packed with Kernel.nr-row panels.
    /// `output` channels first: y [M, outH, outW] (the product goes to the workspace's
    /// transposed C, M x positions floats, then back with the epilogue; residual likewise
    /// channels first); channels last: y [outH, outW, M], written by the tiles with the epilogue
    /// (residual channels last). The workspace's shifted-rows buffer holds s.paddedFloats
    /// (both reserved at plan time). `rowOffsets` is s.rowOffsets() (a channels-last 1x1's are
    /// 4 c, which the packing relies on: it reads eight consecutive floats of a position's row).
    @inlinable
    public static func convGather(_ s: GatherConv, image: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>, weights w: PackedA,
                                  output: UnsafeMutablePointer<Float>, outputLayout: ActivationLayout, bias: UnsafePointer<Float>?,
                                  residual: UnsafePointer<Float>?, relu: Bool, workspace: PackedGemmWorkspace) {
        // A tile's rows are `gr` output positions (Kernel.gatherRows), its columns nr channels.
        let m = w.m, k = w.k, gr = Kernel.gatherRows, nr = Kernel.nr
        let positions = s.positions
        guard m > 0, positions > 0, k > 0 else { return }
        // Six or seven positions per tile row panel (PositionPacking.vector's limit): a property of the kernel sets, not of the model.
        precondition(gr == 6 || gr == 7, "gatherRows \(gr): convGather packs six or seven positions")
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
        let positionPanels = (positions + gr - 1) / gr, channelPanels = (m + nr - 1) / nr
        // A 1x1 conv reading channels first packs each K slice of its positions first (gr per
        // panel, interleaved by step: the tile's A layout) into the thread's B buffer: in place,
        // each step is a plane further on. Channels last, a position's channels are a row, read
        // in place unless the kernel set packs them (packsChannelsLastPointwise: AVX2 from 1,024
        // input or 512 output channels, since session 22). (They were packed too, a float at a time, for only M / nr channel panels; at
        // first because with C a multiple of 512 the rows fall into a few L1 sets and resnet50's
        // layer4 1x1s ran 15% slower unpacked while a weight unit stayed in L1. With 256-step
        // units read from L2 that no longer shows. resnet50, ab-inproc 20 rounds, Zen 4: the
        // 56x56 Winograd's C = 64 products, layer1 14.6 -> 13.5 ms; then the C 512-2048 1x1s,
        // layer2's conv1s 1.13-1.22 -> 1.01-1.05 ms, layer3's 1.03-1.07 -> 0.99-1.02, layer4's
        // even; 2 threads layer2.1.conv1 0.57 -> 0.52.) A window's taps read a padded copy instead.
        let packs = s.g.kernelH * s.g.kernelW == 1
            && (s.input == .channelsFirst || Kernel.packsChannelsLastPointwise(channels: s.g.channels, outputChannels: m))
        // A channels-last 1x1's rowOffsets are 4 c: its steps are consecutive floats of each position's row.
        let consecutiveSteps = packs && s.input == .channelsLast
        // Position panels per block when packing: what the thread's B buffer holds at a full K slice
        // (kc x nc floats, rounded to nr: 85 six-row panels on AVX2, 73 seven-row ones on AVX-512).
        // A channels-last 1x1 read in place: the kernel set's bound (inPlacePointwiseBlockPanels: its
        // rows of a K slice stay in L2 while every channel panel passes over them), else the plane.
        // A window's taps read in place run the plane as one block.
        let inPlaceBlock = s.g.kernelH * s.g.kernelW == 1 ? Kernel.inPlacePointwiseBlockPanels : nil
        let blockPanels = packs ? workspace.packedBFloats / (PackedA.kc * gr) : max(1, inPlaceBlock ?? positionPanels)
        // packedSteps: a packed panel's step p lies 4 * gr * p bytes on (one per step of a K
        // slice); packedOffsets: its positions 4 bytes apart. `offsets`: a thread's gr
        // position offsets of the panel at hand (rows past the last position repeat it).
        @inline(__always) func work(_ t: Int, _ packedSteps: UnsafePointer<Int>, _ packedOffsets: UnsafePointer<Int>, _ offsets: UnsafeMutablePointer<Int>) {
            let (threadPanels, channelRange) = narrowShare(positionPanels: positionPanels, channelPanels: channelPanels, weights: m * k, threads: threads, t: t)
            guard !threadPanels.isEmpty, !channelRange.isEmpty else { return }
            let packed = workspace.packedB[t]
            var firstPanel = threadPanels.lowerBound
            while firstPanel < threadPanels.upperBound {
                let panels = firstPanel..<min(threadPanels.upperBound, firstPanel + blockPanels)
                firstPanel = panels.upperBound
                // Weight units in the order the loops below run them: K slice k0 (kc wide, as the
                // weights are packed), channel panel pc. A tile call runs a whole slice, so its C rows
                // are loaded and stored once per 256 steps. (Units were half a slice, so that their
                // weights, 128 x 32 floats, left room in a 48 KB L1; they now come from L2, prefetched
                // there, the tile's two weight vectors a step being few for L2's bandwidth, and half
                // the C round trips and tile calls gained more. resnet50, ab-inproc 20 rounds, Zen 4:
                // 1 thread layer3 27.4-27.7 -> 26.7-27.1 ms, layer4 19.3 -> 18.4-18.6; 2 threads
                // layer3 16.5 -> 15.3, layer4 10.6 -> 10.1; AVX2 layer3 36.4 -> 34.5, layer4 27.0 -> 24.9.)
                typealias Unit = (k0: Int, pc: Int)
                // The unit after u; nil past the last.
                @inline(__always) func following(_ u: Unit) -> Unit? {
                    guard u.pc + 1 >= channelRange.upperBound else { return (u.k0, u.pc + 1) }
                    return u.k0 + PackedA.kc < k ? (u.k0 + PackedA.kc, channelRange.lowerBound) : nil
                }
                // Unit u's weights and their whole cache lines (depth x nr floats).
                @inline(__always) func weights(_ u: Unit) -> (start: UnsafePointer<Float>, lines: Int) {
                    let kb = min(PackedA.kc, k - u.k0)
                    return (w.panel(k0: u.k0, kb: kb, pm: u.pc), kb * nr / 16)
                }
                var k0 = 0
                while k0 < k {
                    let kb = min(PackedA.kc, k - k0)
                    if packs {
                        // Channels first each step is a plane further on, channels last the next float of
                        // each position's row (consecutiveSteps). Sound: panel pp's kb x gr floats lie
                        // within the B buffer (blockPanels), and packPositions writes no more; each read
                        // is a patch element the tile itself would read (rowOffsets, positionOffset).
                        for pp in panels {
                            let q0 = pp * gr, rows = min(gr, positions - q0)
                            s.positionOffsets(from: q0, rows: rows, count: gr, into: offsets)
                            Kernel.packPositions(source: source, steps: rowOffsets + k0, kb: kb, offsets: offsets, consecutiveSteps: consecutiveSteps,
                                                 into: packed + (pp - panels.lowerBound) * kb * gr)
                        }
                    }
                    // The last unit of K applies the epilogue in the tile when writing y directly.
                    let last = direct && k0 + kb == k
                    for pc in channelRange {
                        // This unit's weights (kb x nr, 32 KB on AVX-512) stay in L2 (or L1) while every
                        // position panel passes over them; the next two units are prefetched into
                        // L2, a share per position panel. (The next went into L1 while units were
                        // 16 KB; at 32 KB into L2, resnet50 on one Zen 4 core, ab-inproc 20 rounds:
                        // summed steps 76.8 -> 74.7 ms, layers 2-4 each 2-3% faster; 2 threads even.)
                        // Why: the hardware prefetcher follows the first pass over a unit, but then
                        // sees passes from L1 and no stream, so each unit began with a stall (resnet's
                        // 7x7 3x3: 118-150 GFLOP/s on one Zen 5 core without, 163-188 with, in
                        // gemm-bench's warm column). In a model the weights come from memory
                        // (resnet50's layer4 3x3 is 9.4 MB), and one unit's passes (about 3 us on
                        // a Zen 4 core) did not cover a line's trip from memory: with the unit
                        // after next on its way to L2 as well, gemm-bench's cold column for that
                        // conv went from 72-81 to 88-97 GFLOP/s, and resnet50's layer4 (1 thread,
                        // 10 interleaved rounds) from 23.7 to 19.7 ms. On a Zen 3 core with AVX2 the same
                        // prefetches cost time instead (Kernel.prefetchesWeightUnits): that set leaves
                        // the units to the hardware prefetcher.
                        let j0 = pc * nr, wp = w.panel(k0: k0, kb: kb, pm: pc)
                        let next = Kernel.prefetchesWeightUnits ? following((k0, pc)) : nil, later = next.flatMap(following)
                        let near = next.map(weights), far = later.map(weights)
                        for pp in panels {
                            if let near {
                                prefetchShare(near.start, lines: near.lines, part: pp - panels.lowerBound, parts: panels.count, toL2: true)
                            }
                            if let far {
                                prefetchShare(far.start, lines: far.lines, part: pp - panels.lowerBound, parts: panels.count, toL2: true)
                            }
                            let q0 = pp * gr, rows = min(gr, positions - q0)
                            // Rows past the last position repeat it: computed, not stored.
                            if !packs { s.positionOffsets(from: q0, rows: rows, count: gr, into: offsets) }
                            // Channels last, the next panel's output rows (and, at the last unit, its
                            // residual rows) are prefetched: gr rows m floats apart per tile, streams the
                            // hardware prefetcher does not follow. resnet50, 1 thread, 8 interleaved
                            // rounds (Zen 4): layer3's conv3s (residual fused) 1.38-1.41 -> 1.27-1.34 ms.
                            // (Not on the Zen 3's AVX2 set: Kernel.prefetchesOutputRows.)
                            if Kernel.prefetchesOutputRows && direct && pp + 1 < panels.upperBound {
                                let ahead = (q0 + gr) * m + j0
                                prefetchRows(ct + ahead, residual: last ? residual.map { $0 + ahead } : nil,
                                             rows: min(gr, positions - q0 - gr), ldc: m, lines: nr / 16)
                            }
                            // Packed: gr floats per step (packedSteps), the positions 4 bytes apart.
                            let panelPositions = packs ? UnsafeRawPointer(packed + (pp - panels.lowerBound) * kb * gr) : source
                            let steps = packs ? packedSteps : rowOffsets + k0, at = packs ? packedOffsets : UnsafePointer(offsets)
                            let columnBias = last ? bias.map { $0 + j0 } : nil, tileResidual = last ? residual.map { $0 + q0 * m + j0 } : nil
                            if rows <= 4 {
                                // A plane's last panel of one to four positions: the kernel set's shorter tile, if any
                                // (AVX2: four rows since session 23; resnet50, ab-inproc 1 thread 24 rounds, layer4's
                                // 7x7 Winograd 3x3s (16 tiles: 6 + 6 + 4) 2.19 -> 2.04 ms, summed 78.48 -> 77.84).
                                Kernel.tileGatherFew(k: kb, positions: panelPositions, rowOffsets: steps, positionOffsets: at, b: wp, c: ct + q0 * m + j0,
                                                     ldc: m, rows: rows, cols: min(nr, m - j0), accumulate: k0 > 0, columnBias: columnBias,
                                                     residual: tileResidual, relu: last && relu)
                            } else {
                                Kernel.tileGather(k: kb, positions: panelPositions, rowOffsets: steps, positionOffsets: at, b: wp, c: ct + q0 * m + j0,
                                                  ldc: m, rows: rows, cols: min(nr, m - j0), accumulate: k0 > 0, columnBias: columnBias,
                                                  residual: tileResidual, relu: last && relu)
                            }
                        }
                    }
                    k0 += kb
                }
            }
            guard !direct else { return }
            let rows = (threadPanels.lowerBound * gr)..<min(positions, threadPanels.upperBound * gr)
            transposeEpilogue(ct: ct, m: m, rows: rows, channels: (channelRange.lowerBound * nr)..<min(m, channelRange.upperBound * nr),
                              c: output, ldc: positions, bias: bias, residual: residual, epilogue: GemmEpilogue(relu: relu), zeroProduct: false)
        }
        // Each thread's offsets 128 bytes apart, so no two threads write one cache line.
        let slot = 16
        withUnsafeTemporaryAllocation(of: Int.self, capacity: PackedA.kc + gr + slot * threads) { table in
            // Sound: the table holds kc steps (a K slice), gr packed offsets and a slot of gr <= 16 offsets per thread.
            let steps = table.baseAddress!, packedOffsets = steps + PackedA.kc, offsets = packedOffsets + gr
            for p in 0..<PackedA.kc { steps[p] = 4 * gr * p }
            for i in 0..<gr { packedOffsets[i] = 4 * i }
            if threads > 1 {
                DispatchFor.concurrent(threads) { work($0, steps, packedOffsets, offsets + slot * $0) }
            } else {
                work(0, steps, packedOffsets, offsets)
            }
        }
    }

    /// Prefetches part `part` of `parts` of the `lines` cache lines at `start`: a weight unit
    /// brought in while the one before it is used, spread over the passes made over that one.
    /// (The pointwise narrow path prefetches its next whole weight panel with it: measured with
    /// warm weights it had seemed no faster; with cold ones, as in a model, it is.)
    @inlinable @inline(__always)
    static func prefetchShare(_ start: UnsafePointer<Float>, lines: Int, part: Int, parts: Int, toL2: Bool = false) {
        let share = (lines + parts - 1) / parts, first = part * share
        let raw = UnsafeRawPointer(start)
        for l in first..<max(first, min(lines, first + share)) {
            if toL2 { rt_prefetch_l2(raw + 64 * l) } else { rt_prefetch(raw + 64 * l) }
        }
    }
}
