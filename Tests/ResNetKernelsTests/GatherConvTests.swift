import Testing
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// The transposed convolution that reads its input in place (GatherConv, PackedGemm.convGather)
/// against its twin, im2col then the naive GEMM: input channels first and channels last (patch
/// rows tap-major; a 1x1's positions packed per K slice channels first, channels last read in
/// place or, on AVX2 when wide, packed too), output
/// channels first (through the transposed C) and channels last (epilogue in the tile), with and
/// without bias, residual and ReLU, on both SIMD kernel sets this CPU runs, 1-3 threads.
/// The cases reach the tile's edges: position counts that are not a multiple of its rows (6 on
/// AVX2, 7 on AVX-512; AVX2's last panel of 1 to 4 positions runs its short tile: 49, 56,
/// 1,089, 16 and 10 positions) and 49 that are seven whole AVX-512 tiles, channel
/// counts that are not a multiple of the tile's columns, K across the 256 slice (one weight
/// unit per slice and channel panel), 2^20 weights and more (threads split the channels), 1x1 convs read with no copy
/// at strides 1-3, windows that read padding, trailing rows left unread, and H and W differing.
struct GatherConvTests {
    static let cases: [ImplicitConvTests.Case] = ShiftedRowsConvTests.cases + [
        ImplicitConvTests.Case(c: 40, h: 14, w: 14, k: 1, stride: 1, pad: 0, dilation: 1, m: 70),   // 196 positions, no copy
        ImplicitConvTests.Case(c: 33, h: 13, w: 13, k: 1, stride: 2, pad: 0, dilation: 1, m: 35),   // strided, read at the stride
        ImplicitConvTests.Case(c: 300, h: 5, w: 5, k: 1, stride: 1, pad: 0, dilation: 1, m: 17),    // K 300: a slice and a partial one
        ImplicitConvTests.Case(c: 7, h: 10, w: 10, k: 1, stride: 3, pad: 0, dilation: 1, m: 32),    // trailing row and column unread
        ImplicitConvTests.Case(c: 9, h: 33, w: 33, k: 1, stride: 1, pad: 0, dilation: 1, m: 33),    // 1,089 positions: packed in two blocks
        ImplicitConvTests.Case(c: 20, h: 7, w: 7, k: 3, stride: 1, pad: 1, dilation: 1, m: 64),     // 49 positions: seven 7-row tiles, or eight 6-row and a 1-row one
        ImplicitConvTests.Case(c: 130, h: 7, w: 8, k: 1, stride: 1, pad: 0, dilation: 1, m: 40),    // 56 positions (packed channels first): eight 7-row tiles
        ImplicitConvTests.Case(c: 512, h: 5, w: 6, k: 1, stride: 1, pad: 0, dilation: 1, m: 40),    // C 512 (rows 2 KB apart) in two K slices
        // AVX2's short tile accumulating across K slices: tails of 2 and 3 positions with K past 256, pointwise and windowed.
        ImplicitConvTests.Case(c: 300, h: 4, w: 5, k: 1, stride: 1, pad: 0, dilation: 1, m: 17),    // 20 positions: a 2-position tail
        ImplicitConvTests.Case(c: 300, h: 3, w: 5, k: 1, stride: 1, pad: 0, dilation: 1, m: 17),    // 15 positions: a 3-position tail
        ImplicitConvTests.Case(c: 40, h: 5, w: 4, k: 3, stride: 1, pad: 1, dilation: 1, m: 24),     // 20 positions, K 360, read from a padded copy
        // resnet's strided downsample at a quarter of its size: 14 positions a row, each panel in one row read as
        // vectors (7-row tiles; 6-row ones partly), K past a slice. (13x13 above: its last panel's load would pass the image's end.)
        ImplicitConvTests.Case(c: 260, h: 28, w: 28, k: 1, stride: 2, pad: 0, dilation: 1, m: 40),
        // AVX2 packs a channels-last 1x1's positions from 1,024 input or 512 output channels up
        // (packsChannelsLastPointwise): four K slices and a 1-position tail; 520 output channels
        // (a half panel last); at stride 2; 2^20 weights, where each thread packs every position
        // panel for its share of the channels.
        ImplicitConvTests.Case(c: 1024, h: 5, w: 5, k: 1, stride: 1, pad: 0, dilation: 1, m: 24),
        ImplicitConvTests.Case(c: 40, h: 7, w: 5, k: 1, stride: 1, pad: 0, dilation: 1, m: 520),
        ImplicitConvTests.Case(c: 1030, h: 9, w: 9, k: 1, stride: 2, pad: 0, dilation: 1, m: 20),
        ImplicitConvTests.Case(c: 1024, h: 3, w: 4, k: 1, stride: 1, pad: 0, dilation: 1, m: 1024),
        // Packed channels last in two blocks (529 positions: 89 six-row panels, blocks of 85 on one
        // thread) with a 1-position tail; a 2-position tail with K past a slice.
        ImplicitConvTests.Case(c: 40, h: 23, w: 23, k: 1, stride: 1, pad: 0, dilation: 1, m: 512),
        ImplicitConvTests.Case(c: 1024, h: 4, w: 5, k: 1, stride: 1, pad: 0, dilation: 1, m: 24),
        // AVX2's one-row tail sums its steps four ways (p mod 4): K 301 (a slice and 45, one step
        // past a multiple of 4) and K 3 (no group of four at all), 25 and 49 positions.
        ImplicitConvTests.Case(c: 301, h: 5, w: 5, k: 1, stride: 1, pad: 0, dilation: 1, m: 20),
        ImplicitConvTests.Case(c: 3, h: 7, w: 7, k: 1, stride: 1, pad: 0, dilation: 1, m: 16),
        // AVX2's four-row tail tile: 16 positions (6 + 6 + 4) with K past a slice and a partial
        // column panel, 10 (6 + 4) with whole ones, windowed from a padded copy.
        ImplicitConvTests.Case(c: 300, h: 4, w: 4, k: 1, stride: 1, pad: 0, dilation: 1, m: 20),
        ImplicitConvTests.Case(c: 12, h: 5, w: 2, k: 3, stride: 1, pad: 1, dilation: 1, m: 32),
        // AVX2 reads a narrower channels-last 1x1 in place in blocks of 16 position panels
        // (inPlacePointwiseBlockPanels): 144 positions (24 panels: 16 + 8) with K 300 across two
        // slices, each block accumulating its own C rows; 1,089 and 196 above end in partial blocks.
        ImplicitConvTests.Case(c: 300, h: 12, w: 12, k: 1, stride: 1, pad: 0, dilation: 1, m: 40),
    ]

