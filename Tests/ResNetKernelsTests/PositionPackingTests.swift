import Glibc
import Testing
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// convGather's position packing (PositionPacking): the eight-at-a-time copy of a channels-last
/// 1x1's panel against its scalar twin, at the edges of its eight-step blocks (K slices of 1, 8,
/// 9, 16, 17 and 256 steps, starting past a slice's start), for panels of six and seven rows
/// with one to all rows real (the rest repeat the last, as convGather's offsets do). The source
/// ends at a page the test makes unreadable, so a read past the last position's row traps the
/// test; a canary after the panel catches a write past kb x rows.
struct PositionPackingTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let rows: Int, real: Int, k0: Int, kb: Int
        var testDescription: String { "\(rows) rows (\(real) real), steps \(k0) ..< \(k0 + kb)" }
    }

    static let cases: [Case] = [6, 7].flatMap { rows in
        [(1, 0, 1), (rows, 0, 8), (rows, 3, 9), (2, 0, 16), (rows, 5, 17), (rows - 1, 0, 25), (rows, 0, 256), (1, 256, 256)].map {
            Case(rows: rows, real: $0.0, k0: $0.1, kb: $0.2)
        }
    }

    /// `floats` floats whose last one ends where an unreadable page begins; nil if mmap fails.
    static func guarded(floats: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> Bool {
        let page = Int(sysconf(Int32(_SC_PAGESIZE))), bytes = 4 * floats
        let dataPages = (bytes + page - 1) / page
        guard let base = mmap(nil, (dataPages + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              base != MAP_FAILED else { return false }
        defer { munmap(base, (dataPages + 1) * page) }
        guard mprotect(base + dataPages * page, page, PROT_NONE) == 0 else { return false }
        // Sound: dataPages pages are readable and writable, and the floats end at the guard page.
        body((base + dataPages * page - bytes).assumingMemoryBound(to: Float.self))
        return true
    }

    @Test(arguments: cases)
    func vectorMatchesScalar(_ t: Case) throws {
        // Positions 0 ..< 9 of a channels-last activation with C = k0 + kb channels: position q's
        // channel c at float q * C + c. The panel reads positions 9 - real ..< 9, so its last real
        // row is the source's last; steps are the channels k0 ..< k0 + kb.
        let channels = t.k0 + t.kb, positions = 9
        var steps = (0..<t.kb).map { 4 * (t.k0 + $0) }
        let first = positions - t.real
        var offsets = (0..<t.rows).map { 4 * channels * (first + min($0, t.real - 1)) }
        let length = t.kb * t.rows, canary: Float = -7.25
        var expected = [Float](repeating: canary, count: length + 8)
        var actual: [[Float]] = []
        let mapped = Self.guarded(floats: positions * channels) { source in
            for i in 0..<(positions * channels) { source[i] = Float(i % 1000) + 0.5 }
            let raw = UnsafeRawPointer(source)
            expected.withUnsafeMutableBufferPointer {
                PositionPacking.scalar(source: raw, steps: &steps, kb: t.kb, offsets: &offsets, rows: t.rows, into: $0.baseAddress!)
            }
            for consecutive in [true, false] {
                var out = [Float](repeating: canary, count: length + 8)
                out.withUnsafeMutableBufferPointer {
                    PositionPacking.vector(source: raw, steps: &steps, kb: t.kb, offsets: &offsets, rows: t.rows,
                                           consecutiveSteps: consecutive, into: $0.baseAddress!)
                }
                actual.append(out)
            }
        }
        try #require(mapped, "mmap or mprotect failed")
        // The twin's own layout: step p, row i is position first + min(i, real - 1)'s channel k0 + p.
        for p in 0..<t.kb {
            for i in 0..<t.rows {
                let q = first + min(i, t.real - 1)
                #expect(expected[p * t.rows + i] == Float((q * channels + t.k0 + p) % 1000) + 0.5)
            }
        }
        #expect(expected[length...].allSatisfy { $0 == canary })
        for out in actual { #expect(out == expected) }
    }

    /// convGather on each SIMD set this CPU runs reaches the vector copy with the packed layout the
    /// tile reads (GatherConvTests covers the whole conv); here the set's own entry point is the
    /// vector one, not the scalar default.
    @Test func simdSetsPackAsTheTwin() throws {
        var steps = (0..<40).map { 4 * $0 }, offsets = (0..<7).map { 4 * 40 * $0 }
        let source = (0..<(7 * 40)).map { Float($0) }
        var expected = [Float](repeating: 0, count: 7 * 40), avx2 = expected, avx512 = expected
        source.withUnsafeBytes { raw in
            PositionPacking.scalar(source: raw.baseAddress!, steps: &steps, kb: 40, offsets: &offsets, rows: 6, into: &expected)
            if KernelSet.avx2.isSupported {
                AVX2Tile.packPositions(source: raw.baseAddress!, steps: &steps, kb: 40, offsets: &offsets, consecutiveSteps: true, into: &avx2)
                #expect(avx2.prefix(6 * 40).elementsEqual(expected.prefix(6 * 40)))
            }
            PositionPacking.scalar(source: raw.baseAddress!, steps: &steps, kb: 40, offsets: &offsets, rows: 7, into: &expected)
            if KernelSet.avx512.isSupported {
                AVX512Tile.packPositions(source: raw.baseAddress!, steps: &steps, kb: 40, offsets: &offsets, consecutiveSteps: true, into: &avx512)
                #expect(avx512 == expected)
            }
        }
    }
}
