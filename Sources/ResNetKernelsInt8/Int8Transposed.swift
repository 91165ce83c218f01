import CInt8Tiles
import ResNetKernelsReference

/// The integer product transposed for narrow outputs (VNNI only): Cᵀ[positions, channels] =
/// Bᵀ · Wᵀ, six or seven output positions as the tile's rows (transposedPanelRows) and 32
/// output channels as its columns (rt_int8_tile_vnni_t, _t7), then C = (Cᵀ)ᵀ for the
/// requantization, which is unchanged.
///
/// Why: a ResNet's last stage has 49 positions (resnet50 at 224). As two 32-column panels they
/// fill 77% of the plain tile's work; as six-row panels 91%, as seven-row ones 100% (196
/// positions: 88% against 99% and 100%).
/// The operand B is the one Int8Patches builds for the plain tile, read in place: a position's
/// four bytes of a k group are one 32-bit word of B's group row.
public final class PackedInt8ChannelWeights: @unchecked Sendable {
    // @unchecked Sendable: written once in init, read-only afterwards.
    public let m: Int, k: Int
    public let rowSums: [Int32]
    /// Per K slice (Int8Tile.kc), per 32-channel panel, per 4-k group: 32 channels x 4 int8
    /// (channel j's bytes at 4j). Channels past M and k past K are zero.
    let bytes: [Int8]
    public static let panelChannels = 32

    /// Weights W[M, K], row-major. The caller checked M x K against its budget; K < 65,793 keeps
    /// every sum within int32.
    public init(weights w: UnsafePointer<Int8>, m: Int, k: Int) {
        self.m = m; self.k = k
        rowSums = PackedInt8Weights.rowSums(w, m: m, k: k)
        let panels = (m + Self.panelChannels - 1) / Self.panelChannels
        var out = [Int8]()
        out.reserveCapacity(panels * Self.panelChannels * ((k + 3) / 4 * 4))
        var k0 = 0
        while k0 < k {
            let kb = Swift.min(Int8Tile.kc, k - k0), groups = (kb + 3) / 4
            for pc in 0..<panels {
                for group in 0..<groups {
                    for j in 0..<Self.panelChannels {
                        for t in 0..<4 {
                            let row = pc * Self.panelChannels + j, col = k0 + group * 4 + t
                            out.append(row < m && col < k0 + kb ? w[row * k + col] : 0)
                        }
                    }
                }
            }
            k0 += kb
        }
        bytes = out
    }

    /// Where slice k0's channel panel pc starts: every earlier slice is kc wide (a multiple of 4).
    func panelOffset(k0: Int, kb: Int, pc: Int) -> Int {
        let panels = (m + Self.panelChannels - 1) / Self.panelChannels
        return k0 * panels * Self.panelChannels + pc * ((kb + 3) / 4) * 4 * Self.panelChannels
    }
}