    @Test("source sizes, copies and offsets of resnet's transposed convs")
    func layout() throws {
        let down = try #require(ImplicitConvTests.Case(c: 512, h: 28, w: 28, k: 1, stride: 2, pad: 0, dilation: 1, m: 1024).geometry)
        let first = try #require(GatherConv(down, input: .channelsFirst))
        #expect(!first.copied && first.paddedFloats == 0 && (first.sourceH, first.sourceW) == (28, 28))
        // Position (1, 2) of the 14x14 output reads input (2, 4); channel c is a plane further.
        #expect(first.positionOffset(14 + 2) == 4 * (2 * 28 + 4))
        #expect(first.rowOffsets()[3] == 4 * 3 * 28 * 28)
        let last = try #require(GatherConv(down, input: .channelsLast))
        #expect(last.positionOffset(14 + 2) == 4 * (2 * 28 + 4) * 512 && last.rowOffsets()[3] == 12)
        // A tile's offsets at once (one division): across a row's end, the rows past the last repeating it.
        var tile = [Int](repeating: -1, count: 7)
        for (q0, rows) in [(12, 7), (190, 6), (195, 1)] {
            tile.withUnsafeMutableBufferPointer { last.positionOffsets(from: q0, rows: rows, count: 7, into: $0.baseAddress!) }
            #expect(tile == (0..<7).map { last.positionOffset(q0 + min($0, rows - 1)) }, "from \(q0), \(rows) rows")
        }
        let c3 = try #require(ImplicitConvTests.Case(c: 256, h: 14, w: 14, k: 3, stride: 1, pad: 1, dilation: 1, m: 256).geometry)
        let g3 = try #require(GatherConv(c3, input: .channelsLast))
        #expect(g3.copied && (g3.sourceH, g3.sourceW) == (16, 16) && g3.paddedFloats == 256 * 16 * 16)
        // Channels last the rows run tap-major: tap (ky 2, kx 1) of channel 5 is step 7 * 256 + 5,
        // two rows and one column on, then the channel; its weight column is the weights' 5 * 9 + 7.
        #expect(g3.rowOffsets()[7 * 256 + 5] == 4 * ((2 * 16 + 1) * 256 + 5))
        #expect(g3.patchRows()[7 * 256 + 5] == 5 * 9 + 7)
        #expect(try #require(GatherConv(c3, input: .channelsFirst)).patchRows() == Array(0..<(256 * 9)))
        // A stride-2 3x3 with padding 1 on 56x56 reads 57 x 57 of the padded input (the last row of padding never).
        let s2 = try #require(ImplicitConvTests.Case(c: 128, h: 56, w: 56, k: 3, stride: 2, pad: 1, dilation: 1, m: 128).geometry)
        let gs = try #require(GatherConv(s2, input: .channelsFirst))
        #expect(gs.copied && (gs.sourceH, gs.sourceW) == (57, 57))
        // Figures that overflow are refused, not wrapped; so are negative pads.
        let huge = ConvGeometry(channels: 1 << 30, height: 1 << 30, width: 1 << 30, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1,
                                padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, outH: 1 << 30, outW: 1 << 30)
        #expect(GatherConv(huge, input: .channelsLast) == nil)
        let strided = ConvGeometry(channels: 1, height: 3, width: 3, kernelH: 1, kernelW: 1, strideH: 1 << 62, strideW: 1, padTop: 0, padLeft: 0,
                                   dilationH: 1, dilationW: 1, outH: 1, outW: 3)
        #expect(GatherConv(strided, input: .channelsFirst) == nil)
        let negative = ConvGeometry(channels: 1, height: 5, width: 5, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padTop: -1, padLeft: 0,
                                    dilationH: 1, dilationW: 1, outH: 3, outW: 5)
        #expect(GatherConv(negative, input: .channelsFirst) == nil)
    }

