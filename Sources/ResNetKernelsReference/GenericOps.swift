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
    public static func pool(_ x: UnsafePointer<Float>, planes: Int, _ w: Window, max isMax: Bool, countIncludePad: Bool,
                            padEnd: [Int], into y: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Float>?,
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
                var best = -Float.infinity, bestIndex = 0, sum: Float = 0, count = 0, padded = 0
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
                y[p * outSize + flat] = isMax ? best : sum / Float(countIncludePad ? Swift.max(padded, 1) : Swift.max(count, 1))
                indices?[p * outSize + flat] = Float(bestIndex)
                var i = d - 1
                while i >= 0 { o[i] += 1; if o[i] < w.output[i] { break }; o[i] = 0; i -= 1 }
            }
        }
    }

    /// Mean over `axes` of x (shape `shape`), written to y in row-major order of the kept dims.
    public static func reduceMean(_ x: UnsafePointer<Float>, shape: [Int], axes: Set<Int>, into y: UnsafeMutablePointer<Float>) {
        let outShape = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let outStrides = rowMajorStrides(outShape)
        let outCount = outShape.reduce(1, *), total = shape.reduce(1, *)
        let n = Float(axes.reduce(1) { $0 * shape[$1] })
        y.update(repeating: 0, count: outCount)
        var index = [Int](repeating: 0, count: shape.count)
        for flat in 0..<total {
            var o = 0
            for i in 0..<shape.count where !axes.contains(i) { o += index[i] * outStrides[i] }
            y[o] += x[flat]
            var i = shape.count - 1
            while i >= 0 { index[i] += 1; if index[i] < shape[i] { break }; index[i] = 0; i -= 1 }
        }
        for i in 0..<outCount { y[i] /= max(n, 1) }
    }

    /// Softmax along one axis: x viewed as [outer, length, inner].
    public static func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, length: Int, inner: Int) {
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var m = -Float.infinity
                for l in 0..<length { m = max(m, x[base + l * inner]) }
                var s: Float = 0
                for l in 0..<length { let e = expf(x[base + l * inner] - m); y[base + l * inner] = e; s += e }
                for l in 0..<length { y[base + l * inner] /= s }
            }
        }
    }

    /// Constant padding of any rank: out[i + begin] = x[i], the rest `fill`.
    public static func pad(_ x: UnsafePointer<Float>, shape: [Int], begin: [Int], outShape: [Int], fill: Float, into y: UnsafeMutablePointer<Float>) {
        y.update(repeating: fill, count: outShape.reduce(1, *))
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
