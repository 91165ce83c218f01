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
            emit(node, work: .split(SplitStep(x: x, y: y, outer: outer, len: len, row: row, from: from)))
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
            emit(node, work: .fillRows(FillRowsStep(x: x, y: y, rows: rows, size: size, period: period, parts: parts)))
        } else {
            emit(node, work: .stridedCopy(StridedCopyStep(x: x, y: y, strides: strides, out: out)))
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
        emit(node, work: .stridedCopy(StridedCopyStep(x: x, y: y, strides: strides, out: out)))
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
        emit(node, work: .whereSelect(WhereStep(a: a, b: b, y: y, condition: condition, sc: sc, sa: sa, sb: sb, out: out)))
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
        emit(node, macs: macs, kernel: "reference direct, \(xs.count - 2)-D", work: .directConv(DirectConvStep(x: x, y: y, w: w, bias: bias,
            batch: batch, channels: channels, m: m, group: group, win: win)))
        set(node, .tensor(id: y, shape: out))
    }
}
