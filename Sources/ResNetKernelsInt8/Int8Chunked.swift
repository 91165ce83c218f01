import ResNetKernelsReference

/// A tap-major integer conv run chunk by chunk (issue 11, int8): each thread takes a run of
/// output rows at a time, copies B's columns for those rows into an operand of its own, and
/// multiplies and requantizes them at once, so B never leaves the thread's L2.
///
/// Why: built whole before the product, B is K x positions bytes, and resnet50's 3x3s make it
/// 1.8 MB (layer1: 576 x 3136), past this Zen 5's 1 MB L2, so every byte was written to L3
/// and read back from there by the tiles; and the threads waited for each other between the
/// copy and the product. A chunk is at most `chunkBytes`.
public struct Int8ChunkedConv: Sendable, Equatable {
    public let tapMajor: Int8TapMajor
    /// Output rows per chunk.
    public let rows: Int
    /// The most operand bytes a chunk may take: a quarter of a 1 MB L2, so the chunk, the
    /// weights' slice and the output lines being written stay there together.
    public static let chunkBytes = 256 * 1024

    /// The chunking of `tapMajor`'s conv on `threads` threads: at most the output rows whose operand
    /// fits chunkBytes (at least one), and at most a quarter of each thread's share of the rows, so
    /// threads claiming chunks end together; among those, the count whose positions best fill whole
    /// tiles (resnet50's 56-wide layer1: 4 rows, 224 positions, 7 full panels), then whose chunks
    /// best divide among the threads, then the larger.
    public init(_ tapMajor: Int8TapMajor, threads: Int) {
        self.tapMajor = tapMajor
        let g = tapMajor.g, columns = tapMajor.tile.columns, element = tapMajor.tile == .avx2 ? 2 : 1, threads = Swift.max(1, threads)
        let (rowBytes, overflow) = tapMajor.k.multipliedReportingOverflow(by: g.outW * element)
        let share = (g.outH + 4 * threads - 1) / (4 * threads)
        let most = overflow ? 1 : Swift.max(1, Swift.min(g.outH, share, Self.chunkBytes / Swift.max(1, rowBytes)))
        // Fill n / padded(n) compared as fractions (each figure < 2^31: Int8TapMajor's checks); idle
        // claims: chunks rounded up to a multiple of the threads, less the chunks.
        @inline(__always) func padded(_ n: Int) -> Int { (n + columns - 1) / columns * columns }
        @inline(__always) func idle(_ r: Int) -> Int { let c = (g.outH + r - 1) / r; return (c + threads - 1) / threads * threads - c }
        var best = 1
        for r in 1...most {
            let n = r * g.outW, nb = best * g.outW
            let (lhs, rhs) = (n * padded(nb), nb * padded(n))
            if lhs > rhs || (lhs == rhs && idle(r) <= idle(best)) { best = r }
        }
        rows = best
    }

    public var chunks: Int { (tapMajor.g.outH + rows - 1) / rows }
    /// The operand layout of a full chunk.
    public var chunkLayout: Int8BLayout { Int8BLayout(k: tapMajor.k, n: rows * tapMajor.g.outW, tile: tapMajor.tile) }

    /// One image's conv: x (float-coded [C, H, W]) to `output` ([M, outH * outW] floats, requantized
    /// in the tiles), through `plane` and `words` (tapMajor's planeBytes and wordCount), `operand`
    /// (`threads` chunks of chunkLayout.count elements: bytes, or int16 for the AVX2 tile) and
    /// `sums` (M x positions int32: the sums of K slices before the last).
    public func run<T: ExecScalar>(_ x: UnsafePointer<T>, offset: Int, pad: UInt8, weights: PackedInt8Weights,
                                   requantize: Int8FusedRequantization, output: UnsafeMutablePointer<Float>,
                                   plane: UnsafeMutablePointer<UInt8>, words: UnsafeMutablePointer<UInt32>,
                                   bytes: UnsafeMutablePointer<UInt8>, halves: UnsafeMutablePointer<Int16>,
                                   sums: UnsafeMutablePointer<Int32>, threads: Int) {
        let g = tapMajor.g, positions = g.outH * g.outW
        precondition(weights.k == tapMajor.k && weights.tile == tapMajor.tile, "weights packed for another conv")
        // The image as words, channel groups split over the threads.
        let parts = Swift.max(1, Swift.min(threads, tapMajor.groups))
        let interleave = { (t: Int) in
            let groups = (tapMajor.groups * t / parts)..<(tapMajor.groups * (t + 1) / parts)
            guard !groups.isEmpty else { return }
            Int8Patches.tapMajorWords(x, tapMajor, groups: groups, offset: offset, pad: pad, plane: plane, words: words)
        }
        if parts > 1 { DispatchFor.concurrent(parts, interleave) } else { interleave(0) }
        let single = Int8GemmWorkspace(threads: 1), stride = chunkLayout.count
        // Chunks claimed one at a time: a thread slowed by the machine takes fewer.
        DispatchFor.claiming(chunks, threads: Swift.max(1, Swift.min(threads, chunks))) { t, chunk in
            let first = chunk * rows, outputRows = first..<Swift.min(g.outH, first + rows), origin = first * g.outW
            let layout = Int8BLayout(k: tapMajor.k, n: outputRows.count * g.outW, tile: tapMajor.tile)
            // Sound: thread t's chunk is elements t * stride ..< + layout.count (<= stride) of the operand
            // (the caller reserved threads x stride); it writes positions origin ..< + layout.n of sums and output.
            let operand8 = bytes + t * stride, operand16 = halves + t * stride
            tapMajor.copyRows(groups: 0..<tapMajor.groups, outputRows: outputRows, pad: pad, layout: layout, words: words,
                              operand: tapMajor.tile == .avx2 ? UnsafeMutableRawPointer(operand16) : UnsafeMutableRawPointer(operand8),
                              columnOrigin: origin)
            Int8Gemm.gemm(weights: weights, layout: layout, bytes: operand8, halves: operand16, c: sums + origin, ldc: positions,
                          workspace: single, requantize: (requantize, output: output + origin, ldo: positions))
        }
    }
}
