import Foundation

/// Row-major strides of a shape.
public func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { strides[i] = s; s *= shape[i] }
    return strides
}

/// Operators in their general (N-D, any-axis) form: the ONNX backend tests use
/// these; a ResNet's hot path uses the specialised kernels instead.
public enum GenericOps {
    /// Window geometry over N spatial dims.
    public struct Window: Sendable {
        public let input: [Int], kernel: [Int], stride: [Int], dilation: [Int], padBegin: [Int], output: [Int]
        public init(input: [Int], kernel: [Int], stride: [Int], dilation: [Int], padBegin: [Int], output: [Int]) {
            self.input = input; self.kernel = kernel; self.stride = stride; self.dilation = dilation
            self.padBegin = padBegin; self.output = output
        }
    }

    /// Max/average pooling over [planes, *spatial]; `indices` (MaxPool) gets the flat index of each max
    /// in the whole input (row-major spatial, or column-major with `columnMajor`).
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func pool<T: ExecScalar>(_ x: UnsafePointer<T>, planes: Int, _ w: Window, max isMax: Bool, countIncludePad: Bool,
                            padEnd: [Int], into y: UnsafeMutablePointer<T>, indices: UnsafeMutablePointer<T>?,
                            columnMajor: Bool = false) {
        let d = w.input.count
        let inSize = w.input.reduce(1, *), outSize = w.output.reduce(1, *)
        let inStrides = rowMajorStrides(w.input)
        var colStrides = [Int](repeating: 1, count: d)
        for i in 1..<max(d, 1) where d > 1 { colStrides[i] = colStrides[i - 1] * w.input[i - 1] }
        let windowCount = w.kernel.reduce(1, *)
        for p in 0..<planes {
            var o = [Int](repeating: 0, count: d)
            for flat in 0..<outSize {
                var best = -T.infinity, bestIndex = 0, sum: T = 0, count = 0, padded = 0
                var k = [Int](repeating: 0, count: d)
                for _ in 0..<windowCount {
                    var inside = true, inPadded = true, offset = 0, colOffset = 0
                    for i in 0..<d {
                        let pos = o[i] * w.stride[i] - w.padBegin[i] + k[i] * w.dilation[i]
                        if pos < 0 || pos >= w.input[i] { inside = false }
                        if pos >= w.input[i] + padEnd[i] { inPadded = false }
                        offset += pos * inStrides[i]
                        colOffset += pos * colStrides[i]
                    }
                    if inPadded { padded += 1 }
                    if inside {
                        let v = x[p * inSize + offset]
                        if v > best { best = v; bestIndex = p * inSize + (columnMajor ? colOffset : offset) }
                        sum += v
                        count += 1
                    }
                    var i = d - 1
                    while i >= 0 { k[i] += 1; if k[i] < w.kernel[i] { break }; k[i] = 0; i -= 1 }
                }
                y[p * outSize + flat] = isMax ? best : sum / T(countIncludePad ? Swift.max(padded, 1) : Swift.max(count, 1))
                indices?[p * outSize + flat] = T(bestIndex)
                var i = d - 1
                while i >= 0 { o[i] += 1; if o[i] < w.output[i] { break }; o[i] = 0; i -= 1 }
            }
        }
    }

    public enum Reduction: Sendable { case mean, sum, max, min }

    /// `kind` over `axes` of x (shape `shape`), written to y in row-major order of the kept dims.
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func reduce<T: ExecScalar>(_ kind: Reduction, _ x: UnsafePointer<T>, shape: [Int], axes: Set<Int>, into y: UnsafeMutablePointer<T>) {
        let outShape = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let outStrides = rowMajorStrides(outShape)
        let outCount = outShape.reduce(1, *), total = shape.reduce(1, *)
        let n = T(axes.reduce(1) { $0 * shape[$1] })
        let start: T = kind == .max ? -.infinity : kind == .min ? .infinity : 0
        y.update(repeating: start, count: outCount)
        var index = [Int](repeating: 0, count: shape.count)
        for flat in 0..<total {
            var o = 0
            for i in 0..<shape.count where !axes.contains(i) { o += index[i] * outStrides[i] }
            switch kind {
            case .mean, .sum: y[o] += x[flat]
            case .max: y[o] = x[flat].isNaN || y[o].isNaN ? .nan : Swift.max(y[o], x[flat])
            case .min: y[o] = x[flat].isNaN || y[o].isNaN ? .nan : Swift.min(y[o], x[flat])
            }
            var i = shape.count - 1
            while i >= 0 { index[i] += 1; if index[i] < shape[i] { break }; index[i] = 0; i -= 1 }
        }
        if kind == .mean { for i in 0..<outCount { y[i] /= Swift.max(n, 1) } }
    }

