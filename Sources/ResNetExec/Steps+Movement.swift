import ResNetKernels
import ResNetKernelsReference

/// A tensor of ones (inference Dropout's mask).
struct OnesStep<T: ExecScalar> {
    let mask: Int, count: Int

    func perform(on p: ExecutionPlanOf<T>) {
        p.pointer(mask).update(repeating: 1, count: count)
    }
}

/// Concat: for each of `outer` rows, each input's run in turn.
struct ConcatStep<T: ExecScalar> {
    let y: Int, outer: Int, rowOut: Int
    /// Each input and its run of a row of y.
    let chunks: [(Int, Int)]

    func perform(on p: ExecutionPlanOf<T>) {
        for o in 0..<outer {
            var at = p.pointer(y) + o * rowOut
            for (id, len) in chunks { at.update(from: p.pointer(id) + o * len, count: len); at += len }
        }
    }
}

/// Constant Pad of any rank but 4.
struct PadNDStep<T: ExecScalar> {
    let x: Int, y: Int, xs: [Int], begin: [Int], out: [Int], fill: Float

    func perform(on p: ExecutionPlanOf<T>) {
        GenericOps.pad(p.pointer(x), shape: xs, begin: begin, outShape: out, fill: fill, into: p.pointer(y))
    }
}

/// Constant Pad of x [N, C, H, W] (option A's zero channels).
struct PadStep<T: ExecScalar> {
    let x: Int, y: Int, xs: [Int], out: [Int]
    /// Begins of the four axes, then ends.
    let p: [Int]
    let fill: Float

    func perform(on plan: ExecutionPlanOf<T>) {
        let src = plan.pointer(x), dst = plan.pointer(y)
        dst.update(repeating: T(fill), count: out.reduce(1, *))
        for n in 0..<xs[0] { for c in 0..<xs[1] { for h in 0..<xs[2] {
            let from = src + ((n * xs[1] + c) * xs[2] + h) * xs[3]
            let to = dst + (((n + p[0]) * out[1] + c + p[1]) * out[2] + h + p[2]) * out[3] + p[3]
            to.update(from: from, count: xs[3])
        } } }
    }
}

/// Slice: a strided gather of x into y [out].
struct SliceStep<T: ExecScalar> {
    let x: Int, y: Int, out: [Int], begin: [Int], step: [Int], inStrides: [Int]

    func perform(on p: ExecutionPlanOf<T>) {
        let src = p.pointer(x), dst = p.pointer(y)
        var index = [Int](repeating: 0, count: out.count)
        for o in 0..<out.reduce(1, *) {
            var offset = 0
            for d in 0..<out.count { offset += (begin[d] + index[d] * step[d]) * inStrides[d] }
            dst[o] = src[offset]
            var d = out.count - 1
            while d >= 0 { index[d] += 1; if index[d] < out[d] { break }; index[d] = 0; d -= 1 }
        }
    }
}

/// One output of Split.
struct SplitStep<T: ExecScalar> {
    let x: Int, y: Int
    /// Rows, this output's run of each, x's row, and where the run starts in it.
    let outer: Int, len: Int, row: Int, from: Int

    func perform(on p: ExecutionPlanOf<T>) {
        for o in 0..<outer { (p.pointer(y) + o * len).update(from: p.pointer(x) + o * row + from, count: len) }
    }
}

/// Expand of one value a row (ECA's gate), row by row on the SIMD sets.
struct FillRowsStep<T: ExecScalar> {
    let x: Int, y: Int, rows: Int, size: Int, period: Int, parts: Int

    func perform(on p: ExecutionPlanOf<T>) {
        let (px, py) = (p.f32(x), p.f32(y))
        DispatchFor.concurrent(parts) { t in Elementwise.fillRows(px, py, rows: (rows * t / parts)..<(rows * (t + 1) / parts), size: size, period: period) }
    }
}

/// A strided copy of x into y [out] (Expand, Transpose).
struct StridedCopyStep<T: ExecScalar> {
    let x: Int, y: Int
    /// x's stride for each of y's axes.
    let strides: [Int], out: [Int]

    func perform(on p: ExecutionPlanOf<T>) {
        GenericOps.stridedCopy(p.pointer(x), strides: strides, outShape: out, into: p.pointer(y))
    }
}

/// Where(condition, A, B) with a constant condition, broadcast to y [out].
struct WhereStep<T: ExecScalar> {
    let a: Int, b: Int, y: Int
    /// The condition, known at plan time.
    let condition: [Int64]
    let sc: [Int], sa: [Int], sb: [Int], out: [Int]

    func perform(on p: ExecutionPlanOf<T>) {
        let dst = p.pointer(y), xa = p.pointer(a), xb = p.pointer(b)
        var index = [Int](repeating: 0, count: out.count)
        for o in 0..<out.reduce(1, *) {
            var (ic, ia, ib) = (0, 0, 0)
            for d in 0..<out.count { ic += index[d] * sc[d]; ia += index[d] * sa[d]; ib += index[d] * sb[d] }
            dst[o] = condition[ic] != 0 ? xa[ia] : xb[ib]
            var d = out.count - 1
            while d >= 0 { index[d] += 1; if index[d] < out[d] { break }; index[d] = 0; d -= 1 }
        }
    }
}

/// Gather along an axis by constant indices.
struct GatherStep<T: ExecScalar> {
    let x: Int, y: Int, outer: Int, len: Int, inner: Int
    /// The indices, in range, known at plan time.
    let idx: [Int]

    func perform(on p: ExecutionPlanOf<T>) {
        var dst = p.pointer(y)
        for o in 0..<outer { for k in idx { dst.update(from: p.pointer(x) + (o * len + k) * inner, count: inner); dst += inner } }
    }
}
