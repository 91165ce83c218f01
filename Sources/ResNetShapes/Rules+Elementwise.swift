import ResNetIR

/// Elementwise operators with numpy broadcasting, Where, Clip, Cast, Dropout,
/// and value propagation for shape arithmetic.
extension ShapeRules {
    /// Broadcasts shapes right-aligned (ONNX multidirectional broadcasting).
    /// Returns nil where known dims conflict (neither equal nor 1).
    public static func broadcast(_ shapes: [SShape]) -> SShape? {
        let rank = shapes.map(\.count).max() ?? 0
        var out: SShape = []
        for i in 0..<rank {
            var dim: SDim = .known(1)
            for s in shapes {
                let j = i - (rank - s.count)
                guard j >= 0 else { continue }
                let d = s[j]
                switch (dim, d) {
                case (.known(1), _): dim = d
                case (_, .known(1)): break
                case let (.known(a), .known(b)) where a != b: return nil
                case (.known, _): break
                case (_, .known): dim = d
                case let (.symbol(a), .symbol(b)) where a != b: dim = .unknown
                default: break
                }
            }
            out.append(dim)
        }
        return out
    }

    static func broadcastOrThrow(_ shapes: [SShape]) throws -> SShape {
        guard let b = broadcast(shapes) else {
            throw ShapeError.invalid("operands cannot be broadcast together: " + shapes.map(describe).joined(separator: " and "),
                                     expected: "equal dims, or 1", actual: shapes.map(describe).joined(separator: " vs "))
        }
        return b
    }

    static func elementwise(_ c: NodeContext) throws -> ValueFacts {
        let present = c.inputs.compactMap { $0 }
        let logical = c.opType("Equal", "Less", "Greater")
        let elem = logical ? DataType.bool.rawValue : c.elemType
        guard present.count == c.inputs.count, !present.isEmpty else { return ValueFacts(elemType: elem, shape: nil) }
        let shapes = present.compactMap(\.shape)
        guard shapes.count == present.count else { return ValueFacts(elemType: elem, shape: nil) }
        let shape = try broadcastOrThrow(shapes)
        // Shape arithmetic on small integer values (e.g. Shape(x) * [1, 0, 1, 1] + [0, extra, 0, 0]).
        var values: [SDim]? = nil
        let foldable = c.opType("Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Equal", "Less", "Greater")
        if foldable, Fold.small(shape) != nil, var acc = present[0].values, var accShape = Fold.small(present[0].shape) {
            var complete = true
            for p in present.dropFirst() {
                guard let v = p.values, let s = Fold.small(p.shape), let out = Fold.broadcastShape(accShape, s) else { complete = false; break }
                acc = try Fold.binary(c.node.opType, acc, accShape, v, s, out: out)
                accShape = out
            }
            if complete { values = acc }
        }
        return ValueFacts(elemType: elem, shape: shape, values: values)
    }

    /// Where(condition, X, Y): three-way broadcasting; folded when all three are known.
    static func whereOp(_ c: NodeContext) throws -> ValueFacts {
        let elem = c.input(1)?.elemType ?? 0
        guard let s0 = c.shape(0), let s1 = c.shape(1), let s2 = c.shape(2) else { return ValueFacts(elemType: elem, shape: nil) }
        let shape = try broadcastOrThrow([s0, s1, s2])
        var values: [SDim]? = nil
        if let out = Fold.small(shape), let cond = c.input(0)?.ints, let x = c.input(1)?.values, let y = c.input(2)?.values,
           let a = Fold.small(s0), let b = Fold.small(s1), let d = Fold.small(s2) {
            let sa = Fold.broadcastStrides(a, to: out), sb = Fold.broadcastStrides(b, to: out), sd = Fold.broadcastStrides(d, to: out)
            var v: [SDim] = []
            Fold.forEachIndex(out) { idx in
                var (i, j, k) = (0, 0, 0)
                for q in 0..<out.count { i += idx[q] * sa[q]; j += idx[q] * sb[q]; k += idx[q] * sd[q] }
                v.append(cond[i] != 0 ? x[j] : y[k])
            }
            values = v
        }
        return ValueFacts(elemType: elem, shape: shape, values: values)
    }

    /// Clip: min/max as attributes (opset < 11) or scalar inputs.
    static func clip(_ c: NodeContext) throws -> ValueFacts {
        for i in [1, 2] where c.has(i) {
            if let s = c.shape(i), !(s.isEmpty || s == [.known(1)]) {
                throw ShapeError.invalid("Clip's \(i == 1 ? "min" : "max") must be a scalar", attribute: "input \(i)", expected: "[]", actual: describe(s))
            }
        }
        return ValueFacts(elemType: c.elemType, shape: c.shape(0))
    }

    static func cast(_ c: NodeContext) throws -> ValueFacts {
        let to = try c.int("to", 0)
        guard let t = Int32(exactly: to), let type = DataType(rawValue: t), type != .string || c.elemType == Int32(DataType.string.rawValue) else {
            throw ShapeError.invalid("Cast 'to' \(to) is not a data type this tool can cast to", attribute: "to",
                                     expected: "an ONNX TensorProto.DataType", actual: String(to))
        }
        return ValueFacts(elemType: type.rawValue, shape: c.shape(0), values: castValues(c.input(0)?.values, to: type))
    }

    /// Folded values through a cast (Cast, CastLike): kept only where the target type holds
    /// every value exactly; otherwise dropped, never wrapped (Int64.max cast to int32 is -1 in onnxruntime).
    static func castValues(_ values: [SDim]?, to type: DataType) -> [SDim]? {
        guard let values else { return nil }
        let range: ClosedRange<Int64>
        switch type {
        case .int64: return values
        case .int32: range = Int64(Int32.min)...Int64(Int32.max)
        case .int16: range = Int64(Int16.min)...Int64(Int16.max)
        case .int8: range = Int64(Int8.min)...Int64(Int8.max)
        case .uint64, .uint32: range = 0...Int64(UInt32.max)
        case .uint16: range = 0...Int64(UInt16.max)
        case .uint8: range = 0...255
        case .bool: range = 0...1
        case .float16: range = -2048...2048      // integers float16 holds exactly
        case .float: range = -(1 << 24)...(1 << 24)
        case .double: range = -(1 << 53)...(1 << 53)
        default: return nil
        }
        return values.allSatisfy({ $0.value.map(range.contains) ?? true }) ? values : nil
    }

    static func dropout(_ c: NodeContext) throws -> [ValueFacts] {
        if let r = c.node.attribute("ratio")?.float, !(r >= 0 && r < 1) {
            throw ShapeError.invalid("ratio \(r) is outside [0, 1)", attribute: "ratio", expected: "0 <= ratio < 1", actual: String(r))
        }
        return [ValueFacts(elemType: c.elemType, shape: c.shape(0)), ValueFacts(elemType: DataType.bool.rawValue, shape: c.shape(0))]
    }
}
