import ResNetIR
import ResNetShapes
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// Elementwise with broadcasting, Gemm, MatMul, Softmax, and data movement.
extension Planner {
    func binary(_ node: Node, relu: Bool, output: Node, residual: (add: Node, shortcut: Int)? = nil) throws {
        guard node.inputs.count == 2 else { throw ExecError.unsupportedAttribute(node: node.name, detail: "\(node.opType) of \(node.inputs.count) inputs") }
        let (a, ash) = try tensor(node, 0)
        let (b, bsh) = try tensor(node, 1)
        let out = try outputShape(node)  // broadcast by the shape library
        let y = newTensor(out)
        let count = out.reduce(1, *), simd = self.simd
        let ops: [String: ElementwiseReference.Binary] = ["Sub": .sub, "Mul": .mul, "Div": .div, "Pow": .pow, "Max": .max, "Min": .min]
        let op = ops[node.opType] ?? .add
        // On SIMD plans two patterns run vectorised and split over threads: operands of one shape, and
        // one operand constant along the output's trailing dims (SE and ECA gates, x [N, C, H, W] *
        // s [N, C, 1, 1]), which the general broadcast walked index by index: timm's seresnet50 on 2
        // threads spent 22 ms a run in its 16 gate Muls.
        let rowScalar = simd && ash != bsh ? (ash == out ? rowScalarPattern(bsh, out).map { ($0, false) } : nil)
            ?? (bsh == out ? rowScalarPattern(ash, out).map { ($0, true) } : nil) : nil
        // findGateResidualFusions fused an Add only where these shapes make the row pattern.
        guard residual == nil || rowScalar != nil else {
            throw ExecError.shapeMismatch(node: node.name, detail: "fused residual on a broadcast of \(ash) and \(bsh) (planner inconsistency)")
        }
        if ash == bsh && (node.opType == "Add" || node.opType == "Sum") && !simd {
            emit(node, work: .addReference(AddReferenceStep(a: a, b: b, y: y, count: count, relu: relu)))
        } else if ash == bsh && simd {
            let parts = elementwiseParts(count)
            emit(node, work: .binary(BinaryStep(op: op, a: a, b: b, y: y, count: count, relu: relu, parts: parts)))
        } else if let ((rows, size, period), scalarFirst) = rowScalar {
            let (x, s) = scalarFirst ? (b, a) : (a, b), parts = elementwiseParts(count, rows: rows)
            // A fused SE join (findGateResidualFusions) adds its shortcut in the same pass.
            let shortcut = try residual.map { try tensor($0.add, $0.shortcut) }
            if let shortcut, shortcut.1 != out {
                throw ExecError.shapeMismatch(node: node.name, detail: "fused shortcut \(shortcut.1) for \(out) (planner inconsistency)")
            }
            let r = shortcut?.0
            emit(node, work: .rowScalar(RowScalarStep(op: op, x: x, s: s, y: y, r: r, rows: rows, size: size, period: period,
                scalarFirst: scalarFirst, relu: relu, parts: parts)))
            set(output, .tensor(id: y, shape: out))
            return
        } else {
            let sa = Fold.broadcastStrides(ash, to: out), sb = Fold.broadcastStrides(bsh, to: out)
            emit(node, work: .broadcast(BroadcastStep(op: op, a: a, b: b, y: y, sa: sa, sb: sb, out: out, count: count, relu: relu)))
        }
        set(output, .tensor(id: y, shape: out))
    }

