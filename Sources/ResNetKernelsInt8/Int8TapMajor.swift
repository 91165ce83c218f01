import CInt8Tiles
import ResNetKernelsReference

/// The integer GEMM's B operand built tap-major, by copying whole words (issue 11, int8).
///
/// Both SIMD tiles read B in 4-byte words: VNNI a word of 4 uint8 (4 consecutive k), AVX2 a
/// word of 2 int16 (2 consecutive k). With the patch rows in the weights' own order
/// (c, ky, kx), a word's k values are taps of one channel, each from a different place in
/// the image, so `Int8Patches.scatter` wrote B a byte (or an int16) at a time: resnet50's
/// int8 run spent a quarter of its time there, more than half as long as in the tile.
/// Ordered tap-major instead ((ky, kx, c), c fastest), a word is `step` channels of one tap
/// at one position. The image is interleaved into words once ([C / step, H, W] words, one
/// pass), and each (tap, channel group) row of B, output row by output row, is a run of
/// those words: one copy at stride 1, a word at a time at other strides, pad words where
/// the window leaves the image. The weights' columns are reordered to match once, at plan
/// time; the int32 sums are the same sums in another order, so the results are exact.
///
/// Channels that do not fill the last word (the stem's 3 on VNNI) are padded with channels
/// whose weights are 0 and whose values are the input's zero point: each then adds
/// (zp - zp) · (0 - wzp) = 0 to the centred sum, and with K counted as the padded K
/// (`k`, which the requantization must use) the zero-point terms cancel exactly too.
///
/// x is one image (one group) of `g`, channels first, float-coded (as Int8Patches.unfold).
public struct Int8TapMajor: Sendable, Equatable {
    public let g: ConvGeometry
    public let tile: Int8Tile

    /// Channels per word: 4 (VNNI) or 2 (AVX2).
    public var step: Int { tile.kStep }
    /// Channels rounded up to whole words.
    public var paddedChannels: Int { (g.channels + step - 1) / step * step }
    /// Channel groups (words per position).
    public var groups: Int { paddedChannels / step }
    public var taps: Int { g.kernelH * g.kernelW }
    /// The operand's K: taps x padded channels (the layout's, the packed weights' and the requantization's).
    public var k: Int { taps * paddedChannels }
    /// Bytes of the converted image (padded channels x H x W), the plane `build` reads.
    public var planeBytes: Int { paddedChannels * g.height * g.width }
    /// Words of the interleaved image (groups x groupWords), the scratch `build` needs, and 16 more: a
    /// margin for a tile reading a pointwise conv's B in place (Int8ChunkedConv.readsInPlace),
    /// whose last panel would read up to 15 words past the last group's row were its conditions
    /// relaxed to chunks of N not a multiple of 8 (as they stand, no read passes the image).
    public var wordCount: Int { groups * groupWords + 16 }

    /// Whether the image's words are kept as its four stride-2 phases (a conv of stride 2 both ways on
    /// a tile of byte groups): phase (py, px), rows py, py + 2, ... and columns px, px + 2, ..., a
    /// phaseH x phaseW plane (rt_interleave4_phases), so each tap reads one phase at stride 1: a copy a
    /// row (a plane where outW = phaseW, as in resnet's), where it gathered every other word of the
    /// whole image a row at a time, reading twice the words it wrote. Not a 1x1 (one tap, one phase:
    /// resnet50-qop's stride-2 downsamples, 1 thread, 8 rounds, minima, ran 0.515-0.608 -> 0.546-0.647
    /// ms phased, writing three phases it never read).
    public var phased: Bool { tile.readsByteGroups && g.strideH == 2 && g.strideW == 2 && taps > 1 }
    public var phaseH: Int { (g.height + 1) / 2 }
    public var phaseW: Int { (g.width + 1) / 2 }
    /// Words of one channel group's image: H x W, or its four phases.
    public var groupWords: Int { phased ? 4 * phaseH * phaseW : g.height * g.width }

