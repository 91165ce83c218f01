/// Winograd between channels-last activations, with the transforms' lanes over channels
/// (issue 11).
///
/// The tile-lane transforms (Winograd.transformInput/Output) put `lanes` tiles of one tile
/// row in a vector: channels last, each of those values is gathered (or scattered) a float
/// at a time, C floats apart, and a 14x14 output has 7 tiles per row, so a 16-lane vector is
/// 7/16 full. Here a vector holds `lanes` consecutive channels of one position, which
/// channels last are contiguous: every load and store is a whole vector, and every lane is
/// used when C and M are multiples of the lane count (the planner's condition).
///
/// Layouts, for a run of T tiles (tile t = ty * tilesWide + tx of one image):
/// - V [(s+2)²][T, C]: xi plane, then one row of C channels per tile;
/// - Mᵀ [(s+2)²][T, M] likewise, each xi plane the product V_xi · U_xiᵀ, which is a pointwise
///   conv over T positions channels last (PackedGemm.convGather: tiles as the tile's rows,
///   read in place, no transposition either side).
extension Winograd {
    /// x [H, W, C] -> rows 0 ..< tiles.count of V (xi planes `xiStride` floats apart, rows C
    /// floats long) for tiles `tiles` of this image; zeros where a tile reads padding. C is a
    /// multiple of L.width.
    @inlinable
    public static func transformInputChannelsLast<S: WinogradShape, L: WinogradLanes>(_: S.Type, _: L.Type, _ x: UnsafePointer<Float>, _ g: ConvGeometry,
                                                                                     tiles: Range<Int>, v: UnsafeMutablePointer<Float>, xiStride: Int) {
        let tc = self.tiles(S.self, g).cols, c = g.channels
        precondition(c % L.width == 0 && xiStride >= tiles.count * c, "channel-lane transform: C \(c) in lanes of \(L.width), xi planes \(xiStride) floats")
        let zero = L(loading: [Float](repeating: 0, count: L.width))
        withUnsafeTemporaryAllocation(of: L.self, capacity: 3 * 36) { buffer in
            let step = S.step, span = S.step + 2  // constants inside the closure (see transformInput)
            let d = buffer.baseAddress!, t = d + 36, o = d + 72  // span x span each
            for tile in tiles {
                let (ty, tx) = tile.quotientAndRemainder(dividingBy: tc)
                let iy0 = ty * step - g.padTop, ix0 = tx * step - g.padLeft
                let out = v + (tile - tiles.lowerBound) * c
                var cb = 0
                while cb < c {
                    // d: the tile's span x span input positions, lanes = channels cb ..< cb + width.
                    for i in 0..<span {
                        let iy = iy0 + i
                        for j in 0..<span {
                            let ix = ix0 + j
                            // Sound: (iy, ix) inside the image, so its channels cb ..< cb + width lie in x.
                            d[i * span + j] = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width
                                ? L(loading: x + (iy * g.width + ix) * c + cb) : zero
                        }
                    }
                    // Bᵀ d column by column, then (Bᵀ d) B row by row: element (r, c) is V_(span r + c).
                    for j in 0..<span { S.input(d + j, span, t + j, span) }
                    for r in 0..<span { S.input(t + r * span, 1, o + r * span, 1) }
                    // Sound: row (tile - first) of each xi plane holds C floats and xiStride >= tiles.count * C.
                    for xi in 0..<(span * span) { o[xi].store(to: out + xi * xiStride + cb) }
                    cb += L.width
                }
            }
        }
    }

