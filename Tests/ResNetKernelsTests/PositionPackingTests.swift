import Glibc
import Testing
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// convGather's position packing (PositionPacking): the eight-at-a-time copy of a channels-last
/// 1x1's panel against its scalar twin, at the edges of its eight-step blocks (K slices of 1, 8,
/// 9, 16, 17, 25 and 256 steps, starting past a slice's start), for panels of six and seven rows
/// with one to all rows real (the rest repeat the last, as convGather's offsets do). The source
/// ends at a page the test makes unreadable, and so do the offsets (a read of offsets[rows]
/// traps the test); a canary after the panel catches a write past kb x rows. And which copy each
/// kernel set's packPositions runs, called as convGather calls it (through the protocol).
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

    /// `count` values of T whose last one ends where an unreadable page begins; false if mmap fails.
    static func guarded<T>(_ type: T.Type, count: Int, _ body: (UnsafeMutablePointer<T>) -> Void) -> Bool {
        let page = Int(sysconf(Int32(_SC_PAGESIZE))), bytes = MemoryLayout<T>.stride * count
        let dataPages = (bytes + page - 1) / page
        guard let base = mmap(nil, (dataPages + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              base != MAP_FAILED else { return false }
        defer { munmap(base, (dataPages + 1) * page) }
        guard mprotect(base + dataPages * page, page, PROT_NONE) == 0 else { return false }
        // Sound: dataPages pages are readable and writable, and the values end at the guard page
        // (4- and 8-byte values: bytes is a multiple of their alignment, as the page is).
        body((base + dataPages * page - bytes).bindMemory(to: T.self, capacity: count))
        return true
    }

    @Test(arguments: cases)
    func vectorMatchesScalar(_ t: Case) throws {
        // Positions 0 ..< 9 of a channels-last activation with C = k0 + kb channels: position q's
        // channel c at float q * C + c. The panel reads positions 9 - real ..< 9, so its last real
        // row is the source's last; steps are the channels k0 ..< k0 + kb.
        let channels = t.k0 + t.kb, positions = 9
        let steps = (0..<t.kb).map { 4 * (t.k0 + $0) }
        let first = positions - t.real
        let rowOffsets = (0..<t.rows).map { 4 * channels * (first + min($0, t.real - 1)) }
        let length = t.kb * t.rows, canary: Float = -7.25
        var expected = [Float](repeating: canary, count: length + 8)
        var actual: [[Float]] = []
        var sourceMapped = false
        let offsetsMapped = Self.guarded(Int.self, count: t.rows) { offsets in
            offsets.update(from: rowOffsets, count: t.rows)
            sourceMapped = Self.guarded(Float.self, count: positions * channels) { source in
                for i in 0..<(positions * channels) { source[i] = Float(i % 1000) + 0.5 }
                let raw = UnsafeRawPointer(source)
                steps.withUnsafeBufferPointer { steps in
                    expected.withUnsafeMutableBufferPointer {
                        PositionPacking.scalar(source: raw, steps: steps.baseAddress!, kb: t.kb, offsets: offsets, rows: t.rows, into: $0.baseAddress!)
                    }
                    for consecutive in [true, false] {
                        var out = [Float](repeating: canary, count: length + 8)
                        out.withUnsafeMutableBufferPointer {
                            PositionPacking.vector(source: raw, steps: steps.baseAddress!, kb: t.kb, offsets: offsets, rows: t.rows,
                                                   consecutiveSteps: consecutive, into: $0.baseAddress!)
                        }
                        actual.append(out)
                    }
                }
            }
        }
        try #require(offsetsMapped && sourceMapped, "mmap or mprotect failed")
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

    /// Packs through the protocol, as convGather does.
    static func pack<K: GemmMicroKernel>(_: K.Type, source: UnsafeRawPointer, steps: UnsafePointer<Int>, kb: Int, offsets: UnsafePointer<Int>,
                                         into dst: UnsafeMutablePointer<Float>) {
        K.packPositions(source: source, steps: steps, kb: kb, offsets: offsets, consecutiveSteps: true, into: dst)
    }

    /// Which copy each set runs: told (wrongly, on purpose) that steps two floats apart are
    /// consecutive, the vector copy reads the floats between them and the scalar one does not, so
    /// the outputs tell them apart. AVX2 (which packs channels-last 1x1s) runs the vector copy; a
    /// set that keeps the default, AVX-512 (it never packs them) or a scalar one, the twin.
    @Test func eachSetRunsItsCopy() {
        let kb = 20, steps = (0..<kb).map { 8 * $0 }, source = (0..<(7 * 64)).map { Float($0) }
        let offsets = (0..<7).map { 4 * 64 * $0 }
        func packed(rows: Int, vector: Bool) -> [Float] {
            var out = [Float](repeating: 0, count: kb * rows)
            source.withUnsafeBytes { raw in
                if vector {
                    PositionPacking.vector(source: raw.baseAddress!, steps: steps, kb: kb, offsets: offsets, rows: rows, consecutiveSteps: true, into: &out)
                } else {
                    PositionPacking.scalar(source: raw.baseAddress!, steps: steps, kb: kb, offsets: offsets, rows: rows, into: &out)
                }
            }
            return out
        }
        #expect(packed(rows: 6, vector: true) != packed(rows: 6, vector: false))
        func through<K: GemmMicroKernel>(_ k: K.Type) -> [Float] {
            var out = [Float](repeating: 0, count: kb * K.gatherRows)
            source.withUnsafeBytes { raw in Self.pack(k, source: raw.baseAddress!, steps: steps, kb: kb, offsets: offsets, into: &out) }
            return out
        }
        if KernelSet.avx2.isSupported { #expect(through(AVX2Tile.self) == packed(rows: 6, vector: true)) }
        if KernelSet.avx512.isSupported { #expect(through(AVX512Tile.self) == packed(rows: 7, vector: false)) }
        #expect(through(ScalarTile<SixRows>.self) == packed(rows: 6, vector: false))
    }
}