extension Int8Gemm {
    /// C[M, N] = W · B exactly (int32, leading dimension ldc), computed transposed on the VNNI
    /// tile: `transposed` (N x M int32, scratch) takes Cᵀ first. B is the VNNI operand in
    /// `layout`. Threads split the channel panels (each streams its part of the weights once)
    /// where there are enough, the position panels otherwise; each then transposes its own part.
    /// With `requantize`, each row of C is requantized into `output` (leading dimension ldo) as
    /// soon as its block of sixteen channels is transposed, while it is in L1 (rt_requantize_row_avx2: the separate pass's
    /// arithmetic), instead of in a pass of its own.
    public static func gemmTransposed(weights w: PackedInt8ChannelWeights, layout: Int8BLayout, bytes: UnsafePointer<UInt8>,
                                      c: UnsafeMutablePointer<Int32>, ldc: Int, transposed ct: UnsafeMutablePointer<Int32>,
                                      workspace: Int8GemmWorkspace,
                                      requantize: (Int8FusedRequantization, output: UnsafeMutablePointer<Float>, ldo: Int)? = nil) {
        let m = w.m, k = w.k, n = layout.n
        precondition(layout.k == k && layout.tile == .vnni, "B laid out for another GEMM")
        precondition(requantize == nil || (requantize!.0.constants.count == m && k > 0), "fused requantization for another product")
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
            return
        }
        let nr = PackedInt8ChannelWeights.panelChannels
        let panelRows = Self.transposedPanelRows(n: n)
        let channelPanels = (m + nr - 1) / nr, positionPanels = (n + panelRows - 1) / panelRows
        let groupStride = layout.paddedN * 4
        let threads = workspace.threads
        let byChannels = channelPanels >= threads
        // The requantization's figures as plain values outside the loops: nothing retained per row.
        let constants = requantize?.0.constants ?? [], multipliers = requantize?.0.multipliers ?? []
        let output = requantize?.output, ldo = requantize?.ldo ?? 0
        let zp = requantize?.0.zeroPoint ?? 0, lo = requantize?.0.lo ?? 0, hi = requantize?.0.hi ?? 0
        let work = { (t: Int) in
            let channels = byChannels ? (channelPanels * t / threads)..<(channelPanels * (t + 1) / threads) : 0..<channelPanels
            let positions = byChannels ? 0..<positionPanels : (positionPanels * t / threads)..<(positionPanels * (t + 1) / threads)
            guard !channels.isEmpty, !positions.isEmpty else { return }
            w.bytes.withUnsafeBufferPointer { a in
                var k0 = 0
                while k0 < k {
                    let kb = Swift.min(Int8Tile.kc, k - k0), groups = (kb + 3) / 4
                    // One slice of a channel panel's weights (kc x 32 bytes, 16 KB) stays in L1 while
                    // every position panel passes over it.
                    for pc in channels {
                        let weights = a.baseAddress! + w.panelOffset(k0: k0, kb: kb, pc: pc)
                        let j0 = pc * nr, cols = Int32(Swift.min(nr, m - j0))
                        // The block this thread takes next (its next channel panel, or its first in the next
                        // slice), prefetched a share per position panel: each pass one seventh of its lines,
                        // at most one a group. Whole in every pass (as the tile once did), a layer4 3x3's
                        // first pass asked for its 256 lines at twice what one core draws from memory, and
                        // the passes after asked again for lines already on their way.
                        let next: (offset: Int, bytes: Int)? = pc + 1 < channels.upperBound
                            ? (w.panelOffset(k0: k0, kb: kb, pc: pc + 1), groups * 128)
                            : k0 + kb < k ? (w.panelOffset(k0: k0 + kb, kb: Swift.min(Int8Tile.kc, k - k0 - kb), pc: channels.lowerBound),
                                             (Swift.min(Int8Tile.kc, k - k0 - kb) + 3) / 4 * 128) : nil
                        let lines = (next?.bytes ?? 0) / 64, share = (lines + positions.count - 1) / positions.count
                        for pp in positions {
                            let q0 = pp * panelRows, rows = Int32(Swift.min(panelRows, n - q0))
                            // Sound: the tile reads positions q0 ..< q0 + rows (< n <= paddedN) of groups
                            // k0 / 4 ..< + groups (< paddedK / 4) of B, and the panel's groups x 128 weight
                            // bytes (init's packing); it writes rows x cols of Cᵀ (N x M). It only prefetches
                            // the next block's lines first ..< first + count (within that block's bytes).
                            let source = bytes + (k0 / 4) * groupStride + 4 * q0, sums = ct + q0 * m + j0, accumulate: Int32 = k0 > 0 ? 1 : 0
                            let first = Swift.min(lines, (pp - positions.lowerBound) * share), count = Swift.min(share, lines - first)
                            let prefetch = next.map { a.baseAddress! + $0.offset + 64 * first }
                            if panelRows == 7 {
                                rt_int8_tile_vnni_t7(groups, source, groupStride, weights, sums, m, rows, cols, accumulate, prefetch, count)
                            } else {
                                rt_int8_tile_vnni_t(groups, source, groupStride, weights, sums, m, rows, cols, accumulate, prefetch, count)
                            }
                        }
                    }
                    k0 += kb
                }
            }
            // C = (Cᵀ)ᵀ over this thread's channels and positions.
            let rows = (channels.lowerBound * nr)..<Swift.min(m, channels.upperBound * nr)
            let columns = (positions.lowerBound * panelRows)..<Swift.min(n, positions.upperBound * panelRows)
            // Sixteen channels at a time, each position's sixteen sums at most two lines of Cᵀ: a channel at a time, its
            // positions' sums lay M x 4 bytes apart (2 KB at M = 512), in two of L1's sets, so each of them
            // missed L1 (the loop was 0.8% of resnet50-qop's samples, its loads most of it).
            constants.withUnsafeBufferPointer { constants in multipliers.withUnsafeBufferPointer { multipliers in
                var i0 = rows.lowerBound
                while i0 < rows.upperBound {
                    let i1 = Swift.min(i0 + 16, rows.upperBound)
                    for j in columns {
                        let sums = ct + j * m
                        for i in i0..<i1 { c[i * ldc + j] = sums[i] }
                    }
                    if let output {
                        for i in i0..<i1 {
                            // Sound: row i < m indexes constants and multipliers (m each); its outputs are
                            // columns ..< n of row i of the caller's output.
                            rt_requantize_row_avx2(c + i * ldc + columns.lowerBound, columns.count, constants[i], multipliers[i], zp, lo, hi,
                                                   output + i * ldo + columns.lowerBound)
                        }
                    }
                    i0 = i1
                }
            } }
        }
        if threads > 1 { DispatchFor.concurrent(threads, work) } else { work(0) }
    }

    /// Positions per panel of the transposed tile for N positions: 6 or 7, whichever computes
    /// fewer rows in all (each panel computes whole rows, its last one repeated past N), 7 on a
    /// tie (fewer passes over the weights). 49 (resnet's last stage): seven panels of 7, where
    /// nine of 6 computed 54 rows; 196: 28 of 7 against 33 of 6 (198).
    public static func transposedPanelRows(n: Int) -> Int {
        let sixes = (n + 5) / 6 * 6, sevens = (n + 6) / 7 * 7
        return sevens <= sixes ? 7 : 6
    }
}

