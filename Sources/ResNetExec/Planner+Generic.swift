import ResNetIR
import ResNetShapes
import ResNetKernels
import ResNetKernelsReference

/// General forms of operators (N-D windows, any axes, batched MatMul, Gather)
/// that ResNets rarely need but the ONNX backend tests exercise.
extension Planner {
    /// Window geometry over any number of spatial dims, from the shared window
    /// arithmetic (pads, strides, dilations, ceil_mode, auto_pad); returns the end pads too.
    func window(_ node: Node, spatial: [Int], kernel: [Int]) throws -> (GenericOps.Window, [Int]) {
        let attributes = try ShapeRules.windowAttributes(of: node, kernel: kernel.map(Int64.init), opset: opset)
        let dims = try spatial.indices.map { try ShapeRules.windowDim(Int64(spatial[$0]), attributes, $0) }
        return (GenericOps.Window(input: spatial, kernel: kernel, stride: attributes.strides.map { Int($0) },
                                  dilation: attributes.dilations.map { Int($0) }, padBegin: dims.map { Int($0.padBegin) },
                                  output: dims.map { Int($0.output) }), dims.map { Int($0.padEnd) })
    }

    func genericPool(_ node: Node, x: Int, xs: [Int], kernel: [Int]) throws {
        let (w, padEnd) = try window(node, spatial: Array(xs.dropFirst(2)), kernel: kernel)
        let outShape = [xs[0], xs[1]] + w.output
        let y = newTensor(outShape)
        let wantsIndices = node.outputs.count > 1 && !node.outputs[1].isEmpty
        let indices = wantsIndices ? newTensor(outShape) : nil
        let isMax = node.opType == "MaxPool", includePad = (node.attribute("count_include_pad")?.int ?? 0) != 0
        let columnMajor = (node.attribute("storage_order")?.int ?? 0) == 1
        let planes = xs[0] * xs[1]
        emit(node, work: .pool(.generic(x: x, y: y, indices: indices, planes: planes, window: w, max: isMax, countIncludePad: includePad,
                                        padEnd: padEnd, columnMajor: columnMajor)))
        set(node, .tensor(id: y, shape: outShape))
        if let indices { set(node, .tensor(id: indices, shape: outShape), output: 1) }
    }

    /// ReduceMean/Sum/Max/Min over any axes (checked in range and distinct by the shape library).
    func reduceGeneral(_ node: Node, x: Int, xs: [Int], axes: [Int64]?) throws {
        let kind: GenericOps.Reduction = node.opType == "ReduceSum" ? .sum : node.opType == "ReduceMax" ? .max
            : node.opType == "ReduceMin" ? .min : .mean
        var set = Set((axes ?? []).map { $0 < 0 ? Int($0) + xs.count : Int($0) })
        if axes == nil || axes?.isEmpty == true {
            if (node.attribute("noop_with_empty_axes")?.int ?? 0) != 0 { self.set(node, alias(x, xs)); return }
            set = Set(0..<xs.count)
        }
        let outShape = try outputShape(node)
        let y = newTensor(outShape)
        let axesSet = set
        if simd, let low = set.min(), let high = set.max(), high - low + 1 == set.count {
            // One contiguous run of axes: x as [outer, count, inner], vectorised across inner and split over threads.
            let outer = xs[..<low].reduce(1, *), count = xs[low...high].reduce(1, *), inner = xs[(high + 1)...].reduce(1, *)
            let parts = inner >= 8 ? elementwiseParts(outer * count * inner, rows: inner / 8) : 1
            emit(node, work: .reduceRun(ReduceRunStep(kind: kind, x: x, y: y, outer: outer, count: count, inner: inner, parts: parts)))
            self.set(node, .tensor(id: y, shape: outShape))
            return
        }
        emit(node, work: .reduce(ReduceStep(kind: kind, x: x, y: y, xs: xs, axesSet: axesSet)))
        self.set(node, .tensor(id: y, shape: outShape))
    }

    /// Sum/Max/Min/Mean of any number of inputs (1: a copy; 3+: pairwise with broadcasting; Mean divides at the end).
    func variadic(_ node: Node) throws {
        let op: ElementwiseReference.Binary = node.opType == "Max" ? .max : node.opType == "Min" ? .min : .add
        var (acc, shape) = try tensor(node, 0)
        for i in 1..<max(node.inputs.count, 1) {
            let (b, bs) = try tensor(node, i)
            let out = try broadcastShape(node, shape, bs)  // operands checked by the shape library
            let y = newTensor(out)
            let sa = Fold.broadcastStrides(shape, to: out), sb = Fold.broadcastStrides(bs, to: out), a = acc
            use(a)  // the running result (read by this step: its buffer must not become y's)
            emit(node, work: .broadcast(BroadcastStep(op: op, a: a, b: b, y: y, sa: sa, sb: sb, out: out, count: out.reduce(1, *), relu: false)))
            (acc, shape) = (y, out)
        }
        if node.opType == "Mean" && node.inputs.count > 1 {
            let y = newTensor(shape), count = shape.reduce(1, *), a = acc, scale = 1 / T(node.inputs.count)
            use(a)
            emit(node, work: .scale(ScaleStep(a: a, y: y, count: count, scale: scale)))
            acc = y
        }
        set(node, node.inputs.count == 1 ? alias(acc, shape) : .tensor(id: acc, shape: shape))
    }

