import ResNetKernelsReference

/// Scratch space for `Sgemm`, allocated once by the executor's plan so a run
/// allocates nothing. Sized for the largest product the plan will compute.
public final class GemmWorkspace: @unchecked Sendable {
    // @unchecked: each thread uses its own A panel (index = thread); B panels are
    // written before the parallel phase and only read during it.
    let packedB: UnsafeMutablePointer<Float>
    let packedA: [UnsafeMutablePointer<Float>]
    let capacityB: Int
    public static let threads = 2

    /// `maxN`: the most columns any product has.
    public init(maxN: Int) {
        capacityB = Sgemm.kc * (Sgemm.roundUp(max(maxN, 1), Sgemm.nr))
        packedB = .allocate(capacity: capacityB)
        packedA = (0..<Self.threads).map { _ in .allocate(capacity: Sgemm.kc * Sgemm.mr) }
    }
    deinit {
        packedB.deallocate()
        for p in packedA { p.deallocate() }
    }
}

/// C[M,N] = A[M,K] · B[K,N] with a packed 4x16 SIMD8 FMA micro-kernel.
///
/// Blocking: K in slices of `kc`; B's slice is packed into 16-column panels
/// (kc x 16, zero-padded at the right edge), A's into 4-row panels (kc x 4,
/// zero-padded at the bottom). Each micro-tile keeps 4 x 2 SIMD8 accumulators
/// in registers. Rows of 4-panels are split between threads.
public enum Sgemm {
    public static let mr = 4
    public static let nr = 16
    public static let kc = 256

    static func roundUp(_ x: Int, _ m: Int) -> Int { (x + m - 1) / m * m }

