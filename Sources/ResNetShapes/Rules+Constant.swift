import ResNetIR

/// Constants: Constant, ConstantOfShape, Range.
extension ShapeRules {
    static func constantOfShape(_ c: NodeContext) throws -> ValueFacts {
        var elem = DataType.float.rawValue
        var fill: SDim? = .known(0)
        if let a = c.node.attribute("value") {
            guard let t = a.tensor, t.elementCount == 1 else {
                throw ShapeError.invalid("value must be a one-element tensor", attribute: "value", expected: "1 element", actual: "\(a.tensor?.dims ?? [])")
            }
            elem = t.dataType.rawValue
            fill = t.integerValues.flatMap { $0.first }.map { .known($0) }
        }
        if let s = c.shape(0), s.count != 1 { throw ShapeError.invalid("input must be 1-D", attribute: "input 0", expected: "rank 1", actual: describe(s)) }
        guard let dims = c.input(0)?.values else { return ValueFacts(elemType: elem, shape: nil) }
        if let bad = dims.first(where: { ($0.value ?? 0) < 0 }) {
            throw ShapeError.invalid("shape has a negative dim \(bad)", attribute: "input 0", expected: "dims >= 0", actual: describe(dims))
        }
        let count = try elementCount(dims)
        var values: [SDim]? = nil
        if let fill, DataType(rawValue: elem)?.isInteger == true, let n = count.value, n <= Int64(ValueFacts.maxFoldedElements) {
            values = Array(repeating: fill, count: Int(n))
        }
        return ValueFacts(elemType: elem, shape: dims, values: values)
    }

    static func constant(_ c: NodeContext) throws -> ValueFacts {
        guard let a = c.node.attributes.first else { throw ShapeError.invalid("Constant has no value attribute", attribute: "value") }
        guard c.node.attributes.count == 1 else {
            throw ShapeError.invalid("Constant has \(c.node.attributes.count) attributes", expected: "exactly one value attribute",
                                     actual: c.node.attributes.map(\.name).joined(separator: ", "))
        }
        switch (a.name, a.value) {
        case let ("value", .tensor(t)):
            guard t.elementCount != nil else { throw ShapeError.invalid("value tensor has dims \(t.dims)", attribute: "value", expected: "dims >= 0") }
            return ValueFacts(tensor: t)
        case ("value_float", .float): return ValueFacts(elemType: DataType.float.rawValue, shape: [], isConstant: true)
        case let ("value_int", .int(v)): return ValueFacts(elemType: DataType.int64.rawValue, shape: [], values: [.known(v)], isConstant: true)
        case let ("value_ints", .ints(v)):
            return ValueFacts(elemType: DataType.int64.rawValue, shape: [.known(Int64(v.count))], values: v.map { .known($0) }, isConstant: true)
        case let ("value_floats", .floats(v)): return ValueFacts(elemType: DataType.float.rawValue, shape: [.known(Int64(v.count))], isConstant: true)
        case ("value_string", .string): return ValueFacts(elemType: DataType.string.rawValue, shape: [], isConstant: true)
        case let ("value_strings", .strings(v)): return ValueFacts(elemType: DataType.string.rawValue, shape: [.known(Int64(v.count))], isConstant: true)
        default:
            throw ShapeError.invalid("Constant attribute '\(a.name)' is not a value of the right type", attribute: a.name,
                                     expected: "value, value_float(s), value_int(s) or value_string(s)", actual: a.name)
        }
    }

    /// Range(start, limit, delta): max(ceil((limit - start) / delta), 0) elements.
    static func range(_ c: NodeContext) throws -> ValueFacts {
        for i in 0..<3 { if let s = c.shape(i), !s.isEmpty, s != [.known(1)] {
            throw ShapeError.invalid("operand \(i) must be a scalar", attribute: "input \(i)", expected: "[]", actual: describe(s))
        } }
        guard let start = c.input(0)?.ints?.first, let limit = c.input(1)?.ints?.first, let delta = c.input(2)?.ints?.first else {
            return ValueFacts(elemType: c.elemType, shape: [.unknown])
        }
        guard delta != 0 else { throw ShapeError.invalid("delta is 0", attribute: "input 2", expected: "a non-zero delta", actual: "0") }
        let span = try Checked.sub(limit, start, "Range's span")
        let count: Int64
        if (span > 0) != (delta > 0) || span == 0 { count = 0 } else {
            let (m, d) = (span.magnitude, delta.magnitude)
            guard let c = Int64(exactly: m / d + (m % d == 0 ? 0 : 1)) else {
                throw ShapeError.invalid("Range from \(start) to \(limit) by \(delta) has more elements than a 64-bit size holds", attribute: "input 1")
            }
            count = c
        }
        var values: [SDim]? = nil
        if count <= Int64(ValueFacts.maxFoldedElements) {
            values = try (0..<count).map { .known(try Checked.add(start, try Checked.mul($0, delta, "Range"), "Range")) }
        }
        return ValueFacts(elemType: c.elemType, shape: [.known(count)], values: values)
    }
}
