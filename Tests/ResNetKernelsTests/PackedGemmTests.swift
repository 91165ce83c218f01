import Testing
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// Both SIMD kernel sets' packed GEMM (weights packed once, B per call, split
/// over threads) against the naive twin at sizes on both sides of every tile
/// edge: M around the 6-row tile, N around the 16- and 32-column tiles and the
/// 512-column block, K around the 256 slice; 1 and 2 threads; with and without
/// accumulate, bias, the fused residual and ReLU; each through the plain path and the
/// narrow-output one (sgemmNarrow: positions as the tile's rows, so N runs around the
/// 6-row edge and M around the 16/32-column edges), and the one reading B's rows in place
/// (sgemmRows, rows found through an offset table); one position takes the narrow path's
/// matrix-vector product. A set this CPU cannot run is reported, not faked.
struct PackedGemmTests {
    struct Size: CustomTestStringConvertible, Sendable {
        let m: Int, n: Int, k: Int
        var testDescription: String { "\(m)x\(n)x\(k)" }
    }

    static let sizes: [Size] = {
        let ms = [1, 5, 6, 7, 12, 13, 31, 33, 64]
        let ns = [1, 5, 6, 7, 15, 16, 17, 31, 32, 33, 49, 100, 511, 512, 513, 1100]
        let ks = [0, 1, 255, 256, 257, 600]
        var out: [Size] = []
        for m in ms { for n in ns { for k in ks where m * n * k < 4_000_000 { out.append(Size(m: m, n: n, k: k)) } } }
        // Weights of 2^20 floats and more: the narrow path splits channel panels over the
        // threads instead of positions (67 channels: panels of 32, 32 and 3 on AVX-512).
        out += [Size(m: 67, n: 13, k: 15_700), Size(m: 67, n: 1, k: 15_700), Size(m: 33, n: 49, k: 32_000)]
        // One position (the narrow path's matrix-vector product, PackedGemv.swift): M around the
        // 16- and 32-channel panels, K odd and even around the slices, a classifier's 1000 x 2048,
        // and K past the B buffer (21,846 x 6 floats > 256 x 512), which takes the tile instead.
        for m in [15, 16, 17, 32, 1000] { for k in [2, 3, 513, 2048] { out.append(Size(m: m, n: 1, k: k)) } }
        out += [Size(m: 17, n: 1, k: 21_845), Size(m: 17, n: 1, k: 21_846)]
        return out
    }()

    @Test("the kernel sets this CPU runs")
    func reportsKernelSets() {
        let sets = KernelSet.allCases.filter(\.isSupported).map(\.rawValue)
        print("kernel sets exercised on this machine: \(sets.joined(separator: ", ")) (detected: \(KernelSet.detect()))")
        #expect(sets.contains("reference"))
    }

