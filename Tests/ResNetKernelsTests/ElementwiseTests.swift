import Testing
import ResNetKernels
import ResNetKernelsReference

/// SIMD elementwise kernels against their scalar twins around the 8-lane edge.
struct ElementwiseTests {
    static let counts = [0, 1, 7, 8, 9, 15, 16, 17, 1000]

    static func values(_ n: Int, _ seed: Float) -> [Float] { (0..<n).map { Float($0 % 13) * 0.37 - 2.1 + seed } }

    @Test(arguments: counts)
    func addAndRelu(_ n: Int) {
        let a = Self.values(n, 0.3), b = Self.values(n, -0.8)
        for relu in [false, true] {
            var fast = [Float](repeating: 9, count: n + 3), slow = fast
            a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in
                fast.withUnsafeMutableBufferPointer { Elementwise.add(a.baseAddress ?? .init(bitPattern: 4)!, b.baseAddress ?? .init(bitPattern: 4)!, $0.baseAddress!, count: n, relu: relu) }
                slow.withUnsafeMutableBufferPointer { ElementwiseReference.add(a.baseAddress ?? .init(bitPattern: 4)!, b.baseAddress ?? .init(bitPattern: 4)!, $0.baseAddress!, count: n, relu: relu) }
            } }
            #expect(fast == slow, "n \(n) relu \(relu)")
            #expect(fast[n...].allSatisfy { $0 == 9 }, "wrote past the end")
        }
        var fast = [Float](repeating: 9, count: n + 1), slow = fast
        a.withUnsafeBufferPointer { a in
            fast.withUnsafeMutableBufferPointer { Elementwise.relu(a.baseAddress ?? .init(bitPattern: 4)!, $0.baseAddress!, count: n) }
            slow.withUnsafeMutableBufferPointer { ElementwiseReference.relu(a.baseAddress ?? .init(bitPattern: 4)!, $0.baseAddress!, count: n) }
        }
        #expect(fast == slow)
    }

    @Test(arguments: counts)
    func affine(_ size: Int) {
        let channels = 3, planes = 6
        let x = Self.values(planes * size, 0.1), scale: [Float] = [0.5, -1.25, 2], shift: [Float] = [0.1, 0, -0.7]
        for relu in [false, true] {
            var fast = [Float](repeating: 9, count: planes * size + 1), slow = fast
            x.withUnsafeBufferPointer { x in scale.withUnsafeBufferPointer { s in shift.withUnsafeBufferPointer { t in
                let xp = x.baseAddress ?? .init(bitPattern: 4)!
                fast.withUnsafeMutableBufferPointer { Elementwise.affine(xp, $0.baseAddress!, planes: planes, channels: channels, size: size, scale: s.baseAddress!, shift: t.baseAddress!, relu: relu) }
                slow.withUnsafeMutableBufferPointer { ElementwiseReference.affine(xp, $0.baseAddress!, planes: planes, channels: channels, size: size, scale: s.baseAddress!, shift: t.baseAddress!, relu: relu) }
            } } }
            // The SIMD path fuses x*scale+shift into one FMA; the twin rounds twice.
            #expect(zip(fast, slow).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }, "size \(size) relu \(relu)")
            #expect(fast.last == 9)
        }
    }
}

/// LayoutTransposeSIMD against its scalar twin: shapes around the 8 x 8 block's edges, split over threads.
struct LayoutTransposeTests {
    // Threads split columns, or rows when those have more blocks of eight (3136 x 64, 1603 x 5), at
    // least 64 blocks a thread: (16, 1603) in three parts with a ragged last; empty sides.
    @Test(arguments: [(1, 1), (7, 9), (8, 8), (9, 17), (16, 513), (64, 784), (3, 1040), (16, 1603), (1603, 5), (1544, 64),
                      (0, 9), (9, 0)])
    func matchesTheScalarTwin(_ shape: (Int, Int)) {
        let (rows, columns) = shape
        let src = (0..<(rows * columns)).map { Float($0) * 0.5 - 3 }
        for threads in [1, 2, 3] {
            var fast = [Float](repeating: .nan, count: rows * columns + 5), slow = fast
            src.withUnsafeBufferPointer { s in
                fast.withUnsafeMutableBufferPointer { LayoutTransposeSIMD.transpose(s.baseAddress!, rows: rows, columns: columns, into: $0.baseAddress!, threads: threads) }
                slow.withUnsafeMutableBufferPointer { LayoutTranspose.transpose(s.baseAddress!, rows: rows, columns: columns, into: $0.baseAddress!) }
            }
            let mismatch = (0..<(rows * columns)).first { fast[$0] != slow[$0] }
            #expect(mismatch == nil, "\(rows) x \(columns), \(threads) threads: first difference at \(mismatch ?? -1)")
            #expect(fast[(rows * columns)...].allSatisfy { $0.isNaN }, "\(rows) x \(columns): wrote past the end")
            // The twin itself: dst[c][r] == src[r][c].
            #expect((0..<rows).allSatisfy { r in (0..<columns).allSatisfy { c in slow[c * rows + r] == src[r * columns + c] } })
        }
    }
}