    public static func sgemm(m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             bias: UnsafePointer<Float>?, epilogue: GemmEpilogue, workspace: GemmWorkspace,
                             parallel: Bool = true) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // Empty sum: C = bias (or C) then ReLU.
            for i in 0..<m { for j in 0..<n {
                var v: Float = epilogue.accumulate ? c[i * ldc + j] : 0
                if let bias { v += bias[i] }
                c[i * ldc + j] = epilogue.relu ? max(v, 0) : v
            } }
            return
        }
        let panelsN = (n + nr - 1) / nr
        let panelsM = (m + mr - 1) / mr
        var k0 = 0
        while k0 < k {
            let kb = min(kc, k - k0)
            packB(b + k0 * ldb, ldb: ldb, k: kb, n: n, into: workspace.packedB)
            let first = k0 == 0, last = k0 + kb == k
            let accumulate = !first || epilogue.accumulate
            let threads = parallel && panelsM >= 2 ? GemmWorkspace.threads : 1
            let work = { (t: Int) in
                let packedA = workspace.packedA[t]
                var pm = t
                while pm < panelsM {
                    let i0 = pm * mr
                    let rows = min(mr, m - i0)
                    packA(a + i0 * lda + k0, lda: lda, rows: rows, k: kb, into: packedA)
                    for pn in 0..<panelsN {
                        let j0 = pn * nr
                        microKernel(k: kb, a: packedA, b: workspace.packedB + pn * kb * nr,
                                    c: c + i0 * ldc + j0, ldc: ldc, rows: rows, cols: min(nr, n - j0),
                                    accumulate: accumulate, bias: last ? bias.map { $0 + i0 } : nil, relu: last && epilogue.relu)
                    }
                    pm += threads
                }
            }
            if threads > 1 { DispatchFor.concurrent(threads, work) } else { work(0) }
            k0 += kb
        }
    }

    /// B[k0..<k0+kb, 0..<n] -> panels of kb x 16, zero-padded past column n.
    static func packB(_ b: UnsafePointer<Float>, ldb: Int, k: Int, n: Int, into out: UnsafeMutablePointer<Float>) {
        var dst = out
        var j0 = 0
        while j0 < n {
            let cols = min(nr, n - j0)
            for p in 0..<k {
                let row = b + p * ldb + j0
                if cols == nr {
                    dst.update(from: row, count: nr)
                } else {
                    dst.update(from: row, count: cols)
                    (dst + cols).update(repeating: 0, count: nr - cols)
                }
                dst += nr
            }
            j0 += nr
        }
    }

    /// A[i0..<i0+rows, k0..<k0+kb] -> kb x 4, interleaved by k, zero rows past `rows`.
    static func packA(_ a: UnsafePointer<Float>, lda: Int, rows: Int, k: Int, into out: UnsafeMutablePointer<Float>) {
        for p in 0..<k {
            for r in 0..<mr { out[p * mr + r] = r < rows ? a[r * lda + p] : 0 }
        }
    }

    /// One 4x16 tile: acc += A_panel · B_panel over k, then bias/ReLU, stored to the valid rows x cols.
    @inline(__always)
    static func microKernel(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                            c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int,
                            accumulate: Bool, bias: UnsafePointer<Float>?, relu: Bool) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        let rawB = UnsafeRawPointer(b)
        for p in 0..<k {
            // Sound: panel p holds 16 floats at b + p*16, and 4 at a + p*4 (packed above).
            let b0 = rawB.loadUnaligned(fromByteOffset: p * 64, as: SIMD8<Float>.self)
            let b1 = rawB.loadUnaligned(fromByteOffset: p * 64 + 32, as: SIMD8<Float>.self)
            let ap = a + p * 4
            let a0 = SIMD8<Float>(repeating: ap[0]), a1 = SIMD8<Float>(repeating: ap[1])
            let a2 = SIMD8<Float>(repeating: ap[2]), a3 = SIMD8<Float>(repeating: ap[3])
            c00.addProduct(a0, b0); c01.addProduct(a0, b1)
            c10.addProduct(a1, b0); c11.addProduct(a1, b1)
            c20.addProduct(a2, b0); c21.addProduct(a2, b1)
            c30.addProduct(a3, b0); c31.addProduct(a3, b1)
        }
        store(c00, c01, row: c, cols: cols, accumulate: accumulate, bias: bias?[0], relu: relu)
        if rows > 1 { store(c10, c11, row: c + ldc, cols: cols, accumulate: accumulate, bias: bias?[1], relu: relu) }
        if rows > 2 { store(c20, c21, row: c + 2 * ldc, cols: cols, accumulate: accumulate, bias: bias?[2], relu: relu) }
        if rows > 3 { store(c30, c31, row: c + 3 * ldc, cols: cols, accumulate: accumulate, bias: bias?[3], relu: relu) }
    }

    /// Writes one row of a tile: the first `cols` of lo|hi, plus C, bias, ReLU as asked.
    @inline(__always)
    static func store(_ accLo: SIMD8<Float>, _ accHi: SIMD8<Float>, row: UnsafeMutablePointer<Float>, cols: Int,
                      accumulate: Bool, bias: Float?, columnBias: UnsafeRawPointer? = nil, residual: UnsafePointer<Float>? = nil, relu: Bool) {
        if cols == 16 {
            storeWhole(accLo, accHi, row: row, accumulate: accumulate, bias: bias, columnBias: columnBias, residual: residual, relu: relu)
            return
        }
        for j in 0..<cols {
            var v = j < 8 ? accLo[j] : accHi[j - 8]
            if accumulate { v += row[j] }
            if let bias { v += bias }
            if let columnBias { v += columnBias.load(fromByteOffset: 4 * j, as: Float.self) }
            if let residual { v += residual[j] }
            row[j] = relu ? max(v, 0) : v
        }
    }

    /// `store` for a whole row of 16 columns: vector loads and stores only. Apart so that the
    /// six-row tile inlines it six times (AVX2Tile.product): there `store`, its scalar loop
    /// included, was called out of line for rows 2-6 despite @inline(__always), each call
    /// spilling the twelve accumulators around it (perf: 2.3-2.7% of resnet50's samples in it;
    /// inlined, ab-inproc 1 thread 16 rounds, summed steps 84.87 -> 82.03 ms).
    @inline(__always)
    static func storeWhole(_ accLo: SIMD8<Float>, _ accHi: SIMD8<Float>, row: UnsafeMutablePointer<Float>,
                           accumulate: Bool, bias: Float?, columnBias: UnsafeRawPointer?, residual: UnsafePointer<Float>?, relu: Bool) {
        var lo = accLo, hi = accHi
        // Sound: the row holds 16 floats (cols == 16), as do columnBias and the residual's row.
        let raw = UnsafeMutableRawPointer(row)
        if accumulate {
            lo += raw.loadUnaligned(as: SIMD8<Float>.self)
            hi += raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        }
        if let bias { lo += SIMD8(repeating: bias); hi += SIMD8(repeating: bias) }
        if let columnBias {
            lo += columnBias.loadUnaligned(as: SIMD8<Float>.self)
            hi += columnBias.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        }
        if let residual {
            let r = UnsafeRawPointer(residual)
            lo += r.loadUnaligned(as: SIMD8<Float>.self)
            hi += r.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        }
        if relu { lo = lo.replacing(with: 0, where: lo .< 0); hi = hi.replacing(with: 0, where: hi .< 0) }
        raw.storeBytes(of: lo, as: SIMD8<Float>.self)
        raw.storeBytes(of: hi, toByteOffset: 32, as: SIMD8<Float>.self)
    }
}

extension SIMD8 where Scalar == Float {
    /// self += a * b as one fused multiply-add (vfmadd231ps with -march=x86-64-v3).
    @inline(__always)
    mutating func addProduct(_ a: SIMD8<Float>, _ b: SIMD8<Float>) { self = self.addingProduct(a, b) }
}
