import ResNetKernels
import ResNetKernelsReference

/// src [rows, cols] transposed into t [cols, rows] (Gemm's transA).
struct MatrixTransposeStep<T: ExecScalar> {
    let src: Int, t: Int, rows: Int, cols: Int

    func perform(on p: ExecutionPlanOf<T>) {
        let s = p.pointer(src), d = p.pointer(t)
        for r in 0..<rows { for c in 0..<cols { d[c * rows + r] = s[r * cols + c] } }
    }
}

/// A classifier Gemm on the SIMD sets: Yᵀ [N, M] = W [N, K] · Aᵀ [K, M], W packed once.
struct PackedGemmStep<T: ExecScalar> {
    /// A [M, K] (M the batch), Y [M, N]; Aᵀ and Yᵀ their transposed copies.
    let a: Int, y: Int, aT: Int, yT: Int
    let m: Int, n: Int, k: Int
    let kernels: KernelSet
    /// Images as the tile's rows (sgemmNarrow).
    let narrow: Bool
    /// W [N, K] packed at plan time.
    let packed: PackedA
    let workspace: PackedGemmWorkspace
    /// beta C broadcast to [M, N], or empty.
    let bias: [T]

    func perform(on p: ExecutionPlanOf<T>) {
        let src = p.f32(a), at = p.f32(aT), yt = p.f32(yT), out = p.f32(y)
        for r in 0..<m { for c in 0..<k { at[c * m + r] = src[r * k + c] } }
        if narrow {
            PackedKernels.sgemmNarrow(kernels, n: m, weights: packed, b: MatrixB(b: at, ldb: m), c: yt, ldc: m, bias: nil, residual: nil,
                                      epilogue: GemmEpilogue(), workspace: workspace)
        } else {
            PackedKernels.sgemm(kernels, n: m, a: packed, b: MatrixB(b: at, ldb: m), c: yt, ldc: m, workspace: workspace)
        }
        for r in 0..<m { for c in 0..<n { out[r * n + c] = yt[c * m + r] } }
        bias.withUnsafeBufferPointer { b in for i in 0..<b.count { out[i] += Float(b[i]) } }
    }
}

/// Gemm: Y [M, N] = A [M, K] · B + C, B a constant.
struct GemmStep<T: ExecScalar> {
    let a: Int, y: Int, m: Int, n: Int, k: Int
    /// B [K, N] scaled by alpha (transposed at plan time where transB).
    let bkn: [T]
    /// beta C broadcast to [M, N], or empty.
    let bias: [T]
    let simd: Bool

    func perform(on p: ExecutionPlanOf<T>) {
        bkn.withUnsafeBufferPointer { bp in
            let out = p.pointer(y)
            if simd {
                Sgemm.sgemm(m: m, n: n, k: k, a: p.f32(a), lda: k, b: asF32(base(bp)), ldb: n, c: asF32(out), ldc: n,
                            bias: nil, epilogue: GemmEpilogue(), workspace: p.workspace)
            } else {
                GemmReference.sgemm(m: m, n: n, k: k, a: p.pointer(a), lda: k, b: base(bp), ldb: n, c: out, ldc: n,
                                    bias: nil, epilogue: GemmEpilogue())
            }
            for i in 0..<bias.count { out[i] += bias[i] }
        }
    }
}

/// MatMul of A [M, K] by a constant W [K, N].
struct MatMulStep<T: ExecScalar> {
    let a: Int, y: Int, m: Int, n: Int, k: Int
    /// W [K, N].
    let w: FloatConstant
    let simd: Bool

    func perform(on p: ExecutionPlanOf<T>) {
        w.withValues { (wf: UnsafeBufferPointer<T>) in
            if simd {
                Sgemm.sgemm(m: m, n: n, k: k, a: p.f32(a), lda: k, b: asF32(base(wf)), ldb: n, c: p.f32(y), ldc: n,
                            bias: nil, epilogue: GemmEpilogue(), workspace: p.workspace)
            } else {
                GemmReference.sgemm(m: m, n: n, k: k, a: p.pointer(a), lda: k, b: base(wf), ldb: n, c: p.pointer(y), ldc: n,
                                    bias: nil, epilogue: GemmEpilogue())
            }
        }
    }
}

/// A Conv of 1 or 3+ spatial dims (ECA's 1-D conv), direct on the reference.
struct DirectConvStep<T: ExecScalar> {
    let x: Int, y: Int
    let w: FloatConstant, bias: FloatConstant?
    let batch: Int, channels: Int, m: Int, group: Int
    let win: GenericOps.Window

