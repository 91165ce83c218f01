import Testing
import ResNetKernelsReference

/// ConvPatchesB's pointwise packer (a table of column offsets) against its twin, the
/// run-by-run packer every window takes: the same panels, bit for bit, for strides 1-3,
/// output rows shorter and longer than a panel, calls that start and end mid-row, K slices
/// that start past channel 0, panel widths 6, 7, 16 and 32, and blocks past the table's
/// 512 columns. And which geometries take it: a 1x1 that never reads padding, no other.
struct ConvPatchesTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let c: Int, h: Int, w: Int, stride: Int
        var strideW: Int? = nil
        var testDescription: String { "C\(c) \(h)x\(w) s\(stride)" + (strideW.map { "x\($0)" } ?? "") }
        var geometry: ConvGeometry {
            let sw = strideW ?? stride
            return ConvGeometry(channels: c, height: h, width: w, kernelH: 1, kernelW: 1, strideH: stride, strideW: sw,
                                padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: (h - 1) / stride + 1, outW: (w - 1) / sw + 1)
        }
    }

    static let cases: [Case] = [
        Case(c: 5, h: 56, w: 56, stride: 2),   // 28-wide output rows against 32-lane panels
        Case(c: 4, h: 14, w: 14, stride: 2),   // 7-wide rows: several per panel
        Case(c: 3, h: 17, w: 19, stride: 2),   // odd sizes: the last row and column read
        Case(c: 6, h: 9, w: 31, stride: 3),
        Case(c: 2, h: 40, w: 45, stride: 1),   // 45 x 40 = 1,800 columns: blocks past the table
        Case(c: 3, h: 70, w: 66, stride: 2),   // 33 x 35 = 1,155 columns
        Case(c: 4, h: 20, w: 27, stride: 2, strideW: 3),  // strides differ: rows 2 apart, columns 3
        Case(c: 6, h: 20, w: 20, stride: 3, strideW: 1),
    ]

    #if compiler(>=6.2) && os(Linux)
    @Test(arguments: cases)
    func pointwiseMatchesWindowsTwin(_ t: Case) throws {
        let g = t.geometry
        ConvPatchesTests.withImage(t) { #expect(ConvPatchesB(x: $0, g: g).readsWithoutPadding) }
        let n = g.outH * g.outW
        // (k0, kb) slices and (n0, nb) column ranges: whole, from mid-row, a few columns, one.
        let slices = [(0, t.c), (1, t.c - 1), (t.c - 1, 1)]
        let ranges = [(0, n), (g.outW / 2 + 1, n - g.outW / 2 - 1), (3, min(n - 3, 45)), (n - 1, 1)]
        for nr in [6, 7, 16, 32] {
            for (k0, kb) in slices where kb > 0 {
                for (n0, nb) in ranges where nb > 0 {
                    // nr floats of slack past the panels, which neither packer may touch.
                    let floats = kb * ((nb + nr - 1) / nr * nr)
                    var fast = [Float](repeating: .nan, count: floats + nr), twin = [Float](repeating: -.nan, count: floats + nr)
                    ConvPatchesTests.withImage(t) { x in
                        let b = ConvPatchesB(x: x, g: g)
                        fast.withUnsafeMutableBufferPointer { b.packPointwise(k0: k0, kb: kb, n0: n0, nb: nb, nr: nr, into: $0.baseAddress!) }
                        twin.withUnsafeMutableBufferPointer { b.packWindows(k0: k0, kb: kb, n0: n0, nb: nb, nr: nr, into: $0.baseAddress!) }
                    }
                    let differing = zip(fast[..<floats], twin[..<floats]).filter { $0.bitPattern != $1.bitPattern }.count
                    #expect(differing == 0, "\(t) nr \(nr) k0 \(k0) kb \(kb) n0 \(n0) nb \(nb): \(differing) of \(floats) floats differ")
                    let slack = Float.nan.bitPattern
                    #expect(fast[floats...].allSatisfy { $0.bitPattern == slack }, "\(t) nr \(nr): packPointwise wrote past its panels")
                }
            }
        }
    }

    #endif

    /// Only a 1x1 whose every column reads inside the image takes the table; padding (begin
    /// or end) and windows go run by run.
    @Test func takesOnlyUnpaddedPointwise() {
        func geometry(k: Int, pad: Int, out: Int, outW: Int? = nil, stride: Int = 2) -> ConvGeometry {
            ConvGeometry(channels: 1, height: 8, width: 8, kernelH: k, kernelW: k, strideH: stride, strideW: stride,
                         padTop: pad, padLeft: pad, dilationH: 1, dilationW: 1, outH: out, outW: outW ?? out)
        }
        let x = UnsafeMutablePointer<Float>.allocate(capacity: 64)
        defer { x.deallocate() }
        #expect(ConvPatchesB(x: x, g: geometry(k: 1, pad: 0, out: 4)).readsWithoutPadding)
        #expect(!ConvPatchesB(x: x, g: geometry(k: 1, pad: 1, out: 5)).readsWithoutPadding)
        #expect(!ConvPatchesB(x: x, g: geometry(k: 1, pad: 0, out: 5)).readsWithoutPadding)  // end padding: row 8 read
        #expect(!ConvPatchesB(x: x, g: geometry(k: 1, pad: 0, out: 5, outW: 4)).readsWithoutPadding)  // below only
        #expect(!ConvPatchesB(x: x, g: geometry(k: 1, pad: 0, out: 4, outW: 5)).readsWithoutPadding)  // right only
        #expect(!ConvPatchesB(x: x, g: geometry(k: 3, pad: 0, out: 3)).readsWithoutPadding)
        #expect(!ConvPatchesB(x: x, g: geometry(k: 1, pad: 0, out: 0)).readsWithoutPadding)
        // A plane of 2^31 floats or more: offsets past Int32 (the predicate reads only the geometry).
        let huge = ConvGeometry(channels: 1, height: 1 << 16, width: 1 << 15, kernelH: 1, kernelW: 1, strideH: 2, strideW: 2,
                                padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 1 << 15, outW: 1 << 14)
        #expect(!ConvPatchesB(x: x, g: huge).readsWithoutPadding)
        let justBelow = ConvGeometry(channels: 1, height: (1 << 16) - 1, width: 1 << 15, kernelH: 1, kernelW: 1, strideH: 2, strideW: 2,
                                     padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 1 << 15, outW: 1 << 14)
        #expect(ConvPatchesB(x: x, g: justBelow).readsWithoutPadding)
    }

    /// A distinct value per element (channel, row, column), so a misplaced read shows.
    static func withImage(_ t: Case, _ body: (UnsafePointer<Float>) -> Void) {
        let values = (0..<(t.c * t.h * t.w)).map { Float($0) + 0.5 }
        values.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