    /// Rows 0 ..< tiles.count of Mᵀ (xi planes `xiStride` floats apart, rows M floats long) ->
    /// y [Ho, Wo, M] for tiles `tiles` of this image: Aᵀ M A, + bias[m], + residual (y's layout),
    /// ReLU; tiles cropped at the bottom and right edges. M is a multiple of L.width.
    @inlinable
    public static func transformOutputChannelsLast<S: WinogradShape, L: WinogradLanes>(_: S.Type, _: L.Type, _ mt: UnsafePointer<Float>, _ g: ConvGeometry,
                                                                                      m: Int, tiles: Range<Int>, xiStride: Int, bias: UnsafePointer<Float>?,
                                                                                      residual: UnsafePointer<Float>?, relu: Bool,
                                                                                      into y: UnsafeMutablePointer<Float>) {
        let tc = self.tiles(S.self, g).cols
        precondition(m % L.width == 0 && xiStride >= tiles.count * m, "channel-lane transform: M \(m) in lanes of \(L.width), xi planes \(xiStride) floats")
        let zero = L(loading: [Float](repeating: 0, count: L.width))
        withUnsafeTemporaryAllocation(of: L.self, capacity: 36 + 24 + 4) { buffer in
            let step = S.step, span = S.step + 2  // constants inside the closure (see transformInput)
            let mv = buffer.baseAddress!, s = mv + 36, yv = s + 24  // span x span, step x span, step
            for tile in tiles {
                let (ty, tx) = tile.quotientAndRemainder(dividingBy: tc)
                let row = mt + (tile - tiles.lowerBound) * m
                var mb = 0
                while mb < m {
                    // Sound: row (tile - first) of each xi plane holds M floats and xiStride >= tiles.count * M.
                    for xi in 0..<(span * span) { mv[xi] = L(loading: row + xi * xiStride + mb) }
                    // Aᵀ M column by column: step x span.
                    for col in 0..<span { S.output(mv + col, span, s + col, span) }
                    // Sound: bias holds M floats (the conv's), so mb ..< mb + width is inside.
                    let b = bias.map { L(loading: $0 + mb) } ?? zero
                    for a in 0..<step {
                        let oy = ty * step + a
                        guard oy < g.outH else { break }
                        // (Aᵀ M) A, row a: step outputs, each a vector of channels.
                        S.output(s + a * span, 1, yv, 1)
                        for q in 0..<step {
                            let ox = tx * step + q
                            guard ox < g.outW else { break }
                            let at = (oy * g.outW + ox) * m + mb
                            var value = yv[q] + b
                            // Sound: (oy, ox) is an output position, so its channels mb ..< mb + width lie in y (and the residual).
                            if let residual { value = value + L(loading: residual + at) }
                            (relu ? value.clampedAtZero() : value).store(to: y + at)
                        }
                    }
                    mb += L.width
                }
            }
        }
    }
}

extension WinogradTile {
    /// Winograd.transformInputChannelsLast for this tile on lanes L. Inlinable: each kernel set
    /// calls it with its own lanes, so it is compiled at that set's instruction level.
    @inlinable
    public func transformInputChannelsLast<L: WinogradLanes>(_: L.Type, _ x: UnsafePointer<Float>, _ g: ConvGeometry, tiles: Range<Int>,
                                                            v: UnsafeMutablePointer<Float>, xiStride: Int) {
        switch self {
        case .f2x2: Winograd.transformInputChannelsLast(WinogradF2x2.self, L.self, x, g, tiles: tiles, v: v, xiStride: xiStride)
        case .f3x3: Winograd.transformInputChannelsLast(WinogradF3x3.self, L.self, x, g, tiles: tiles, v: v, xiStride: xiStride)
        case .f4x4: Winograd.transformInputChannelsLast(WinogradF4x4.self, L.self, x, g, tiles: tiles, v: v, xiStride: xiStride)
        }
    }

    /// Winograd.transformOutputChannelsLast for this tile on lanes L (see transformInputChannelsLast).
    @inlinable
    public func transformOutputChannelsLast<L: WinogradLanes>(_: L.Type, _ mt: UnsafePointer<Float>, _ g: ConvGeometry, m: Int, tiles: Range<Int>,
                                                             xiStride: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                                             relu: Bool, into y: UnsafeMutablePointer<Float>) {
        switch self {
        case .f2x2:
            Winograd.transformOutputChannelsLast(WinogradF2x2.self, L.self, mt, g, m: m, tiles: tiles, xiStride: xiStride, bias: bias,
                                                 residual: residual, relu: relu, into: y)
        case .f3x3:
            Winograd.transformOutputChannelsLast(WinogradF3x3.self, L.self, mt, g, m: m, tiles: tiles, xiStride: xiStride, bias: bias,
                                                 residual: residual, relu: relu, into: y)
        case .f4x4:
            Winograd.transformOutputChannelsLast(WinogradF4x4.self, L.self, mt, g, m: m, tiles: tiles, xiStride: xiStride, bias: bias,
                                                 residual: residual, relu: relu, into: y)
        }
    }
}
