import CInt8Tiles
import ResNetKernelsReference

/// A tap-major integer conv run chunk by chunk (issue 11, int8): each thread takes a run of
/// output rows at a time, copies B's columns for those rows into an operand of its own (or,
/// for a pointwise conv on AVX2, reads them where they lie: readsInPlace), and multiplies and
/// requantizes them at once, so B never leaves the thread's L2.
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

    /// The chunking of `tapMajor`'s conv on `threads` threads: among the row counts whose operand fits
    /// chunkBytes (at least one row), the one whose chunks, claimed in order by whichever thread is
    /// least loaded, give the least work to the most loaded thread, counted in whole tiles (so both
    /// the padding of a chunk's last tile and an uneven split count); the larger on a tie. resnet50's
    /// 56-wide layer1 on 2 threads: 4 rows (224 positions, 7 full panels, 14 chunks); its 28-wide
    /// layer2 on 1 thread: 8 rows (7 full panels a chunk, the last 4), where a limit of a quarter of
    /// the rows had taken 7 (196 positions fill 7 panels 88%).
    public init(_ tapMajor: Int8TapMajor, threads: Int) {
        self.tapMajor = tapMajor
        let g = tapMajor.g, columns = tapMajor.tile.columns, element = tapMajor.tile == .avx2 ? 2 : 1, threads = Swift.max(1, threads)
        let (rowBytes, overflow) = tapMajor.k.multipliedReportingOverflow(by: g.outW * element)
        // Each figure < 2^31 (Int8TapMajor's checks): tiles of r rows, r * outW positions, fit an Int.
        @inline(__always) func tiles(_ r: Int) -> Int { (r * g.outW + columns - 1) / columns }
        var most = overflow ? 1 : Swift.max(1, Swift.min(g.outH, Self.chunkBytes / Swift.max(1, rowBytes)))
        // The operand holds whole tiles of columns: fewer rows while their padding takes it past chunkBytes.
        while most > 1 && tapMajor.k.multipliedReportingOverflow(by: tiles(most) * columns * element).partialValue > Self.chunkBytes { most -= 1 }
        // Past 4,096 output rows (no ResNet comes near) the simulation's cost is not worth it: the most rows.
        guard g.outH <= 4096 else { rows = most; return }
        func makespan(_ r: Int) -> Int {
            var loads = [Int](repeating: 0, count: threads)
            var first = 0
            while first < g.outH {
                let i = loads.indices.min { loads[$0] < loads[$1] }!
                loads[i] += tiles(Swift.min(r, g.outH - first))
                first += r
            }
            return loads.max()!
        }
        var best = 1, bestCost = makespan(1)
        if most > 1 {
            for r in 2...most {
                let cost = makespan(r)
                if cost <= bestCost { best = r; bestCost = cost }
            }
        }
        rows = best
    }

    public var chunks: Int { (tapMajor.g.outH + rows - 1) / rows }

    /// Whether the AVX2 tile reads B in place from the interleaved image instead of copying each
    /// chunk's columns out of it: a 1x1 conv at stride 1 without padding, whose B rows (one per
    /// channel pair) are the image's rows of words, `area` words apart, a chunk's columns a run
    /// within each. Only where every row and chunk starts on a 32-byte boundary (area and rows x
    /// width multiples of 8 words, in the 64-byte aligned scratch), so the tile's 32-byte loads
    /// never split lines (split, they cost resnet50-qop's layers 7.6%: 9c63984); then every chunk's
    /// N is a multiple of 8 too, so its last panel (a full tile, or the half tile for 8 columns)
    /// reads no column past the image. resnet50-qop (AVX2, 1 thread, ab-inproc, 14 rounds):
    /// layer1.1.conv1 1.005 -> 0.888 ms, layer1.2.conv1 0.930 -> 0.874, layer2.0.conv1 1.638 ->
    /// 1.552, other layers within noise; summed steps 68.69 -> 68.55. The VNNI tile still copies:
    /// not measured, no VNNI CPU at hand.
    public var readsInPlace: Bool {
        let g = tapMajor.g
        return tapMajor.tile == .avx2 && g.isPointwise && (g.height * g.width) % 8 == 0 && (rows * g.outW) % 8 == 0
    }
    /// The operand layout of a full chunk.
    public var chunkLayout: Int8BLayout { Int8BLayout(k: tapMajor.k, n: rows * tapMajor.g.outW, tile: tapMajor.tile) }

    /// One image's conv: x (float-coded [C, H, W]) to `output` ([M, outH * outW] floats, requantized
    /// in the tiles), through `plane` and `words` (tapMajor's planeBytes and wordCount), the operand
    /// (`threads` chunks of chunkLayout.count elements: `bytes`, or `halves` for the AVX2 tile) and
    /// `sums` (M x positions int32: the sums of K slices before the last). `byteImage`: x as bytes
    /// (Int8Patches.tapMajorWords); `outputBytes`: the output's byte image too (Int8Gemm.gemm).
    public func run<T: ExecScalar>(_ x: UnsafePointer<T>, offset: Int, pad: UInt8, weights: PackedInt8Weights,
                                   requantize: Int8FusedRequantization, output: UnsafeMutablePointer<Float>?,
                                   plane: UnsafeMutablePointer<UInt8>, words: UnsafeMutablePointer<UInt32>,
                                   bytes: UnsafeMutablePointer<UInt8>, halves: UnsafeMutablePointer<Int16>,
                                   sums: UnsafeMutablePointer<Int32>, threads: Int, byteImage: UnsafePointer<UInt8>? = nil,
                                   outputBytes: (UnsafeMutablePointer<UInt8>, offset: Int)? = nil) {
        let g = tapMajor.g, positions = g.outH * g.outW
        precondition(weights.k == tapMajor.k && weights.tile == tapMajor.tile, "weights packed for another conv")
        // The image as words, channel groups split over the threads.
        let parts = Swift.max(1, Swift.min(threads, tapMajor.groups))
        let interleave = { (t: Int) in
            let groups = (tapMajor.groups * t / parts)..<(tapMajor.groups * (t + 1) / parts)
            guard !groups.isEmpty else { return }
            Int8Patches.tapMajorWords(x, tapMajor, groups: groups, offset: offset, pad: pad, plane: plane, words: words, byteImage: byteImage)
        }
        if parts > 1 { DispatchFor.concurrent(parts, interleave) } else { interleave(0) }
        let single = Int8GemmWorkspace.single, stride = chunkLayout.count
        // Chunks claimed one at a time: a thread slowed by the machine takes fewer.
        DispatchFor.claiming(chunks, threads: Swift.max(1, Swift.min(threads, chunks))) { t, chunk in
            let first = chunk * rows, outputRows = first..<Swift.min(g.outH, first + rows), origin = first * g.outW
            let layout = Int8BLayout(k: tapMajor.k, n: outputRows.count * g.outW, tile: tapMajor.tile)
            // Both paths write positions origin ..< + layout.n of sums and output: this chunk's.
            if readsInPlace {
                // Sound: the image's words are int16 pairs (rt_widen_pairs_avx2: channel 2q in the low half),
                // handed to C only; group q's columns origin ..< origin + N (N a multiple of 8: its panels
                // end on it) lie at words q x area + origin ..., within the image (readsInPlace).
                let image = UnsafeRawPointer(words).assumingMemoryBound(to: Int16.self) + 2 * origin
                Int8Gemm.gemm(weights: weights, layout: layout, bytes: bytes, halves: image, c: sums + origin, ldc: positions,
                              workspace: single, requantize: (requantize, output: output.map { $0 + origin }, ldo: positions),
                              byteImage: outputBytes.map { ($0.0 + origin, offset: $0.offset) }, groupStride: 2 * g.height * g.width)
                return
            }
            // Sound: thread t's chunk is elements t * stride ..< + layout.count (<= stride) of the operand
            // (the caller reserved threads x stride).
            let operand8 = bytes + t * stride, operand16 = halves + t * stride
            tapMajor.copyRows(groups: 0..<tapMajor.groups, outputRows: outputRows, pad: pad, layout: layout, words: words,
                              operand: tapMajor.tile == .avx2 ? UnsafeMutableRawPointer(operand16) : UnsafeMutableRawPointer(operand8),
                              columnOrigin: origin)
            Int8Gemm.gemm(weights: weights, layout: layout, bytes: operand8, halves: operand16, c: sums + origin, ldc: positions,
                          workspace: single, requantize: (requantize, output: output.map { $0 + origin }, ldo: positions),
                          byteImage: outputBytes.map { ($0.0 + origin, offset: $0.offset) })
        }
    }
}