    /// The tap-major plan of `g` on `tile`, or nil where it does not apply: the reference
    /// twin; a VNNI pointwise conv with whole words of channels (its B already is the
    /// interleaved image: Int8Patches.unfold); one or two channels that do not fill a word
    /// (a depthwise conv's group: padding would double or quadruple its work); a figure
    /// outside 1 ..< 2^31 (pads 0 ..< 2^31), so each product of two fits an Int; or an image
    /// or operand whose byte count overflows.
    public init?(_ g: ConvGeometry, tile: Int8Tile) {
        guard tile != .reference, !(tile.readsByteGroups && g.isPointwise && g.channels % 4 == 0),
              g.channels % tile.kStep == 0 || g.channels >= 3 else { return nil }
        guard g.figuresFit31Bits else { return nil }
        let (area, o1) = g.height.multipliedReportingOverflow(by: g.width)
        let channels = (g.channels + tile.kStep - 1) / tile.kStep * tile.kStep
        let (image, o2) = area.multipliedReportingOverflow(by: channels)
        let (taps, o3) = g.kernelH.multipliedReportingOverflow(by: g.kernelW)
        let (k, o4) = taps.multipliedReportingOverflow(by: channels)
        let (positions, o5) = g.outH.multipliedReportingOverflow(by: g.outW)
        let (operand, o6) = k.multipliedReportingOverflow(by: positions)
        // The phases' planes (phased) round H and W up to even: (H + 1) x (W + 1) words a group at most.
        let (phases, o7) = (g.height + 1).multipliedReportingOverflow(by: g.width + 1)
        let (phaseWords, o8) = phases.multipliedReportingOverflow(by: channels)
        guard !(o1 || o2 || o3 || o4 || o5 || o6 || o7 || o8), !image.multipliedReportingOverflow(by: 4).overflow,
              !phaseWords.multipliedReportingOverflow(by: 4).overflow, !operand.multipliedReportingOverflow(by: 4).overflow else { return nil }
        self.g = g
        self.tile = tile
    }

    /// Weights W [M, C * kh * kw] (columns (c, ky, kx)) as [M, k] with their columns tap-major
    /// ((ky, kx, c) over the padded channels; 0 for a padding channel).
    public func reorderedWeights(_ w: UnsafePointer<Int8>, m: Int) -> [Int8] {
        let taps = self.taps, c = g.channels, cp = paddedChannels, k = self.k, kIn = taps * c
        var out = [Int8](repeating: 0, count: m * k)
        for i in 0..<m {
            for tap in 0..<taps { for ch in 0..<c { out[i * k + tap * cp + ch] = w[i * kIn + ch * taps + tap] } }
        }
        return out
    }

    /// Writes B's rows for channel groups `groupRange` (every tap), from `plane` (the image as
    /// bytes, planeBytes: these groups' real channels already converted, their padding channels
    /// written here) through `words` (this plan's interleaved image, wordCount words), into
    /// `operand` (B as words: row r of B's groups at r * layout.paddedN; `layout` is for `k` in
    /// tap-major order). Distinct groups touch distinct planes, words and rows: threads may
    /// build disjoint ranges at once.
    public func build(plane: UnsafeMutablePointer<UInt8>, groups groupRange: Range<Int>, pad: UInt8, layout: Int8BLayout,
                      words: UnsafeMutablePointer<UInt32>, operand: UnsafeMutableRawPointer) {
        interleave(plane: plane, groups: groupRange, pad: pad, words: words)
        copyRows(groups: groupRange, outputRows: 0..<g.outH, pad: pad, layout: layout, words: words, operand: operand)
    }

