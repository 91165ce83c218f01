import ResNetIR

/// Conv, BatchNormalization and pooling: the spatial arithmetic of a ResNet.
extension ShapeRules {
    /// A window operator's attributes, checked: kernel, strides, dilations > 0,
    /// pads >= 0, one value per spatial dim, auto_pad one of ONNX's four.
    public struct WindowAttributes: Sendable, Equatable {
        public let kernel: [Int64]
        public let strides: [Int64]
        public let dilations: [Int64]
        /// [begin..., end...] as written (ignored under SAME_* and VALID).
        public let pads: [Int64]
        public let autoPad: String
        public let ceilMode: Bool
    }

    /// One spatial dim resolved: output size and the pads actually applied.
    public struct WindowDim: Sendable, Equatable {
        public let output: Int64
        public let padBegin: Int64
        public let padEnd: Int64
    }

    /// The checked window attributes of a Conv/MaxPool/AveragePool node (the executor's entry point).
    public static func windowAttributes(of node: Node, kernel: [Int64], opset: Int64) throws -> WindowAttributes {
        try windowAttributes(NodeContext(node: node, inputs: [], opset: opset), kernel: kernel, spatialRank: kernel.count)
    }

    static func windowAttributes(_ c: NodeContext, kernel: [Int64], spatialRank k: Int) throws -> WindowAttributes {
        let strides = try c.ints("strides") ?? Array(repeating: 1, count: k)
        let dilations = try c.ints("dilations") ?? Array(repeating: 1, count: k)
        let pads = try c.ints("pads") ?? Array(repeating: 0, count: 2 * k)
        for (name, list, want) in [("kernel_shape", kernel, k), ("strides", strides, k), ("dilations", dilations, k), ("pads", pads, 2 * k)]
            where list.count != want {
            throw ShapeError.invalid("\(name) has \(list.count) values for \(k) spatial dims", attribute: name, expected: "\(want) values", actual: "\(list)")
        }
        for (name, list) in [("kernel_shape", kernel), ("strides", strides), ("dilations", dilations)] where list.contains(where: { $0 < 1 }) {
            throw ShapeError.invalid("\(name) must be positive", attribute: name, expected: "values >= 1", actual: "\(list)")
        }
        guard pads.allSatisfy({ $0 >= 0 }) else {
            throw ShapeError.invalid("pads must not be negative", attribute: "pads", expected: "values >= 0", actual: "\(pads)")
        }
        let autoPad = try c.string("auto_pad") ?? "NOTSET"
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else {
            throw ShapeError.invalid("auto_pad '\(autoPad)' is not one of ONNX's", attribute: "auto_pad",
                                     expected: "NOTSET, SAME_UPPER, SAME_LOWER or VALID", actual: autoPad)
        }
        let ceil = try c.opType("MaxPool", "AveragePool") ? c.bool("ceil_mode", false) : false
        return WindowAttributes(kernel: kernel, strides: strides, dilations: dilations, pads: pads, autoPad: autoPad, ceilMode: ceil)
    }

    /// Output size of spatial dim `i` for input size `n`:
    ///   explicit pads: floor_or_ceil((n + begin + end - dilation*(k-1) - 1) / stride) + 1
    ///   SAME_UPPER/SAME_LOWER: ceil(n / stride), the pad total split (extra at the end for UPPER); VALID: no pads.
    /// With ceil_mode, a last window that would start in the right padding is dropped (as onnxruntime and PyTorch do).
    public static func windowDim(_ n: Int64, _ w: WindowAttributes, _ i: Int) throws -> WindowDim {
        let k = w.kernel.count
        let stride = w.strides[i]
        let span = try Checked.add(try Checked.mul(w.dilations[i], w.kernel[i] - 1, "dilation x (kernel - 1)"), 1, "window span")
        var (b, e) = (w.pads[i], w.pads[i + k])
        if w.autoPad == "SAME_UPPER" || w.autoPad == "SAME_LOWER" {
            let out = n / stride + (n % stride == 0 ? 0 : 1)
            let covered = try Checked.add(try Checked.mul(max(out - 1, 0), stride, "SAME padding"), span, "SAME padding")
            let total = max(0, covered - n)
            (b, e) = w.autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            return WindowDim(output: out, padBegin: b, padEnd: e)
        }
        if w.autoPad == "VALID" { (b, e) = (0, 0) }
        let padded = try Checked.add(try Checked.add(n, b, "input + pads"), e, "input + pads")
        let room = padded - span
        guard room >= 0 else {
            throw ShapeError.invalid("window of \(span) does not fit input \(n) with pads \(b)+\(e)",
                                     expected: "input + pads >= \(span)", actual: String(padded))
        }
        var out = (w.ceilMode ? room / stride + (room % stride == 0 ? 0 : 1) : room / stride) + 1
        if w.ceilMode {
            let (start, overflow) = (out - 1).multipliedReportingOverflow(by: stride)
            if overflow || start >= n + b { out -= 1 }  // n + b <= padded: no overflow
        }
        return WindowDim(output: out, padBegin: b, padEnd: e)
    }

    /// Spatial output dims of Conv/MaxPool/AveragePool.
    static func spatial(_ c: NodeContext, input: SShape, kernel: [Int64]) throws -> SShape {
        let k = input.count - 2
        let w = try windowAttributes(c, kernel: kernel, spatialRank: k)
        return try (0..<k).map { i in
            guard case let .known(n) = input[i + 2] else { return .unknown }
            guard n >= 0 else { throw ShapeError.invalid("spatial dim \(i) is \(n)", expected: ">= 0", actual: String(n)) }
            return .known(try windowDim(n, w, i).output)
        }
    }

