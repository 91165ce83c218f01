import Testing
import ResNetKernels
import ResNetKernelsReference

/// The SIMD SGEMM against its naive twin at sizes on both sides of every tile
/// edge: M around the 4-row panel, N around the 16-column panel, K around the
/// 256 slice, plus 0, 1 and a large size; with and without accumulate/bias/ReLU.
struct SgemmTests {
    struct Size: CustomTestStringConvertible, Sendable {
        let m: Int, n: Int, k: Int
        var testDescription: String { "\(m)x\(n)x\(k)" }
    }

    static let sizes: [Size] = {
        let ms = [0, 1, Sgemm.mr - 1, Sgemm.mr, Sgemm.mr + 1, 37]
        let ns = [0, 1, Sgemm.nr - 1, Sgemm.nr, Sgemm.nr + 1, 100]
        let ks = [0, 1, Sgemm.kc - 1, Sgemm.kc, Sgemm.kc + 1, 600]
        var out: [Size] = []
        for m in ms { for n in ns { for k in ks where (m * n * k < 3_000_000) { out.append(Size(m: m, n: n, k: k)) } } }
        return out
    }()

    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<count).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / 1000
        }
    }

    @Test(arguments: sizes)
    func matchesReference(_ s: Size) {
        let lda = s.k + 3, ldb = s.n + 5, ldc = s.n + 2  // strides wider than the rows, as in real callers
        let a = Self.random(max(s.m * lda, 1), seed: 1), b = Self.random(max(s.k * ldb, 1), seed: 2)
        let bias = Self.random(max(s.m, 1), seed: 3)
        let start = Self.random(max(s.m * ldc, 1), seed: 4)
        let workspace = GemmWorkspace(maxN: s.n)
        for epilogue in [GemmEpilogue(), GemmEpilogue(accumulate: true, relu: true)] {
            for useBias in [false, true] {
                var fast = start, slow = start
                a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in bias.withUnsafeBufferPointer { bias in
                    fast.withUnsafeMutableBufferPointer { c in
                        Sgemm.sgemm(m: s.m, n: s.n, k: s.k, a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                    c: c.baseAddress!, ldc: ldc, bias: useBias ? bias.baseAddress : nil, epilogue: epilogue,
                                    workspace: workspace)
                    }
                    slow.withUnsafeMutableBufferPointer { c in
                        GemmReference.sgemm(m: s.m, n: s.n, k: s.k, a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                            c: c.baseAddress!, ldc: ldc, bias: useBias ? bias.baseAddress : nil, epilogue: epilogue)
                    }
                } } }
                // Different summation orders: allow rounding that grows with K.
                let tolerance = Float(1e-5) * Float(max(s.k, 1)) + 1e-5
                var worst: Float = 0
                for i in 0..<s.m { for j in 0..<ldc {
                    let d = abs(fast[i * ldc + j] - slow[i * ldc + j])
                    if j >= s.n { #expect(fast[i * ldc + j] == start[i * ldc + j], "wrote past column \(s.n)") }
                    worst = max(worst, d)
                } }
                #expect(worst <= tolerance, "\(s) accumulate \(epilogue.accumulate) bias \(useBias): max diff \(worst)")
            }
        }
    }

    @Test func cpuFeatureCheckAnswers() {
        // On this project's machines AVX2+FMA is present; the check itself must not trap.
        _ = CPU.hasAVX2FMA
    }
}