/// An integer product's weights as packed for its tile: 8-row (VNNI) or 6-row panels for the plain tiles
/// (Int8Gemm.gemm), or 32-channel panels for the transposed VNNI tile (Int8Gemm.gemmTransposed).
public enum Int8ProductWeights: Sendable {
    case rows(PackedInt8Weights)
    case channels(PackedInt8ChannelWeights)

    public var rowSums: [Int32] {
        switch self {
        case let .rows(w): return w.rowSums
        case let .channels(w): return w.rowSums
        }
    }

    /// C[M, N] = W · B (leading dimension ldc) on the packing's product, optionally requantized in
    /// the tiles. For the channels packing, `c` holds 2 x M x ldc int32: C, then Cᵀ (the scratch
    /// gemmTransposed writes first).
    /// `byteImage`: the output's byte image too, and the floats only where `output` is given (the
    /// rows packing only: Int8Gemm.gemm).
    public func gemm(layout: Int8BLayout, bytes: UnsafePointer<UInt8>, halves: UnsafePointer<Int16>, c: UnsafeMutablePointer<Int32>, ldc: Int,
                     workspace: Int8GemmWorkspace, requantize: (Int8FusedRequantization, output: UnsafeMutablePointer<Float>?, ldo: Int)? = nil,
                     byteImage: (UnsafeMutablePointer<UInt8>, offset: Int)? = nil) {
        switch self {
        case let .rows(w):
            Int8Gemm.gemm(weights: w, layout: layout, bytes: bytes, halves: halves, c: c, ldc: ldc, workspace: workspace, requantize: requantize,
                          byteImage: byteImage)
        case let .channels(w):
            precondition(byteImage == nil && requantize.map { $0.output != nil } != false, "the transposed product writes floats and no byte image")
            // Sound: the caller reserved 2 x M x ldc sums for this packing (above); Cᵀ is the second half.
            Int8Gemm.gemmTransposed(weights: w, layout: layout, bytes: bytes, c: c, ldc: ldc, transposed: c + w.m * ldc, workspace: workspace,
                                    requantize: requantize.flatMap { r in r.output.map { (r.0, output: $0, ldo: r.ldo) } })
        }
    }
}