    /// Conv: X [N, C, *spatial], W [M, C/group, *kernel], B [M] -> [N, M, *out].
    static func conv(_ c: NodeContext) throws -> ValueFacts {
        let group = try c.int("group", 1, in: 1...Int64.max)
        guard let x = c.shape(0), let w = c.shape(1) else { return ValueFacts(elemType: c.elemType, shape: nil) }
        guard x.count >= 3, x.count == w.count else {
            throw ShapeError.invalid("input rank \(x.count) and weight rank \(w.count) differ (or are below 3)",
                                     expected: "equal ranks >= 3", actual: "input \(describe(x)), weight \(describe(w))")
        }
        if case let .known(channels) = x[1], case let .known(perGroup) = w[1], channels != (try Checked.mul(perGroup, group, "channels")) {
            throw ShapeError.invalid("input has \(channels) channels but the weight expects \(perGroup) x group \(group)",
                                     expected: "\(perGroup) x \(group) channels", actual: "\(channels) channels (input \(describe(x)))")
        }
        if case let .known(m) = w[0], m % group != 0 {
            throw ShapeError.invalid("\(m) output channels do not split into \(group) groups", attribute: "group",
                                     expected: "a multiple of \(group)", actual: String(m))
        }
        if c.has(2), let b = c.shape(2) {
            guard b.count == 1, b[0] == w[0] || b[0].value == nil || w[0].value == nil else {
                throw ShapeError.invalid("bias \(describe(b)) does not match \(w[0]) output channels", attribute: "input 2",
                                         expected: "[\(w[0])]", actual: describe(b))
            }
        }
        let weightKernel = Array(w.dropFirst(2))
        let kernel: [Int64]
        if let given = try c.ints("kernel_shape") {
            for (g, d) in zip(given, weightKernel) where d.value != nil && d.value != g {
                throw ShapeError.invalid("kernel_shape \(given) disagrees with the weight \(describe(w))", attribute: "kernel_shape",
                                         expected: describe(weightKernel), actual: "\(given)")
            }
            kernel = given
        } else {
            guard weightKernel.allSatisfy({ $0.value != nil }) else { return ValueFacts(elemType: c.elemType, shape: nil) }
            kernel = weightKernel.compactMap(\.value)
        }
        return ValueFacts(elemType: c.elemType, shape: [x[0], w[0]] + (try spatial(c, input: x, kernel: kernel)))
    }

    /// BatchNormalization: Y has X's shape; scale/bias/mean/var have C elements;
    /// training mode's extra outputs are the running statistics [C].
    static func batchNorm(_ c: NodeContext) throws -> [ValueFacts] {
        let x = c.shape(0)
        if let x, x.count < 2 { throw ShapeError.invalid("input needs rank >= 2", expected: "[N, C, ...]", actual: describe(x)) }
        let channels = x?[1] ?? .unknown
        for i in 1...4 {
            guard let p = c.shape(i) else { continue }
            guard p.count == 1, p[0] == channels || p[0].value == nil || channels.value == nil else {
                throw ShapeError.invalid("parameter \(i) has shape \(describe(p)) for \(channels) channels", attribute: "input \(i)",
                                         expected: "[\(channels)]", actual: describe(p))
            }
        }
        let stat = ValueFacts(elemType: c.elemType, shape: [channels])
        return [ValueFacts(elemType: c.elemType, shape: x)] + Array(repeating: stat, count: max(0, c.node.outputs.count - 1))
    }

    static func pool(_ c: NodeContext) throws -> [ValueFacts] {
        guard let kernel = try c.ints("kernel_shape") else {
            throw ShapeError.invalid("kernel_shape is required", attribute: "kernel_shape", expected: "one value per spatial dim", actual: "none")
        }
        guard let x = c.shape(0) else { return [.unknown, .unknown] }
        guard x.count >= 3 else { throw ShapeError.invalid("input needs rank >= 3", expected: "[N, C, spatial...]", actual: describe(x)) }
        if c.node.opType == "MaxPool" { _ = try c.int("storage_order", 0, in: 0...1) }
        // A window must overlap the input: pads at least as large as the kernel only add windows of padding
        // (onnxruntime refuses them too), and would let a huge kernel loop over nothing but padding.
        if let pads = try c.ints("pads"), pads.count == 2 * kernel.count {
            for (i, p) in pads.enumerated() where p >= kernel[i % kernel.count] {
                throw ShapeError.invalid("pad \(p) is not smaller than the kernel \(kernel[i % kernel.count])", attribute: "pads",
                                         expected: "pads < kernel_shape", actual: "\(pads)")
            }
        }
        let shape = [x[0], x[1]] + (try spatial(c, input: x, kernel: kernel))
        // Each output element reads a whole window: bound the work, not only the output's size.
        if let outputs = knownCount(shape) {
            var window: Int64 = 1
            for k in kernel { window = window.multipliedReportingOverflow(by: k).overflow ? .max : window * k }
            let (work, overflow) = outputs.multipliedReportingOverflow(by: window)
            guard !overflow, work <= 1 << 40 else {
                throw ShapeError.invalid("\(outputs) outputs x a window of \(window) is more work than any ResNet pool", attribute: "kernel_shape",
                                         expected: "outputs x window <= 2^40", actual: "\(outputs) x \(window)")
            }
        }
        return [ValueFacts(elemType: c.elemType, shape: shape), ValueFacts(elemType: 7, shape: shape)]
    }

    static func globalPool(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        guard x.count >= 3 else { throw ShapeError.invalid("input needs rank >= 3", expected: "[N, C, spatial...]", actual: describe(x)) }
        return ValueFacts(elemType: c.elemType, shape: [x[0], x[1]] + Array(repeating: .known(1), count: x.count - 2))
    }
}

extension NodeContext {
    func opType(_ names: String...) -> Bool { names.contains(node.opType) }
}
