import ResNetIR
import ResNetShapes
import ResNetKernels
import ResNetKernelsReference

/// Split, Expand, Transpose, Where and convolutions of other than two spatial
/// dims: the operators attention blocks (SE, ECA, SK) bring. Output shapes come
/// from the shape library; these only move or combine floats.
extension Planner {
    /// Split along `axis` into the outputs' sizes (resolved by the shape library).
    func split(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        var axis = Int(node.attribute("axis")?.int ?? 0)
        if axis < 0 { axis += xs.count }
        let outer = xs[..<axis].reduce(1, *), inner = xs[(axis + 1)...].reduce(1, *), row = xs[axis] * inner
        var start = 0
        for k in node.outputs.indices {
            let shape = try outputShape(node, k)
            let len = shape[axis] * inner, from = start
            let y = newTensor(shape)
            // Every output's step reads x: without this mark x lived only to the first, and a later
            // output could take x's buffer while its step still copied from it (SK blocks' Split).
            if k > 0 { use(x) }
            emit(node) { p in
                for o in 0..<outer { (p.pointer(y) + o * len).update(from: p.pointer(x) + o * row + from, count: len) }
            }
            set(node, .tensor(id: y, shape: shape), output: k)
            start += len
        }
    }

    /// Expand: the input broadcast to the output shape.
    func expand(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let out = try outputShape(node)
        let strides = Fold.broadcastStrides(xs, to: out)
        let y = newTensor(out)
        if simd, let (rows, size, period) = rowScalarPattern(xs, out) {
            // One value a row (ECA's gate expanded to its input's shape): filled row by row, split over threads.
            let parts = elementwiseParts(out.reduce(1, *), rows: rows)
            emit(node) { p in
                let (px, py) = (p.f32(x), p.f32(y))
                DispatchFor.concurrent(parts) { t in Elementwise.fillRows(px, py, rows: (rows * t / parts)..<(rows * (t + 1) / parts), size: size, period: period) }
            }
        } else {
            emit(node) { p in GenericOps.stridedCopy(p.pointer(x), strides: strides, outShape: out, into: p.pointer(y)) }
        }
        set(node, .tensor(id: y, shape: out))
    }

    /// Transpose by `perm` (default: reversed axes).
    func transpose(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let perm = (node.attribute("perm")?.ints?.map { Int($0) < 0 ? Int($0) + xs.count : Int($0) }) ?? Array((0..<xs.count).reversed())
        let out = try outputShape(node)
        let inStrides = rowMajorStrides(xs)
        let strides = perm.map { inStrides[$0] }
        let y = newTensor(out)
        emit(node) { p in GenericOps.stridedCopy(p.pointer(x), strides: strides, outShape: out, into: p.pointer(y)) }
        set(node, .tensor(id: y, shape: out))
    }

    /// Where(condition, X, Y) with a condition known at plan time.
    func whereOp(_ node: Node) throws {
        guard case let .ints(condition, cshape) = try value(node, 0) else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "Where with a condition computed at run time")
        }
        let (a, ash) = try tensor(node, 1)
        let (b, bsh) = try tensor(node, 2)
        let out = try outputShape(node)
        let sc = Fold.broadcastStrides(cshape, to: out), sa = Fold.broadcastStrides(ash, to: out), sb = Fold.broadcastStrides(bsh, to: out)
        let y = newTensor(out)
        emit(node) { p in
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
        set(node, .tensor(id: y, shape: out))
    }

    /// Conv of 1 or 3+ spatial dims (ECA's 1-D conv over channels): direct, from the shared window arithmetic.
    func convND(_ node: Node) throws {
        let (x, xs) = try tensor(node, 0)
        let (w, ws) = try floats(node, 1)
        let bias = try optionalValue(node, 2).map { _ in try floats(node, 2).0 }
        let group = Int(node.attribute("group")?.int ?? 1)
        guard xs.count >= 3, ws.count == xs.count, group >= 1 else {
            throw ExecError.unsupportedAttribute(node: node.name, detail: "Conv of input \(xs) with weight \(ws)")
        }
        if let bias, bias.count != ws[0] {
            throw ExecError.invalidModel(node: node.name, detail: "Conv bias has \(bias.count) values for \(ws[0]) output channels")
        }
        let (win, _) = try window(node, spatial: Array(xs.dropFirst(2)), kernel: Array(ws.dropFirst(2)))
        let out = try outputShape(node)
        let y = newTensor(out)
        let (batch, channels, m) = (xs[0], xs[1], ws[0])
        // Each output element sums C/group x the kernel's volume products (ws = [M, C/group, k...]).
        let macs = out.reduce(1, &*) &* ws.dropFirst().reduce(1, &*)
        emit(node, macs: macs, kernel: "reference direct, \(xs.count - 2)-D") { p in
            w.withValues { (wf: UnsafeBufferPointer<T>) in withOptionalValues(bias) { (b: UnsafePointer<T>?) in
                GenericOps.conv(p.pointer(x), batch: batch, channels: channels, win, weight: base(wf), outChannels: m, group: group,
                                bias: b, into: p.pointer(y))
            } }
        }
        set(node, .tensor(id: y, shape: out))
    }
}