    /// Which channels-last 1x1s the AVX2 set packs (the cases above rely on it): from 1,024 input
    /// or 512 output channels; AVX-512 never. And which sets prefetch weight units (a speed choice,
    /// measured per machine; results are the same either way: GatherRowsTests runs the prefetching
    /// path on its scalar sets everywhere): AVX-512 does, AVX2 does not; likewise output rows; and
    /// the blocks of an in-place channels-last 1x1.
    @Test func packingThresholds() {
        #expect(AVX512Tile.prefetchesWeightUnits && !AVX2Tile.prefetchesWeightUnits)
        #expect(AVX512Tile.prefetchesOutputRows && !AVX2Tile.prefetchesOutputRows)
        // Blocks of a channels-last 1x1 read in place: 16 panels on AVX2, the whole share on AVX-512.
        #expect(AVX2Tile.inPlacePointwiseBlockPanels == 16 && AVX512Tile.inPlacePointwiseBlockPanels == nil)
        for (c, m) in [(1024, 24), (40, 520), (1030, 20), (1024, 1024), (40, 512)] {
            #expect(AVX2Tile.packsChannelsLastPointwise(channels: c, outputChannels: m), "\(c) -> \(m)")
            #expect(!AVX512Tile.packsChannelsLastPointwise(channels: c, outputChannels: m), "AVX-512 \(c) -> \(m)")
        }
        for (c, m) in [(512, 128), (256, 256), (1023, 511)] {
            #expect(!AVX2Tile.packsChannelsLastPointwise(channels: c, outputChannels: m), "\(c) -> \(m)")
        }
    }