    /// numpy broadcasting of two shapes the shape library already checked (the shared rule, on numbers).
    func broadcastShape(_ node: Node, _ a: [Int], _ b: [Int]) throws -> [Int] {
        guard let out = Fold.broadcastShape(a, b) else { throw ExecError.shapeMismatch(node: node.name, detail: "cannot broadcast \(a) with \(b)") }
        return out
    }

    /// Gather of a float tensor by constant indices along `axis`.
    func gather(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let indices = try ints(node, 1)
        var axis = Int(node.attribute("axis")?.int ?? 0)
        if axis < 0 { axis += xs.count }
        guard axis >= 0, axis < xs.count else { throw ExecError.shapeMismatch(node: node.name, detail: "axis out of range") }
        let idx = try indices.map { i -> Int in
            let k = i < 0 ? Int(i) + xs[axis] : Int(i)
            guard k >= 0, k < xs[axis] else { throw ExecError.shapeMismatch(node: node.name, detail: "index \(i) out of range for \(xs[axis])") }
            return k
        }
        let out = try outputShape(node)
        let outer = xs[..<axis].reduce(1, *), inner = xs[(axis + 1)...].reduce(1, *), len = xs[axis]
        let y = newTensor(out)
        emit(node, work: .gather(GatherStep(x: x, y: y, outer: outer, len: len, inner: inner, idx: idx)))
        set(node, .tensor(id: y, shape: out))
    }

    /// MatMul with numpy semantics: 1-D operands promoted, batch dims broadcast.
    func matmulGeneral(_ node: Node) throws {
        let (a, as0) = try tensor(node, 0)
        let (b, bs0) = try tensor(node, 1)
        let aShape = as0.count == 1 ? [1, as0[0]] : as0, bShape = bs0.count == 1 ? [bs0[0], 1] : bs0
        let (m, k, n) = (aShape[aShape.count - 2], aShape[aShape.count - 1], bShape[bShape.count - 1])
        guard bShape[bShape.count - 2] == k else { throw ExecError.shapeMismatch(node: node.name, detail: "MatMul of \(as0) by \(bs0)") }
        let batch = try broadcastShape(node, Array(aShape.dropLast(2)), Array(bShape.dropLast(2)))
        let out = try outputShape(node)
        let y = newTensor(out)
        let sa = Fold.broadcastStrides(Array(aShape.dropLast(2)), to: batch), sb = Fold.broadcastStrides(Array(bShape.dropLast(2)), to: batch)
        let count = batch.reduce(1, *)
        maxGemmN = max(maxGemmN, n)
        let simd = self.simd
        emit(node, macs: count &* m &* n &* k, work: .batchedMatMul(BatchedMatMulStep(a: a, b: b, y: y, m: m, n: n, k: k, batch: batch,
            sa: sa, sb: sb, count: count, simd: simd)))
        set(node, .tensor(id: y, shape: out))
    }
}

extension Planner {
    /// BatchNormalization with training_mode=1 (deterministic): Y uses the batch's own mean and
    /// (population) variance; outputs 1 and 2 are the updated running statistics,
    /// running = input * momentum + batch * (1 - momentum), as the ONNX spec defines them.
    func batchNormTraining(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let params = try (1...4).map { try floats(node, $0).0.array }
        guard xs.count >= 2, params.allSatisfy({ $0.count == xs[1] }) else {
            throw ExecError.shapeMismatch(node: node.name, detail: "parameters do not have \(xs.count >= 2 ? xs[1] : 0) channels")
        }
        let eps = node.attribute("epsilon")?.float ?? 1e-5, momentum = node.attribute("momentum")?.float ?? 0.9
        let (n, c, size) = (xs[0], xs[1], xs.dropFirst(2).reduce(1, *))
        let y = newTensor(xs), runningMean = newTensor([c]), runningVar = newTensor([c])
        emit(node, work: .batchNormTraining(TrainingBatchNormStep(x: x, y: y, runningMean: runningMean, runningVar: runningVar, n: n, c: c,
            size: size, params: params, eps: eps, momentum: momentum)))
        set(node, .tensor(id: y, shape: xs))
        set(node, .tensor(id: runningMean, shape: [c]), output: 1)
        set(node, .tensor(id: runningVar, shape: [c]), output: 2)
    }
}