    /// The first half of `build`: groups `groupRange` of the image as words (their padding channels' planes first).
    public func interleave(plane: UnsafeMutablePointer<UInt8>, groups groupRange: Range<Int>, pad: UInt8, words: UnsafeMutablePointer<UInt32>) {
        let area = g.height * g.width
        // Padding channels (in the last group only) hold the zero point.
        let realEnd = min(g.channels, groupRange.upperBound * step), padEnd = groupRange.upperBound * step
        if realEnd < padEnd { (plane + realEnd * area).update(repeating: pad, count: (padEnd - realEnd) * area) }
        // The image's words for these groups: one pass per group over its `step` planes.
        for q in groupRange {
            let r = plane + q * step * area, out = words + q * groupWords
            if phased {
                // Sound: the four planes hold `area` bytes each; the group's words, groupWords (its four phases).
                rt_interleave4_phases(r, r + area, r + 2 * area, r + 3 * area, g.height, g.width, phaseH, phaseW, out)
            } else if tile.readsByteGroups {
                // Sound: the four planes hold `area` bytes each; the group's words, `area` words (4 x area bytes),
                // handed to C as bytes (the words are only ever read back through C-written memory as UInt32).
                rt_interleave4_avx2(r, r + area, r + 2 * area, r + 3 * area, area, UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt8.self))
            } else {
                // Sound: the two planes hold `area` bytes each; the group's words, `area` words.
                rt_widen_pairs_avx2(r, r + area, area, out)
            }
        }
    }

    /// The second half of `build`: output rows `outputRows` of B's rows for groups `groupRange`
    /// (every tap), from `words` (those groups interleaved). Distinct groups or distinct output
    /// rows write distinct words of B: threads may copy disjoint ranges of either at once.
    /// Position q of the conv is B's column q - columnOrigin: the whole operand (origin 0), or a
    /// chunk of output rows in an operand of its own (origin its first position, `layout.n` its
    /// positions). The last rows of `layout` zero its columns past N.
    public func copyRows(groups groupRange: Range<Int>, outputRows: Range<Int>, pad: UInt8, layout: Int8BLayout,
                         words: UnsafeMutablePointer<UInt32>, operand: UnsafeMutableRawPointer, columnOrigin: Int = 0) {
        precondition(layout.k == k && layout.tile == tile, "operand laid out for another conv")
        precondition(outputRows.lowerBound >= 0 && outputRows.upperBound <= g.outH, "output rows outside the conv's")
        let end = outputRows.upperBound * g.outW - columnOrigin
        precondition(outputRows.lowerBound * g.outW >= columnOrigin && end <= layout.n, "output rows outside the operand's columns")
        let n = layout.n, paddedN = layout.paddedN, groupWords = self.groupWords
        // `pad` (the input's zero point) in each lane: a padded cell then contributes (zp - zp) · w = 0.
        let padWord = tile.readsByteGroups ? UInt32(pad) &* 0x0101_0101 : UInt32(pad) | UInt32(pad) << 16
        // B is written through raw stores: its buffer is typed for the tile (UInt8 or Int16), a word is 4 bytes of it.
        @inline(__always) func fill(_ at: UnsafeMutableRawPointer, _ count: Int, _ word: UInt32) {
            for i in 0..<count { at.storeBytes(of: word, toByteOffset: 4 * i, as: UInt32.self) }
        }
        guard !groupRange.isEmpty else { return }
        let unstrided = g.strideW == 1 && g.strideH == 1 && g.outW == g.width
        for ky in 0..<g.kernelH {
            for kx in 0..<g.kernelW {
                let tap = ky * g.kernelW + kx
                var shift = kx * g.dilationW - g.padLeft, dy = ky * g.dilationH - g.padTop
                let valid = g.validColumns(kx: kx), lo = valid.lowerBound, hi = valid.upperBound
                // Phased: input row 2 oy + dy and column 2 ox + shift lie in phase (py, px), the parities of dy and
                // shift, at row oy + (dy - py) / 2 and column ox + (shift - px) / 2 of it; rows of that parity:
                // (H - py + 1) / 2. The valid columns are the same cells (validColumns).
                let py = phased ? (dy % 2 + 2) % 2 : 0, px = phased ? (shift % 2 + 2) % 2 : 0
                if phased { dy = (dy - py) / 2; shift = (shift - px) / 2 }
                let (rowWidth, rowCount, strideH, strideW) = phased ? (phaseW, (g.height - py + 1) / 2, 1, 1) : (g.width, g.height, g.strideH, g.strideW)
                // Sound: row tap * groups + q of B holds paddedN words (layout: K = taps x C, step channels a word),
                // rows q in groupRange paddedN words apart; the output rows' outW words each are B's columns
                // from outputRows.lowerBound x outW - columnOrigin on (the checks above); group q's image is
                // groupWords words from q x groupWords; for ox in lo ..< hi of a row whose input row iy lies in
                // 0 ..< height, iy x width + ox x strideW + shift lies in 0 ..< area (lo, hi: validColumns).
                // Phased, the same cell is row iy' = oy + dy' (< rowCount: a row of that parity) and column
                // ox + shift' (< phaseW, as the cell lies in the image) of its phase's phaseH x phaseW plane.
                // rt_shifted_planes (outW = rowWidth, rows x rowWidth words a group) copies one span a
                // group, from its first valid cell to its last: inside the image (or phase), as both ends are.
                let row = operand + 4 * (tap * groups + groupRange.lowerBound) * paddedN
                let image = UnsafePointer(words + groupRange.lowerBound * groupWords + (2 * py + px) * phaseH * phaseW)
                let first = (row + 4 * (outputRows.lowerBound * g.outW - columnOrigin)).assumingMemoryBound(to: UInt32.self)
                // One copy a group where output rows are the image's (or its phase's) rows (phased convs have stride 2: never unstrided).
                if unstrided || (phased && g.outW == phaseW) {
                    rt_shifted_planes(image, groupWords, rowWidth, rowCount, groupRange.count, outputRows.lowerBound, outputRows.count, dy,
                                      shift, lo, hi, padWord, first, paddedN)
                } else {
                    rt_tap_rows(image, groupWords, rowWidth, rowCount, groupRange.count, outputRows.lowerBound, outputRows.count, strideH, dy,
                                g.outW, lo, hi, strideW, shift, padWord, first, paddedN)
                }
                // Columns past N to the tile's width: zero, as the channel-major operand has them (by the last rows' part).
                if end == n {
                    for q in 0..<groupRange.count { fill(row + 4 * (q * paddedN + n), paddedN - n, 0) }
                }
            }
        }
    }
}