    @Test(arguments: cases)
    func matchesIm2colTwin(_ t: ImplicitConvTests.Case) throws {
        try check(try #require(t.geometry), m: t.m)
    }

    @Test(arguments: ShiftedRowsConvTests.asymmetric)
    func matchesIm2colTwinAcrossAxes(_ g: ConvGeometry) throws {
        try check(g, m: 37)
    }

    /// [C, P] -> [P, C].
    static func transposed(_ v: [Float], rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = v[r * columns + c] } }
        return out
    }

    func check(_ g: ConvGeometry, m: Int) throws {
        let k = g.channels * g.kernelH * g.kernelW, plane = g.outH * g.outW
        let x = SgemmTests.random(g.channels * g.height * g.width, seed: 7), wts = SgemmTests.random(m * k, seed: 8)
        let bias = SgemmTests.random(m, seed: 9), residual = SgemmTests.random(m * plane, seed: 10)
        let product = ShiftedRowsConvTests.im2colProduct(g, m: m, x: x, w: wts)
        let epilogues = [(true, false, true), (false, true, false), (true, true, true), (false, false, false)]
        for input in [ActivationLayout.channelsFirst, .channelsLast] {
            let s = try #require(GatherConv(g, input: input))
            let offsets = s.rowOffsets()
            // Every read lies within the source: the last position's window at the furthest row.
            let sourceFloats = s.copied ? s.paddedFloats : g.channels * g.height * g.width
            #expect((s.positionOffset(plane - 1) + offsets.max()!) / 4 < sourceFloats, "\(g) \(input)")
            let image = input == .channelsFirst ? x : Self.transposed(x, rows: g.channels, columns: g.height * g.width)
            for set in [KernelSet.avx2, .avx512] where set.isSupported {
                // The weights' columns in the order the product runs its patch rows.
                let ordered = wts.withUnsafeBufferPointer { s.reorderedWeights($0.baseAddress!, m: m) }
                let packed = ordered.withUnsafeBufferPointer { PackedA(a: $0.baseAddress!, lda: k, m: m, k: k, mr: set.tileColumns) }
                for output in [ActivationLayout.channelsFirst, .channelsLast] {
                    // The residual is read in the output's layout.
                    let shortcut = output == .channelsFirst ? residual : Self.transposed(residual, rows: m, columns: plane)
                    for threads in [1, 2, 3] {
                        for (useBias, useResidual, relu) in epilogues {
                            var got = [Float](repeating: .nan, count: m * plane)
                            let workspace = PackedGemmWorkspace(threads: threads, nr: set.tileColumns)
                            workspace.reserveShiftedRows(floats: max(s.paddedFloats, 1))
                            workspace.reserveTransposed(floats: m * plane)
                            // Stale values must not leak into the result: padding is rewritten per call.
                            workspace.shiftedRowsBuffer(floats: 1).update(repeating: .nan, count: max(s.paddedFloats, 1))
                            workspace.transposedC.update(repeating: .nan, count: m * plane)
                            image.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { bp in shortcut.withUnsafeBufferPointer { rp in
                                offsets.withUnsafeBufferPointer { o in got.withUnsafeMutableBufferPointer { y in
                                    let (b, r) = (useBias ? bp.baseAddress : nil, useResidual ? rp.baseAddress : nil)
                                    if set == .avx512 {
                                        SgemmAVX512.convGather(s, image: xp.baseAddress!, rowOffsets: o.baseAddress!, weights: packed, output: y.baseAddress!,
                                                               outputLayout: output, bias: b, residual: r, relu: relu, workspace: workspace)
                                    } else {
                                        SgemmAVX2.convGather(s, image: xp.baseAddress!, rowOffsets: o.baseAddress!, weights: packed, output: y.baseAddress!,
                                                             outputLayout: output, bias: b, residual: r, relu: relu, workspace: workspace)
                                    }
                                } }
                            } } }
                            if output == .channelsLast { got = Self.transposed(got, rows: plane, columns: m) }
                            let worst = ShiftedRowsConvTests.worstError(got, product: product, bias: useBias ? bias : nil,
                                                                        residual: useResidual ? residual : nil, relu: relu, plane: plane)
                            #expect(worst <= 1e-5 * Float(k) + 1e-5,
                                    "\(set) \(g) in \(input) out \(output) threads \(threads) bias \(useBias) residual \(useResidual) relu \(relu): max diff \(worst)")
                        }
                    }
                }
            }
        }
    }
}