/// A pointwise conv on a tile of byte groups (VNNI, AVX2 on bytes: B is the image itself, four
/// channels interleaved into each word) run chunk by chunk, as Int8ChunkedConv: each thread claims
/// a run of positions at a time, converts those positions of every channel to bytes, interleaves
/// them into an operand of its own and multiplies and requantizes them at once. Whole, the byte image and then the operand each
/// went through L3 (resnet50's layer1 1x1s: 0.8 MB apiece) with a wait for every thread between.
public struct Int8ChunkedPointwise: Sendable, Equatable {
    public let channels: Int, positions: Int
    /// Positions per chunk: a multiple of the tile's 32 columns.
    public let columns: Int
    /// VNNI or AVX2 on bytes (Int8Tile.readsByteGroups).
    public let tile: Int8Tile

    /// The chunking of a pointwise conv of `channels` (a multiple of 4) over `positions` on
    /// `threads` threads: at most chunkBytes of operand, at most a quarter of a thread's share of the
    /// positions (rounded up to whole tiles), at least one tile. Nil for channels not in words or
    /// a tile not of byte groups.
    public init?(channels: Int, positions: Int, threads: Int, tile: Int8Tile = .vnni) {
        guard channels > 0, channels % 4 == 0, positions > 0, tile.readsByteGroups else { return nil }
        self.channels = channels; self.positions = positions; self.tile = tile
        let threads = Swift.max(1, threads)
        let most = Int8ChunkedConv.chunkBytes / channels / 32 * 32
        let share = (positions + 4 * threads - 1) / (4 * threads)
        columns = Swift.max(32, Swift.min(most, (share + 31) / 32 * 32))
    }

