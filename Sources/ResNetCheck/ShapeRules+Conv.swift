/// Conv, BatchNormalization and pooling: the spatial arithmetic of a ResNet.
extension ShapeRules {
    /// Output size of one spatial dim for a window op.
    ///   explicit pads: floor_or_ceil((in + begin + end - dilation*(k-1) - 1) / stride) + 1
    ///   SAME_UPPER/SAME_LOWER: ceil(in / stride); VALID: pads 0.
    /// With ceil_mode, a last window that would start in the right padding is dropped (as onnxruntime and PyTorch do).
    static func windowOutput(_ input: SDim, kernel: Int64, stride: Int64, dilation: Int64, begin: Int64, end: Int64,
                             autoPad: String, ceilMode: Bool) throws -> SDim {
        guard case let .known(n) = input else { return .unknown }
        guard stride > 0, kernel > 0, dilation > 0 else { throw RuleError.shape("kernel, stride and dilation must be positive") }
        if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" { return .known((n + stride - 1) / stride) }
        let (b, e) = autoPad == "VALID" ? (Int64(0), Int64(0)) : (begin, end)
        let span = dilation * (kernel - 1) + 1
        let room = n + b + e - span
        guard room >= 0 else {
            throw RuleError.shape("window of \(span) does not fit input \(n) with pads \(b)+\(e)",
                                  expected: "input + pads >= \(span)", actual: String(n + b + e))
        }
        var out = (ceilMode ? (room + stride - 1) / stride : room / stride) + 1
        if ceilMode && (out - 1) * stride >= n + b { out -= 1 }
        return .known(out)
    }

    /// Spatial output dims of Conv/MaxPool/AveragePool.
    static func spatial(_ c: NodeContext, input: SShape, kernel: [Int64]) throws -> SShape {
        let k = kernel.count
        let strides = c.ints("strides") ?? Array(repeating: 1, count: k)
        let dilations = c.ints("dilations") ?? Array(repeating: 1, count: k)
        let pads = c.ints("pads") ?? Array(repeating: 0, count: 2 * k)
        guard strides.count == k, dilations.count == k, pads.count == 2 * k, input.count == k + 2 else {
            throw RuleError.shape("kernel_shape, strides, dilations and pads disagree on the number of spatial dims",
                                  expected: "\(input.count - 2) spatial dims", actual: "kernel \(k), strides \(strides.count), pads \(pads.count)")
        }
        let autoPad = c.string("auto_pad") ?? "NOTSET"
        let ceil = c.int("ceil_mode", 0) != 0
        return try (0..<k).map { i in
            try windowOutput(input[i + 2], kernel: kernel[i], stride: strides[i], dilation: dilations[i],
                             begin: pads[i], end: pads[i + k], autoPad: autoPad, ceilMode: ceil)
        }
    }

    /// Conv: X [N, C, *spatial], W [M, C/group, *kernel] -> [N, M, *out].
    static func conv(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0), let w = c.shape(1) else { return ValueFacts(elemType: c.elemType, shape: nil) }
        guard x.count >= 3, x.count == w.count else {
            throw RuleError.shape("input rank \(x.count) and weight rank \(w.count) differ", expected: "rank \(w.count)", actual: describe(x))
        }
        let group = c.int("group", 1)
        if case let .known(channels) = x[1], case let .known(perGroup) = w[1], channels != perGroup * group {
            throw RuleError.shape("input has \(channels) channels but the weight expects \(perGroup) x group \(group)",
                                  expected: "\(perGroup * group) channels", actual: "\(channels) channels (input \(describe(x)))")
        }
        let kernel = c.ints("kernel_shape") ?? w.dropFirst(2).map { $0.value ?? 1 }
        return ValueFacts(elemType: c.elemType, shape: [x[0], w[0]] + (try spatial(c, input: x, kernel: kernel)))
    }

    /// BatchNormalization (inference): Y has X's shape; scale/bias/mean/var have C elements.
    static func batchNorm(_ c: NodeContext) throws -> [ValueFacts] {
        let x = c.shape(0)
        if let x, x.count >= 2, case let .known(channels) = x[1] {
            for i in 1...4 {
                if let p = c.shape(i), p.count == 1, case let .known(n) = p[0], n != channels {
                    throw RuleError.shape("parameter \(i) has \(n) elements for \(channels) channels",
                                          expected: "[\(channels)]", actual: describe(p))
                }
            }
        }
        return [ValueFacts(elemType: c.elemType, shape: x)]
    }

    static func pool(_ c: NodeContext) throws -> [ValueFacts] {
        guard let x = c.shape(0) else { return [.unknown, .unknown] }
        guard let kernel = c.ints("kernel_shape") else { throw RuleError.shape("kernel_shape is required") }
        let shape = [x[0], x[1]] + (try spatial(c, input: x, kernel: kernel))
        return [ValueFacts(elemType: c.elemType, shape: shape), ValueFacts(elemType: 7, shape: shape)]
    }

    static func globalPool(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        guard x.count >= 3 else { throw RuleError.shape("needs rank >= 3", actual: describe(x)) }
        return ValueFacts(elemType: c.elemType, shape: [x[0], x[1]] + Array(repeating: .known(1), count: x.count - 2))
    }

    /// ReduceMean: axes as attribute (opset < 18) or input (18+); keepdims default 1.
    static func reduceMean(_ c: NodeContext) throws -> ValueFacts {
        guard let x = c.shape(0) else { return .unknown }
        let keep = c.int("keepdims", 1) != 0
        let given = c.intsFromAttributeOrInput("axes", input: 1)
        if given == nil && c.inputs.count > 1 && c.input(1) != nil { return ValueFacts(elemType: c.elemType, shape: nil) }
        let axes: Set<Int>
        if let given, !given.isEmpty {
            axes = Set(try given.map { try axis($0, rank: x.count, "axis") })
        } else if c.int("noop_with_empty_axes", 0) != 0 {
            return ValueFacts(elemType: c.elemType, shape: x)
        } else {
            axes = Set(0..<x.count)
        }
        let out: SShape = x.enumerated().compactMap { i, d in axes.contains(i) ? (keep ? .known(1) : nil) : d }
        return ValueFacts(elemType: c.elemType, shape: out)
    }
}