    func perform(on p: ExecutionPlanOf<T>) {
        w.withValues { (wf: UnsafeBufferPointer<T>) in withOptionalValues(bias) { (b: UnsafePointer<T>?) in
            GenericOps.conv(p.pointer(x), batch: batch, channels: channels, win, weight: base(wf), outChannels: m, group: group,
                            bias: b, into: p.pointer(y))
        } }
    }
}

/// A reduction over one contiguous run of axes, on the SIMD sets.
struct ReduceRunStep<T: ExecScalar> {
    let kind: GenericOps.Reduction
    /// x as [outer, count, inner], reduced over count; threads split inner in eight-float groups.
    let x: Int, y: Int, outer: Int, count: Int, inner: Int, parts: Int

    func perform(on p: ExecutionPlanOf<T>) {
        let (px, py) = (p.f32(x), p.f32(y))
        DispatchFor.concurrent(parts) { t in
            // Shares of whole eight-float groups, the last taking the tail.
            let groups = inner / 8, from = groups * t / parts * 8, to = t == parts - 1 ? inner : groups * (t + 1) / parts * 8
            Elementwise.reduceRun(kind, px, outer: outer, count: count, inner: inner, innerRange: from..<to, into: py)
        }
    }
}

/// A reduction over any axes (the general walk).
struct ReduceStep<T: ExecScalar> {
    let kind: GenericOps.Reduction
    let x: Int, y: Int, xs: [Int], axesSet: Set<Int>

    func perform(on p: ExecutionPlanOf<T>) {
        GenericOps.reduce(kind, p.pointer(x), shape: xs, axes: axesSet, into: p.pointer(y))
    }
}

/// MatMul with numpy semantics over broadcast batch dims.
struct BatchedMatMulStep<T: ExecScalar> {
    let a: Int, b: Int, y: Int, m: Int, n: Int, k: Int
    /// The broadcast batch dims and each operand's strides over them.
    let batch: [Int], sa: [Int], sb: [Int], count: Int
    let simd: Bool

    func perform(on p: ExecutionPlanOf<T>) {
        var index = [Int](repeating: 0, count: batch.count)
        for t in 0..<count {
            var ia = 0, ib = 0
            for d in 0..<batch.count { ia += index[d] * sa[d]; ib += index[d] * sb[d] }
            let pa = p.pointer(a) + ia * m * k, pb = p.pointer(b) + ib * k * n, pc = p.pointer(y) + t * m * n
            if simd {
                Sgemm.sgemm(m: m, n: n, k: k, a: UnsafePointer(p.f32(a) + ia * m * k), lda: k, b: UnsafePointer(p.f32(b) + ib * k * n), ldb: n, c: p.f32(y) + t * m * n, ldc: n, bias: nil,
                            epilogue: GemmEpilogue(), workspace: p.workspace)
            } else {
                GemmReference.sgemm(m: m, n: n, k: k, a: pa, lda: k, b: pb, ldb: n, c: pc, ldc: n, bias: nil, epilogue: GemmEpilogue())
            }
            var d = batch.count - 1
            while d >= 0 { index[d] += 1; if index[d] < batch[d] { break }; index[d] = 0; d -= 1 }
        }
    }
}

/// Training-mode BatchNormalization: the batch's own statistics, and the updated running ones.
struct TrainingBatchNormStep<T: ExecScalar> {
    let x: Int, y: Int, runningMean: Int, runningVar: Int
    let n: Int, c: Int, size: Int
    /// scale, bias, input mean, input variance, [C] each.
    let params: [[Float]]
    let eps: Float, momentum: Float

    func perform(on p: ExecutionPlanOf<T>) {
        let src = p.pointer(x), dst = p.pointer(y), rm = p.pointer(runningMean), rv = p.pointer(runningVar)
        let count = T(n * size)
        let params = params.map { $0.map { T($0) } }, eps = T(eps), momentum = T(momentum)
        for ch in 0..<c {
            var sum: T = 0
            for b in 0..<n { for i in 0..<size { sum += src[(b * c + ch) * size + i] } }
            let mean = sum / count
            var sq: T = 0
            for b in 0..<n { for i in 0..<size { let d = src[(b * c + ch) * size + i] - mean; sq += d * d } }
            let variance = sq / count
            let scale = params[0][ch] / (variance + eps).squareRoot()
            for b in 0..<n { for i in 0..<size {
                let k = (b * c + ch) * size + i
                dst[k] = (src[k] - mean) * scale + params[1][ch]
            } }
            rm[ch] = params[2][ch] * momentum + mean * (1 - momentum)
            rv[ch] = params[3][ch] * momentum + variance * (1 - momentum)
        }
    }
}