    /// `reduce` where the reduced axes are one contiguous run: x seen as [outer, count, inner], y
    /// [outer, inner], for inner positions in `inner range` only (a thread's share). The same
    /// arithmetic in the same order as `reduce` (each output starts at its identity and takes
    /// x[o, 0, i], x[o, 1, i], ... in turn), so the results are identical.
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func reduceRun<T: ExecScalar>(_ kind: Reduction, _ x: UnsafePointer<T>, outer: Int, count: Int, inner: Int, innerRange: Range<Int>,
                                                into y: UnsafeMutablePointer<T>) {
        let start: T = kind == .max ? -.infinity : kind == .min ? .infinity : 0
        for o in 0..<outer {
            for i in innerRange {
                var acc = start
                for r in 0..<count {
                    let v = x[(o * count + r) * inner + i]
                    switch kind {
                    case .mean, .sum: acc += v
                    case .max: acc = v.isNaN || acc.isNaN ? .nan : Swift.max(acc, v)
                    case .min: acc = v.isNaN || acc.isNaN ? .nan : Swift.min(acc, v)
                    }
                }
                y[o * inner + i] = kind == .mean ? acc / Swift.max(T(count), 1) : acc
            }
        }
    }

    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func reduceMean<T: ExecScalar>(_ x: UnsafePointer<T>, shape: [Int], axes: Set<Int>, into y: UnsafeMutablePointer<T>) {
        reduce(.mean, x, shape: shape, axes: axes, into: y)
    }

    /// A strided gather: out[i] = x[sum_d idx_d * strides[d]] over the output shape (Transpose, Expand: strides 0 where broadcast).
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func stridedCopy<T: ExecScalar>(_ x: UnsafePointer<T>, strides: [Int], outShape: [Int], into y: UnsafeMutablePointer<T>) {
        var index = [Int](repeating: 0, count: outShape.count)
        var offset = 0
        for o in 0..<outShape.reduce(1, *) {
            y[o] = x[offset]
            var d = outShape.count - 1
            while d >= 0 {
                index[d] += 1; offset += strides[d]
                if index[d] < outShape[d] { break }
                offset -= strides[d] * outShape[d]; index[d] = 0
                d -= 1
            }
        }
    }

    /// Direct convolution of any spatial rank (1-D ECA convs, 3-D): x [N, C, *in], w [M, C/group, *kernel], optional bias [M].
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func conv<T: ExecScalar>(_ x: UnsafePointer<T>, batch: Int, channels: Int, _ win: Window, weight: UnsafePointer<T>, outChannels: Int,
                            group: Int, bias: UnsafePointer<T>?, into y: UnsafeMutablePointer<T>) {
        let d = win.input.count
        let inPlane = win.input.reduce(1, *), outPlane = win.output.reduce(1, *), kernelSize = win.kernel.reduce(1, *)
        let cg = channels / group, mg = outChannels / group
        var o = [Int](repeating: 0, count: d), k = [Int](repeating: 0, count: d)
        let inStrides = rowMajorStrides(win.input)
        for n in 0..<batch {
            for m in 0..<outChannels {
                let g = m / mg
                for p in 0..<outPlane {
                    var rest = p
                    for i in stride(from: d - 1, through: 0, by: -1) { o[i] = rest % win.output[i]; rest /= win.output[i] }
                    var acc: T = bias?[m] ?? 0
                    for c in 0..<cg {
                        let xc = x + (n * channels + g * cg + c) * inPlane
                        let wc = weight + (m * cg + c) * kernelSize
                        for q in 0..<kernelSize {
                            var r = q
                            for i in stride(from: d - 1, through: 0, by: -1) { k[i] = r % win.kernel[i]; r /= win.kernel[i] }
                            var offset = 0, inside = true
                            for i in 0..<d {
                                let pos = o[i] * win.stride[i] - win.padBegin[i] + k[i] * win.dilation[i]
                                if pos < 0 || pos >= win.input[i] { inside = false; break }
                                offset += pos * inStrides[i]
                            }
                            if inside { acc += xc[offset] * wc[q] }
                        }
                    }
                    y[(n * outChannels + m) * outPlane + p] = acc
                }
            }
        }
    }

    /// Softmax along one axis: x viewed as [outer, length, inner].
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func softmax<T: ExecScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, outer: Int, length: Int, inner: Int) {
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var m = -T.infinity
                for l in 0..<length { m = max(m, x[base + l * inner]) }
                var s: T = 0
                for l in 0..<length { let e = T.expOf(x[base + l * inner] - m); y[base + l * inner] = e; s += e }
                for l in 0..<length { y[base + l * inner] /= s }
            }
        }
    }

    /// Constant padding of any rank: out[i + begin] = x[i], the rest `fill`.
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func pad<T: ExecScalar>(_ x: UnsafePointer<T>, shape: [Int], begin: [Int], outShape: [Int], fill: Float, into y: UnsafeMutablePointer<T>) {
        y.update(repeating: T(fill), count: outShape.reduce(1, *))
        let outStrides = rowMajorStrides(outShape)
        var index = [Int](repeating: 0, count: shape.count)
        for flat in 0..<shape.reduce(1, *) {
            var o = 0
            for i in 0..<shape.count { o += (index[i] + begin[i]) * outStrides[i] }
            y[o] = x[flat]
            var i = shape.count - 1
            while i >= 0 { index[i] += 1; if index[i] < shape[i] { break }; index[i] = 0; i -= 1 }
        }
    }
}