    /// How `small`, broadcast to `out`, is one value per row of out's trailing dims: (rows, size, period)
    /// with small's value for row r at r % period (small [N, C, 1, 1] against [N, C, H, W]: period N x C;
    /// [1, C, 1, 1] or [C, 1, 1]: C; one value: 1); nil for any other pattern or rows of one value.
    func rowScalarPattern(_ small: [Int], _ out: [Int]) -> (rows: Int, size: Int, period: Int)? {
        guard small.count <= out.count, !out.contains(0) else { return nil }
        let strides = Fold.broadcastStrides(small, to: out)
        // The trailing dims along which small is constant: size values a row.
        var inner = out.count
        while inner > 0 && strides[inner - 1] == 0 { inner -= 1 }
        let size = out[inner...].reduce(1, *), rows = out[..<inner].reduce(1, *), period = small.reduce(1, *)
        guard size > 1, period >= 1, rows % period == 0 else { return nil }
        // Row r (its index over out's leading dims) must read small at r % period: true when small's leading
        // dims are out's trailing leading dims, contiguous, after dims where it broadcasts.
        var index = [Int](repeating: 0, count: inner)
        for r in 0..<rows {
            let at = zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }
            guard at == r % period else { return nil }
            var d = inner - 1
            while d >= 0 { index[d] += 1; if index[d] < out[d] { break }; index[d] = 0; d -= 1 }
        }
        return (rows, size, period)
    }

    /// Threads an elementwise step of `count` values runs on: one below 64 Ki values (a split would cost
    /// more than it saves), else the plan's, at most one a row when `rows` is given.
    func elementwiseParts(_ count: Int, rows: Int? = nil) -> Int {
        count < 1 << 16 ? 1 : max(1, min(packedWorkspace.threads, rows ?? count))
    }

    /// Gemm: Y[M,N] = alpha * A[M,K] · op(B) + beta * C, B a constant (transposed once at plan time if transB).
    func gemm(_ node: Node) throws {
        var (a, ash) = try tensor(node, 0)
        let (w, wsh) = try floats(node, 1)
        guard ash.count == 2, wsh.count == 2 else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "Gemm with inputs of rank other than 2")
        }
        if (node.attribute("transA")?.int ?? 0) != 0 {
            // A is [K, M]: transpose it into [M, K] first.
            let t = newTensor([ash[1], ash[0]])
            let (rows, cols, src) = (ash[0], ash[1], a)
            emit(node, work: .transposeMatrix(MatrixTransposeStep(src: src, t: t, rows: rows, cols: cols)))
            (a, ash) = (t, [ash[1], ash[0]])
        }
        let transB = (node.attribute("transB")?.int ?? 0) != 0
        let (k, n) = transB ? (wsh[1], wsh[0]) : (wsh[0], wsh[1])
        guard ash[1] == k else { throw ExecError.shapeMismatch(node: node.name, detail: "A \(ash) does not fit B \(wsh)") }
        let alpha = node.attribute("alpha")?.float ?? 1, beta = node.attribute("beta")?.float ?? 1
        let wv = w.array
        let bkn: [T] = (0..<(k * n)).map { i in T(alpha) * T(transB ? wv[(i % n) * k + i / n] : wv[i]) }
        let m = ash[0]
        // C broadcast to [M, N] once at plan time (it is a constant), scaled by beta; only when C is given,
        // and held to the budget (M is the batch: [M, N] is the output's size).
        var bias: [T] = []
        if optionalValue(node, 2) != nil {
            let (c, csh) = try floats(node, 2)
            let cv = c.array
            let out = try broadcastShape(node, csh, [m, n])
            guard out == [m, n] else { throw ExecError.shapeMismatch(node: node.name, detail: "C \(csh) does not broadcast to [\(m), \(n)]") }
            try budget.check(elements: m * n, elementSize: MemoryLayout<T>.size, what: "Gemm '\(node.name)' bias [\(m), \(n)]")
            bias = [T](repeating: 0, count: m * n)
            let strides = Fold.broadcastStrides(csh, to: [m, n])
            for i in 0..<m { for j in 0..<n { bias[i * n + j] = T(beta) * T(cv[i * strides[0] + j * strides[1]]) } }
        }
        // A may be the transposed copy made above: it is read by the step emitted next,
        // so its buffer must outlive that step (not be handed to y or a scratch tensor).
        use(a)
        let y = newTensor([m, n])
        maxGemmN = max(maxGemmN, n)
        let simd = self.simd
        if simd && m <= n {
            // A classifier (M = batch, small; N = classes): Y^T[N, M] = W[N, K] · A^T[K, M] with
            // W packed once here, so a run reads the weights once instead of repacking them.
            // Few images run transposed (sgemmNarrow: images as the tile's rows, classes as
            // its columns, threads splitting the classes), as narrow convs do: at batch 1 the
            // plain tile computes 32 columns (16 on AVX2) for one image (resnet50's fc, 1
            // thread, 3 interleaved runs: 1.06-1.32 ms plain, 0.28-0.33 transposed).
            let kernels = self.kernels, workspace = packedWorkspace
            let narrow = runsTransposed(real: m, columns: m)
            if narrow { try reserveTransposed(node, m: n, n: m) }
            let panelRows = narrow ? kernels.tileColumns : kernels.tileRows
            let floats = PackedA.floatCount(m: n, k: k, mr: panelRows) ?? Int.max
            let packed = try prepared.packed("gemm \(node.outputs.first ?? node.name) \(panelRows)") {
                try chargeConstant(elements: floats, elementSize: 4, what: "packed weights of '\(node.name)'")
            } make: {
                let wT = (0..<(n * k)).map { i in Float(bkn[(i % k) * n + i / k]) }  // [N, K] = bkn^T
                return [wT.withUnsafeBufferPointer { PackedA(a: $0.baseAddress!, lda: k, m: n, k: k, mr: panelRows) }]
            }[0]
            let aT = newTensor([k, m]), yT = newTensor([n, m])
            emit(node, macs: m &* n &* k, work: .gemmPacked(PackedGemmStep(a: a, y: y, aT: aT, yT: yT, m: m, n: n, k: k, kernels: kernels,
                narrow: narrow, packed: packed, workspace: workspace, bias: bias)))
            set(node, .tensor(id: y, shape: [m, n]))
            return
        }
        emit(node, macs: m &* n &* k, work: .gemm(GemmStep(a: a, y: y, m: m, n: n, k: k, bkn: bkn, bias: bias, simd: simd)))
        set(node, .tensor(id: y, shape: [m, n]))
    }

    /// MatMul of a 2-D tensor by a 2-D constant.
    func matmul(_ node: Node) throws {
        guard case let .floats(_, wsh0)? = optionalValue(node, 1), case let .tensor(_, ash0)? = optionalValue(node, 0),
              ash0.count == 2, wsh0.count == 2, ash0[1] == wsh0[0] else {
            try matmulGeneral(node)
            return
        }
        let (a, ash) = try tensor(node, 0)
        let (w, wsh) = try floats(node, 1)
        let (m, k, n) = (ash[0], ash[1], wsh[1])
        let y = newTensor([m, n])
        maxGemmN = max(maxGemmN, n)
        let simd = self.simd
        emit(node, macs: m &* n &* k, work: .matmul(MatMulStep(a: a, y: y, m: m, n: n, k: k, w: w, simd: simd)))
        set(node, .tensor(id: y, shape: [m, n]))
    }

    func softmax(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let axisDefault: Int64 = opset >= 13 ? -1 : 1
        var axis = Int(node.attribute("axis")?.int ?? axisDefault)
        if axis < 0 { axis += xs.count }
        guard axis >= 0, axis < xs.count else { throw ExecError.shapeMismatch(node: node.name, detail: "axis \(axis) out of range for \(xs)") }
        // From opset 13 Softmax works on `axis` alone; before, on everything from `axis` on, flattened.
        if opset >= 13 && axis != xs.count - 1 {
            let y = newTensor(xs)
            let outer = xs[..<axis].reduce(1, *), length = xs[axis], inner = xs[(axis + 1)...].reduce(1, *)
            emit(node, work: .softmaxAxis(SoftmaxAxisStep(x: x, y: y, outer: outer, length: length, inner: inner)))
            set(node, .tensor(id: y, shape: xs))
            return
        }
        let inner = xs[axis...].reduce(1, *), outer = xs[..<axis].reduce(1, *)
        let y = newTensor(xs)
        emit(node, work: .softmax(SoftmaxStep(x: x, y: y, outer: outer, inner: inner)))
        set(node, .tensor(id: y, shape: xs))
    }

    /// Data movement on float tensors: reshapes alias; Concat, Pad and Slice copy.
    func planTensorOp(_ node: Node) throws {
        switch node.opType {
        case "Identity", "Dropout", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Cast", "CastLike":
            let (x, xs) = try tensor(node, 0)
            if node.opType == "Dropout" {
                var ratio = node.attribute("ratio")?.float ?? 0.5
                if let r = optionalValue(node, 1), case let .floats(c, _) = r { ratio = c.array.first ?? ratio }
                if let t = optionalValue(node, 2), case let .ints(v, _) = t, v.first ?? 0 != 0, ratio != 0 {
                    // With ratio 0 training mode drops nothing (deterministic); otherwise it is random.
                    throw ExecError.unsupportedAttribute(node: node.name, detail: "training-mode Dropout with ratio \(ratio) (random; the executor runs inference)")
                }
                if node.outputs.count > 1 && !node.outputs[1].isEmpty {
                    // Inference: nothing is dropped, the mask is all true.
                    let mask = newTensor(xs)
                    let count = xs.reduce(1, *)
                    startReads()  // the mask step reads nothing (x stays alive through its view, the output)
                    emit(node, work: .ones(OnesStep(mask: mask, count: count)))
                    set(node, .tensor(id: mask, shape: xs), output: 1)
                }
            }
            if node.opType == "CastLike", facts[node.outputs.first ?? ""]?.elemType != DataType.float.rawValue {
                throw ExecError.unsupportedAttribute(node: node.name, detail: "CastLike of a float tensor to a non-float type")
            }
            if node.opType == "Cast", (node.attribute("to")?.int ?? 1) != 1 {
                throw ExecError.unsupportedAttribute(node: node.name, detail: "Cast of a float tensor to type \(node.attribute("to")?.int ?? 0)")
            }
            set(node, alias(x, try outputShape(node)))
        case "Concat":
            let parts = try node.inputs.indices.map { try tensor(node, $0) }
            guard let first = parts.first?.1 else { throw ExecError.shapeMismatch(node: node.name, detail: "no inputs") }
            // Ranks and off-axis dims were checked equal by the shape library, so each part's rows fit.
            var axis = Int(node.attribute("axis")?.int ?? 0)
            if axis < 0 { axis += first.count }
            let out = try outputShape(node)
            let outer = first[..<axis].reduce(1, *)
            let y = newTensor(out)
            let chunks = parts.map { ($0.0, $0.1[axis...].reduce(1, *)) }
            let rowOut = out[axis...].reduce(1, *)
            emit(node, work: .concat(ConcatStep(y: y, outer: outer, rowOut: rowOut, chunks: chunks)))
            set(node, .tensor(id: y, shape: out))
        case "Pad": try pad(node)
        case "Slice": try slice(node)
        default:
            throw ExecError.unsupportedOp(node: node.name.isEmpty ? node.outputs.first ?? "?" : node.name, opType: node.opType)
        }
    }

    /// Constant-mode Pad of a 4-D tensor.
    func pad(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let given = try node.attribute("pads")?.ints ?? ints(node, 1)
        let mode = node.attribute("mode")?.string ?? "constant"
        var fill = node.attribute("value")?.float ?? 0
        if let v = optionalValue(node, 2), case let .floats(c, _) = v { fill = c.array.first ?? 0 }
        // Pads given for some axes only (opset 18) spread over every axis, as the shape library resolves them.
        let axes: [Int64]? = optionalValue(node, 3) != nil ? try ints(node, 3) : nil
        let pads = try ShapeRules.resolvePads(given, axes: axes, rank: xs.count)
        if mode == "constant", pads.count == 2 * xs.count, pads.allSatisfy({ $0 >= 0 }), xs.count != 4 {
            let begin = pads[..<xs.count].map(Int.init)
            let out = try outputShape(node)
            let y = newTensor(out)
            emit(node, work: .padAnyRank(PadNDStep(x: x, y: y, xs: xs, begin: begin, out: out, fill: fill)))
            set(node, .tensor(id: y, shape: out))
            return
        }
        guard mode == "constant", pads.count == 2 * xs.count, pads.allSatisfy({ $0 >= 0 }), xs.count == 4 else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "Pad mode \(mode) with pads \(pads) on \(xs) (only non-negative constant padding of 4-D)")
        }
        let p = pads.map(Int.init)
        let out = try outputShape(node)
        let y = newTensor(out)
        emit(node, work: .pad(PadStep(x: x, y: y, xs: xs, out: out, p: p, fill: fill)))
        set(node, .tensor(id: y, shape: out))
    }

    /// Slice of a float tensor (strided identity shortcuts): general strided copy,
    /// with starts/ends/axes/steps resolved by the shape library's clamping.
    func slice(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        guard let spec = try ShapeRules.sliceSpec(context(node), rank: xs.count) else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "Slice with starts/ends/axes/steps computed at run time")
        }
        var begin = [Int](repeating: 0, count: xs.count), step = [Int](repeating: 1, count: xs.count)
        for (k, d) in spec.axes.enumerated() {
            let r = ShapeRules.sliceAxis(n: Int64(xs[d]), start: spec.starts[k], end: spec.ends[k], step: spec.steps[k])
            begin[d] = Int(r.begin)
            // A step past the axis' length takes one element: clamp it so the index arithmetic stays small.
            step[d] = Int(max(-Int64(xs[d]) - 1, min(Int64(xs[d]) + 1, spec.steps[k])))
        }
        let out = try outputShape(node)
        let y = newTensor(out)
        let inStrides = rowMajorStrides(xs)
        emit(node, work: .slice(SliceStep(x: x, y: y, out: out, begin: begin, step: step, inStrides: inStrides)))
        set(node, .tensor(id: y, shape: out))
    }
}
