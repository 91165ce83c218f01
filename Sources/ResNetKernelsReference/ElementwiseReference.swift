import Foundation

/// Elementwise kernels: the scalar twins of ResNetKernels' SIMD ones, and the
/// general (broadcasting, activation) ops that need no SIMD.
public enum ElementwiseReference {
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func add<T: ExecScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, count: Int, relu: Bool) {
        for i in 0..<count { let v = a[i] + b[i]; y[i] = relu ? max(v, 0) : v }
    }

    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func relu<T: ExecScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, count: Int) {
        for i in 0..<count { y[i] = max(x[i], 0) }
    }

    /// y[c, i] = x[c, i] * scale[c] + shift[c] over [planes = N*C, size] (BatchNormalization), optional ReLU.
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func affine<T: ExecScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, planes: Int, channels: Int, size: Int,
                              scale: UnsafePointer<T>, shift: UnsafePointer<T>, relu: Bool) {
        for p in 0..<planes {
            let c = p % channels
            for i in 0..<size {
                let v = x[p * size + i] * scale[c] + shift[c]
                y[p * size + i] = relu ? max(v, 0) : v
            }
        }
    }

    public enum Binary: Sendable { case add, sub, mul, div, pow, max, min }

    /// y = a op b with ONNX broadcasting; `aStrides`/`bStrides` are per output dim (0 where broadcast).
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func broadcast<T: ExecScalar>(_ op: Binary, _ a: UnsafePointer<T>, aStrides: [Int], _ b: UnsafePointer<T>, bStrides: [Int],
                                 _ y: UnsafeMutablePointer<T>, shape: [Int]) {
        let total = shape.reduce(1, *)
        var index = [Int](repeating: 0, count: shape.count)
        var ia = 0, ib = 0
        for o in 0..<total {
            let u = a[ia], v = b[ib]
            switch op {
            case .add: y[o] = u + v
            case .sub: y[o] = u - v
            case .mul: y[o] = u * v
            case .div: y[o] = u / v
            case .pow: y[o] = T.powOf(u, v)
            case .max: y[o] = u.isNaN || v.isNaN ? .nan : Swift.max(u, v)
            case .min: y[o] = u.isNaN || v.isNaN ? .nan : Swift.min(u, v)
            }
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                ia += aStrides[d]; ib += bStrides[d]
                if index[d] < shape[d] { break }
                ia -= aStrides[d] * shape[d]; ib -= bStrides[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    /// One value of `op` (broadcast's arithmetic, which the SIMD twins match exactly).
    @inlinable @inline(__always)
    public static func apply<T: ExecScalar>(_ op: Binary, _ u: T, _ v: T) -> T {
        switch op {
        case .add: return u + v
        case .sub: return u - v
        case .mul: return u * v
        case .div: return u / v
        case .pow: return T.powOf(u, v)
        case .max: return u.isNaN || v.isNaN ? .nan : Swift.max(u, v)
        case .min: return u.isNaN || v.isNaN ? .nan : Swift.min(u, v)
        }
    }

    /// y[i] = a[i] op b[i] for i in `range` (operands of one shape), optional ReLU.
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func binary<T: ExecScalar>(_ op: Binary, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                             range: Range<Int>, relu: Bool) {
        for i in range { let v = apply(op, a[i], b[i]); y[i] = relu ? max(v, 0) : v }
    }

    /// y[r, i] = x[r, i] op s[r % period] (s[r % period] op x[r, i] when `scalarFirst`) for rows r in
    /// `rows` of `size` values, then + residual[r, i] (an Add the planner fused: SE blocks add the
    /// gated branch to the shortcut), optional ReLU: a binary op whose other operand is constant along
    /// the trailing dims (SE and ECA gates: x [N, C, H, W] * s [N, C, 1, 1] or [1, C, 1, 1]).
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func rowScalar<T: ExecScalar>(_ op: Binary, _ x: UnsafePointer<T>, _ s: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                                rows: Range<Int>, size: Int, period: Int, scalarFirst: Bool, residual: UnsafePointer<T>? = nil,
                                                relu: Bool) {
        for r in rows {
            let c = s[r % period]
            for i in (r * size)..<((r + 1) * size) {
                var v = scalarFirst ? apply(op, c, x[i]) : apply(op, x[i], c)
                if let residual { v += residual[i] }
                y[i] = relu ? max(v, 0) : v
            }
        }
    }

    public enum Activation: Sendable {
        case leakyRelu(Float), clip(Float, Float), sigmoid
        /// max(0, min(1, alpha * x + beta)) (SE gates in MobileNet-style blocks).
        case hardSigmoid(alpha: Float, beta: Float)
        /// x * max(0, min(1, x / 6 + 1/2)).
        case hardSwish
        case tanh, exp, sqrt, neg, reciprocal, abs
    }

    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func activation<T: ExecScalar>(_ kind: Activation, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, count: Int) {
        switch kind {
        case let .leakyRelu(alpha): for i in 0..<count { y[i] = x[i] >= 0 ? x[i] : T(alpha) * x[i] }
        case let .clip(lo, hi): for i in 0..<count { y[i] = min(max(x[i], T(lo)), T(hi)) }
        case .sigmoid: for i in 0..<count { y[i] = 1 / (1 + T.expOf(-x[i])) }
        case let .hardSigmoid(alpha, beta): for i in 0..<count { y[i] = max(0, min(1, T(alpha) * x[i] + T(beta))) }
        case .hardSwish: for i in 0..<count { y[i] = x[i] * max(0, min(1, x[i] / 6 + 0.5)) }
        case .tanh: for i in 0..<count { y[i] = T.tanhOf(x[i]) }
        case .exp: for i in 0..<count { y[i] = T.expOf(x[i]) }
        case .sqrt: for i in 0..<count { y[i] = x[i].squareRoot() }
        case .neg: for i in 0..<count { y[i] = -x[i] }
        case .reciprocal: for i in 0..<count { y[i] = 1 / x[i] }
        case .abs: for i in 0..<count { y[i] = Swift.abs(x[i]) }
        }
    }

    /// Softmax over the last `inner` elements of each of `outer` rows.
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func softmax<T: ExecScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, outer: Int, inner: Int) {
        for r in 0..<outer {
            let s = x + r * inner, d = y + r * inner
            var m = -T.infinity
            for i in 0..<inner { m = max(m, s[i]) }
            var sum: T = 0
            for i in 0..<inner { d[i] = T.expOf(s[i] - m); sum += d[i] }
            for i in 0..<inner { d[i] /= sum }
        }
    }
}