    public var chunks: Int { (positions + columns - 1) / columns }
    /// A full chunk's operand layout; each thread's byte image of a chunk is channels x columns.
    public var chunkLayout: Int8BLayout { Int8BLayout(k: channels, n: columns, tile: tile) }
    public var chunkPlaneBytes: Int { channels * columns }

    /// One image's conv: x (float-coded [C, positions]) to `output` ([M, positions] floats,
    /// requantized in the tiles), through `plane` (`threads` x chunkPlaneBytes), `operand`
    /// (`threads` x chunkLayout.count bytes) and `sums` (M x positions int32: the sums of K slices
    /// before the last); `halves` is only passed on (Int8Gemm.gemm's widened AVX2 operand, not read here).
    /// With `byteImage` (x's values plus `offset` as bytes, [C, positions], as Int8Patches.bytes
    /// makes them: written by x's producer), the chunks interleave those bytes and never read x.
    /// `outputBytes`: the output's byte image too (Int8Gemm.gemm).
    public func run<T: ExecScalar>(_ x: UnsafePointer<T>, offset: Int, weights: PackedInt8Weights, requantize: Int8FusedRequantization,
                                   output: UnsafeMutablePointer<Float>?, plane: UnsafeMutablePointer<UInt8>, operand: UnsafeMutablePointer<UInt8>,
                                   halves: UnsafeMutablePointer<Int16>, sums: UnsafeMutablePointer<Int32>, threads: Int,
                                   byteImage: UnsafePointer<UInt8>? = nil, outputBytes: (UnsafeMutablePointer<UInt8>, offset: Int)? = nil) {
        precondition(weights.k == channels && weights.tile == tile, "weights packed for another conv")
        let single = Int8GemmWorkspace.single, stride = chunkLayout.count, planeStride = chunkPlaneBytes
        DispatchFor.claiming(chunks, threads: Swift.max(1, Swift.min(threads, chunks))) { t, chunk in
            let j0 = chunk * columns, n = Swift.min(columns, positions - j0)
            let layout = Int8BLayout(k: channels, n: n, tile: tile), groupStride = layout.paddedN * 4
            // Sound: thread t's byte image is planeStride bytes at t * planeStride (channels x columns,
            // n <= columns used per channel), its operand stride bytes at t * stride (layout.count <= stride);
            // positions j0 ..< j0 + n of each channel of x, of sums and of the output are this chunk's.
            let words = operand + t * stride
            // Channel c's n bytes at rows + c * rowStride: the producer's byte image, or this chunk's conversion of x.
            let rows: UnsafePointer<UInt8>, rowStride: Int
            if let byteImage {
                (rows, rowStride) = (byteImage + j0, positions)
            } else {
                let bytes = plane + t * planeStride
                for c in 0..<channels {
                    Int8Patches.bytes(x + c * positions + j0, count: n, offset: offset, tile: tile, into: bytes + c * columns)
                }
                (rows, rowStride) = (UnsafePointer(bytes), columns)
            }
            Int8Patches.interleaveWords(rows, rowStride: rowStride, groups: 0..<(channels / 4), n: n, groupStride: groupStride, into: words)
            Int8Gemm.gemm(weights: weights, layout: layout, bytes: words, halves: halves, c: sums + j0,
                          ldc: positions, workspace: single, requantize: (requantize, output: output.map { $0 + j0 }, ldo: positions),
                          byteImage: outputBytes.map { ($0.0 + j0, offset: $0.offset) })
        }
    }
}
