import ResNetIR
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// 3x3 stride-1 convolutions as Winograd F(2x2, 3x3) on the SIMD kernel sets (issue 11).
extension Planner {
    /// Tiles below which the 16 GEMMs are too narrow to pay for the transforms
    /// (7x7 outputs: 16 tiles, one half-empty 32-column panel).
    static var winogradMinimumTiles: Int { 32 }

    /// Plans `node` as Winograd when it applies; false leaves it to the direct path.
    /// x [N, C, H, W], weights [M, C, 3, 3] (group 1), y [N, M, Ho, Wo].
    func convWinograd(_ node: Node, x: Int, xs: [Int], w: FloatConstant, bias: FloatConstant?, g: ConvGeometry, m: Int,
                      y: Int, relu: Bool, shortcut: Int?) throws -> Bool {
        let (tr, tc) = Winograd.tiles(g)
        let tiles = tr * tc, c = g.channels, n = xs[0]
        guard simd, winograd, !exact, Winograd.applies(g), xs[1] == c, tiles >= Self.winogradMinimumTiles else { return false }
        let mr = kernels.tileRows
        guard let perXi = PackedA.floatCount(m: m, k: c, mr: mr) else { return false }
        let (packedFloats, o1) = perXi.multipliedReportingOverflow(by: 16)
        let (uFloats, o2) = (16 * m).multipliedReportingOverflow(by: c)
        guard !o1, !o2 else { return false }
        try chargeConstant(elements: packedFloats + uFloats, elementSize: 4, what: "Winograd weights of '\(node.name)'")
        // U [16][M, C] at plan time, then packed per xi for the kernel set's tile.
        var u = [Float](repeating: 0, count: uFloats)
        w.withValues { (wf: UnsafeBufferPointer<T>) in
            u.withUnsafeMutableBufferPointer { Winograd.transformWeights(asF32(base(wf)), m: m, c: c, into: $0.baseAddress!) }
        }
        let packed = u.withUnsafeBufferPointer { up in
            (0..<16).map { xi in PackedA(a: up.baseAddress! + xi * m * c, lda: c, m: m, k: c, mr: mr) }
        }
        // V [16][C, T] and M [16][M, T] for one image: plan tensors, so the budget and the buffer reuse see them.
        let v = newTensor([16 * c * tiles]), mt = newTensor([16 * m * tiles])
        let threads = packedWorkspace.threads, kernels = self.kernels
        let perThread = (0..<threads).map { _ in PackedGemmWorkspace(threads: 1, nr: kernels.tileColumns) }
        let macs = n &* m &* g.outH &* g.outW &* c &* 9  // the direct convolution's, so GFLOP/s is effective (Winograd does 16/36 of them per 2x2 tile)
        emit(node, macs: macs) { p in
            withOptionalValues(bias) { (biasPointer: UnsafePointer<T>?) in
                let vp = p.f32(v), mp = p.f32(mt)
                let b = biasPointer.map { UnsafePointer(asF32($0)) }
                for img in 0..<n {
                    let image = UnsafePointer(p.f32(x) + img * c * g.height * g.width)
                    let out = p.f32(y) + img * m * g.outH * g.outW
                    let r: UnsafePointer<Float>? = shortcut.map { UnsafePointer(p.f32($0) + img * m * g.outH * g.outW) }
                    DispatchFor.concurrent(threads) { t in
                        Winograd.transformInput(image, g, channels: (c * t / threads)..<(c * (t + 1) / threads), into: vp)
                    }
                    // The 16 GEMMs are independent: each thread takes every threads-th one, single-threaded.
                    DispatchFor.concurrent(threads) { t in
                        for xi in stride(from: t, to: 16, by: threads) {
                            let bx = UnsafePointer(vp + xi * c * tiles), cx = mp + xi * m * tiles
                            PackedKernels.sgemm(kernels, n: tiles, a: packed[xi], b: MatrixB(b: bx, ldb: tiles), c: cx, ldc: tiles,
                                                workspace: perThread[t])
                        }
                    }
                    DispatchFor.concurrent(threads) { t in
                        Winograd.transformOutput(UnsafePointer(mp), g, outputs: (m * t / threads)..<(m * (t + 1) / threads), m: m,
                                                 bias: b, residual: r, relu: relu, into: out)
                    }
                }
            }
        }
        return true
    }
}