    @Test(arguments: sizes)
    func matchesReference(_ s: Size) {
        let lda = s.k + 3, ldb = s.n + 5, ldc = s.n + 2
        let a = SgemmTests.random(s.m * lda, seed: 1), b = SgemmTests.random(s.k * ldb, seed: 2)
        let bias = SgemmTests.random(s.m, seed: 3), start = SgemmTests.random(s.m * ldc, seed: 4)
        for set in [KernelSet.avx2, .avx512] where set.isSupported {
          for path in ["plain", "narrow", "rows"] {
            let narrow = path == "narrow"
            // The narrow path holds the weights as the tile's B side: panels of tileColumns rows.
            let packed = a.withUnsafeBufferPointer { PackedA(a: $0.baseAddress!, lda: lda, m: s.m, k: s.k, mr: narrow ? set.tileColumns : set.tileRows) }
            for threads in [1, 2] {
                let workspace = PackedGemmWorkspace(threads: threads, nr: set.tileColumns)
                workspace.reserveTransposed(floats: s.m * s.n)
                for (epilogue, useBias, useResidual) in [(GemmEpilogue(), false, false), (GemmEpilogue(accumulate: true, relu: true), true, false),
                                                         (GemmEpilogue(relu: true), true, true)] {
                    var fast = start, slow = start
                    let residual = SgemmTests.random(s.m * ldc, seed: 5)
                    b.withUnsafeBufferPointer { b in bias.withUnsafeBufferPointer { bias in residual.withUnsafeBufferPointer { res in
                        fast.withUnsafeMutableBufferPointer { c in
                            let source = MatrixB(b: b.baseAddress!, ldb: ldb)
                            let (bp, rp) = (useBias ? bias.baseAddress : nil, useResidual ? res.baseAddress : nil)
                            // Row p of B in place: p * ldb floats from b, found through the table
                            // (one entry at K = 0, so the table has an address; no row is read).
                            let offsets = (0..<max(s.k, 1)).map { 4 * $0 * ldb }
                            if path == "rows" {
                                offsets.withUnsafeBufferPointer { o in
                                    if set == .avx512 {
                                        SgemmAVX512.sgemmRows(n: s.n, a: packed, b: b.baseAddress!, rowOffsets: o.baseAddress!, c: c.baseAddress!, ldc: ldc,
                                                              bias: bp, residual: rp, epilogue: epilogue, workspace: workspace)
                                    } else {
                                        SgemmAVX2.sgemmRows(n: s.n, a: packed, b: b.baseAddress!, rowOffsets: o.baseAddress!, c: c.baseAddress!, ldc: ldc,
                                                            bias: bp, residual: rp, epilogue: epilogue, workspace: workspace)
                                    }
                                }
                            } else if narrow && set == .avx512 {
                                SgemmAVX512.sgemmNarrow(n: s.n, weights: packed, b: source, c: c.baseAddress!, ldc: ldc, bias: bp, residual: rp,
                                                        epilogue: epilogue, workspace: workspace)
                            } else if narrow {
                                SgemmAVX2.sgemmNarrow(n: s.n, weights: packed, b: source, c: c.baseAddress!, ldc: ldc, bias: bp, residual: rp,
                                                      epilogue: epilogue, workspace: workspace)
                            } else if set == .avx512 {
                                SgemmAVX512.sgemm(n: s.n, a: packed, b: source, c: c.baseAddress!, ldc: ldc, bias: bp, residual: rp,
                                                  epilogue: epilogue, workspace: workspace)
                            } else {
                                SgemmAVX2.sgemm(n: s.n, a: packed, b: source, c: c.baseAddress!, ldc: ldc, bias: bp, residual: rp,
                                                epilogue: epilogue, workspace: workspace)
                            }
                        }
                        slow.withUnsafeMutableBufferPointer { c in
                            a.withUnsafeBufferPointer { a in
                                // The twin: product (+ C) + bias, then + residual, then ReLU.
                                var e = epilogue
                                if useResidual { e.relu = false }
                                GemmReference.sgemm(m: s.m, n: s.n, k: s.k, a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                                    c: c.baseAddress!, ldc: ldc, bias: useBias ? bias.baseAddress : nil, epilogue: e)
                                if useResidual {
                                    for i in 0..<s.m { for j in 0..<s.n { c[i * ldc + j] = max(c[i * ldc + j] + res[i * ldc + j], 0) } }
                                }
                            }
                        }
                    } } }
                    let tolerance = Float(1e-5) * Float(s.k) + 1e-5
                    var worst: Float = 0
                    for i in 0..<s.m { for j in 0..<ldc {
                        if j >= s.n { #expect(fast[i * ldc + j] == start[i * ldc + j], "\(set) wrote past column \(s.n) (\(path))") }
                        worst = max(worst, abs(fast[i * ldc + j] - slow[i * ldc + j]))
                    } }
                    #expect(worst <= tolerance, "\(set) \(path) \(s) threads \(threads) accumulate \(epilogue.accumulate) residual \(useResidual): max diff \(worst)")
                }
            }
          }
        }
    }

    /// One position takes the matrix-vector product, several the tile: the same position's
    /// outputs must agree bit for bit (a batch run image by image must equal it run at once).
    @Test(arguments: [Size(m: 17, n: 1, k: 3), Size(m: 67, n: 1, k: 513), Size(m: 1000, n: 1, k: 2048)])
    func onePositionEqualsTheTilesColumn(_ s: Size) {
        let a = SgemmTests.random(s.m * s.k, seed: 6), column = SgemmTests.random(s.k, seed: 7)
        let bias = SgemmTests.random(s.m, seed: 8), start = SgemmTests.random(s.m * 3, seed: 9), residual = SgemmTests.random(s.m * 3, seed: 10)
        // B of three positions, the first of them the column (the others differ, so a mix-up shows).
        var b3 = SgemmTests.random(s.k * 3, seed: 11)
        for p in 0..<s.k { b3[p * 3] = column[p] }
        for set in [KernelSet.avx2, .avx512] where set.isSupported {
            let packed = a.withUnsafeBufferPointer { PackedA(a: $0.baseAddress!, lda: s.k, m: s.m, k: s.k, mr: set.tileColumns) }
            for threads in [1, 2] {
                let workspace = PackedGemmWorkspace(threads: threads, nr: set.tileColumns)
                workspace.reserveTransposed(floats: s.m * 3)
                for (epilogue, useResidual) in [(GemmEpilogue(), false), (GemmEpilogue(accumulate: true, relu: true), true), (GemmEpilogue(), true),
                                                (GemmEpilogue(relu: true), false)] {
                    // The column alone: C [M, 1] (ldc 1); the three positions: C [M, 3], position 0 compared.
                    var one = (0..<s.m).map { start[$0 * 3] }, three = start
                    bias.withUnsafeBufferPointer { bias in
                        let r1 = (0..<s.m).map { residual[$0 * 3] }
                        for (n, bValues, ldc) in [(1, column, 1), (3, b3, 3)] {
                            bValues.withUnsafeBufferPointer { bp in (n == 1 ? r1 : residual).withUnsafeBufferPointer { rp in
                                func run(_ c: UnsafeMutablePointer<Float>) {
                                    let source = MatrixB(b: bp.baseAddress!, ldb: n), r = useResidual ? rp.baseAddress : nil
                                    if set == .avx512 {
                                        SgemmAVX512.sgemmNarrow(n: n, weights: packed, b: source, c: c, ldc: ldc, bias: bias.baseAddress, residual: r,
                                                                epilogue: epilogue, workspace: workspace)
                                    } else {
                                        SgemmAVX2.sgemmNarrow(n: n, weights: packed, b: source, c: c, ldc: ldc, bias: bias.baseAddress, residual: r,
                                                              epilogue: epilogue, workspace: workspace)
                                    }
                                }
                                if n == 1 { one.withUnsafeMutableBufferPointer { run($0.baseAddress!) } } else { three.withUnsafeMutableBufferPointer { run($0.baseAddress!) } }
                            } }
                        }
                    }
                    let differing = (0..<s.m).filter { one[$0].bitPattern != three[$0 * 3].bitPattern }
                    #expect(differing.isEmpty, "\(set) \(s) threads \(threads) accumulate \(epilogue.accumulate) residual \(useResidual): \(differing.count) outputs differ, first \(differing.first.map { "\(one[$0]) vs \(three[$0 * 3])" } ?? "")")
                }
            }
        }
    }
}
