import ResNetKernels
import ResNetKernelsReference

/// Relu of x into y (count values).
struct ReluStep<T: ExecScalar> {
    let x: Int, y: Int, count: Int, simd: Bool

    func perform(on p: ExecutionPlanOf<T>) {
        simd ? Elementwise.relu(p.f32(x), p.f32(y), count: count)
                       : ElementwiseReference.relu(p.pointer(x), p.pointer(y), count: count)
    }
}

/// Inference BatchNormalization as a per-channel affine of x [N, C, size...] into y, ReLU fused.
struct AffineStep<T: ExecScalar> {
    let x: Int, y: Int
    /// Per channel: gamma / sqrt(var + eps), and beta - mean x that.
    let scale: [T], shift: [T]
    let channels: Int, planes: Int, size: Int
    let relu: Bool, simd: Bool

    func perform(on p: ExecutionPlanOf<T>) {
        scale.withUnsafeBufferPointer { s in shift.withUnsafeBufferPointer { t in
            if simd {
                Elementwise.affine(p.f32(x), p.f32(y), planes: planes, channels: channels, size: size,
                                   scale: asF32(base(s)), shift: asF32(base(t)), relu: relu)
            } else {
                ElementwiseReference.affine(p.pointer(x), p.pointer(y), planes: planes, channels: channels, size: size,
                                            scale: base(s), shift: base(t), relu: relu)
            }
        } }
    }
}

/// An elementwise activation (LeakyRelu, Clip, Sigmoid, ...) on the reference kernels.
struct ActivationStep<T: ExecScalar> {
    let kind: ElementwiseReference.Activation
    let x: Int, y: Int, count: Int

    func perform(on p: ExecutionPlanOf<T>) {
        ElementwiseReference.activation(kind, p.pointer(x), p.pointer(y), count: count)
    }
}

/// A + B of one shape on the reference kernels, ReLU fused.
struct AddReferenceStep<T: ExecScalar> {
    let a: Int, b: Int, y: Int, count: Int, relu: Bool

    func perform(on p: ExecutionPlanOf<T>) {
        ElementwiseReference.add(p.pointer(a), p.pointer(b), p.pointer(y), count: count, relu: relu)
    }
}

/// A binary op of two same-shape operands on the SIMD sets, ReLU fused.
struct BinaryStep<T: ExecScalar> {
    let op: ElementwiseReference.Binary
    let a: Int, b: Int, y: Int, count: Int, relu: Bool
    /// Threads the values split over.
    let parts: Int

    func perform(on p: ExecutionPlanOf<T>) {
        let (pa, pb, py) = (p.f32(a), p.f32(b), p.f32(y))
        DispatchFor.concurrent(parts) { t in
            Elementwise.binary(op, pa, pb, py, range: (count * t / parts)..<(count * (t + 1) / parts), relu: relu)
        }
    }
}

/// A binary op of a tensor and one value a row of its trailing dims (SE and ECA gates), on the SIMD sets.
struct RowScalarStep<T: ExecScalar> {
    let op: ElementwiseReference.Binary
    /// x [rows, size] with s, one value a row (row r's at r % period).
    let x: Int, s: Int, y: Int
    /// A residual added in the same pass (a fused SE join).
    let r: Int?
    let rows: Int, size: Int, period: Int
    /// s is the op's first operand.
    let scalarFirst: Bool
    let relu: Bool, parts: Int

    func perform(on p: ExecutionPlanOf<T>) {
        let (px, ps, py, pr) = (p.f32(x), p.f32(s), p.f32(y), r.map { UnsafePointer(p.f32($0)) })
        DispatchFor.concurrent(parts) { t in
            Elementwise.rowScalar(op, px, ps, py, rows: (rows * t / parts)..<(rows * (t + 1) / parts), size: size, period: period,
                                  scalarFirst: scalarFirst, residual: pr, relu: relu)
        }
    }
}

/// A binary op with numpy broadcasting (the general walk), ReLU after.
struct BroadcastStep<T: ExecScalar> {
    let op: ElementwiseReference.Binary
    let a: Int, b: Int, y: Int
    /// Each operand's strides over the output `out` (0 where it broadcasts).
    let sa: [Int], sb: [Int], out: [Int]
    let count: Int, relu: Bool

    func perform(on p: ExecutionPlanOf<T>) {
        ElementwiseReference.broadcast(op, p.pointer(a), aStrides: sa, p.pointer(b), bStrides: sb, p.pointer(y), shape: out)
        if relu { ElementwiseReference.relu(p.pointer(y), p.pointer(y), count: count) }
    }
}

/// y = a x scale (Mean's division).
struct ScaleStep<T: ExecScalar> {
    let a: Int, y: Int, count: Int, scale: T

    func perform(on p: ExecutionPlanOf<T>) {
        for i in 0..<count { p.pointer(y)[i] = p.pointer(a)[i] * scale }
    }
}

/// Softmax along one axis of x [outer, length, inner] (opset 13).
struct SoftmaxAxisStep<T: ExecScalar> {
    let x: Int, y: Int, outer: Int, length: Int, inner: Int

    func perform(on p: ExecutionPlanOf<T>) {
        GenericOps.softmax(p.pointer(x), p.pointer(y), outer: outer, length: length, inner: inner)
    }
}

/// Softmax over rows of `inner` values (x [outer, inner]).
struct SoftmaxStep<T: ExecScalar> {
    let x: Int, y: Int, outer: Int, inner: Int

    func perform(on p: ExecutionPlanOf<T>) {
        ElementwiseReference.softmax(p.pointer(x), p.pointer(y), outer: outer, inner: inner)
    }
}
