import ResNetIR

/// Plan-time evaluation of nodes whose inputs are all known: shape arithmetic
/// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape; Shape -> Mul -> Add ->
/// ConstantOfShape), Constant, and reshapes of constants. Returns false for a
/// node that must run.
extension Planner {
    func planConstant(_ node: Node) throws -> Bool {
        switch node.opType {
        case "Constant":
            if let t = node.attribute("value")?.tensor {
                if let v = intValues(t) { set(node, .ints(v, shape: t.dims.map { Int($0) })) }
                else if let c = FloatConstant(t) { set(node, .floats(c, shape: t.dims.map { Int($0) })) }
                else { throw ExecError.unsupportedDataType(node: node.name, value: node.outputs.first ?? "", dataType: t.dataType.description) }
            } else if let v = node.attribute("value_int")?.int { set(node, .ints([v], shape: []))
            } else if let v = node.attribute("value_ints")?.ints { set(node, .ints(v, shape: [v.count]))
            } else if let v = node.attribute("value_float")?.float { set(node, .floats(FloatConstant(values: [v]), shape: []))
            } else if let v = node.attribute("value_floats")?.floats { set(node, .floats(FloatConstant(values: v), shape: [v.count]))
            } else { throw ExecError.unsupportedAttribute(node: node.name, detail: "Constant without a value") }
            return true
        case "Shape":
            let shape = try value(node, 0).shape.map(Int64.init)
            let r = Int64(shape.count)
            func clamp(_ v: Int64) -> Int { Int(max(0, min(r, v < 0 ? v + r : v))) }
            let s = clamp(node.attribute("start")?.int ?? 0), e = clamp(node.attribute("end")?.int ?? r)
            let v = s < e ? Array(shape[s..<e]) : []
            set(node, .ints(v, shape: [v.count]))
            return true
        case "ConstantOfShape":
            let dims = try ints(node, 0).map(Int.init)
            let count = dims.reduce(1, *)
            if let t = node.attribute("value")?.tensor, let v = intValues(t) {
                set(node, .ints(Array(repeating: v.first ?? 0, count: count), shape: dims))
            } else {
                let fill = node.attribute("value")?.tensor.flatMap { FloatConstant($0)?.array.first } ?? 0
                set(node, .floats(FloatConstant(values: Array(repeating: fill, count: count)), shape: dims))
            }
            return true
        default:
            break
        }
        // The rest fold only when every input is an integer constant.
        let inputs = node.inputs.filter { !$0.isEmpty }.compactMap { values[$0] }
        guard inputs.count == node.inputs.filter({ !$0.isEmpty }).count, !inputs.isEmpty else { return false }
        let intInputs: [([Int64], [Int])] = inputs.compactMap { if case let .ints(v, s) = $0 { return (v, s) }; return nil }
        if intInputs.count != inputs.count {
            // Reshape-like ops of float constants stay constants.
            if case let .floats(c, shape)? = inputs.first, ["Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Cast"].contains(node.opType) {
                if node.opType == "Cast", let to = node.attribute("to")?.int, ![1, 10, 11, 16].contains(to) { return false }
                set(node, .floats(c, shape: try reshapedShape(node, shape)))
                return true
            }
            return false
        }
        let (a, ashape) = intInputs[0]
        if node.opType == "Cast", let to = node.attribute("to")?.int, to == 1 || to == 10 || to == 11 || to == 16 {
            set(node, .floats(FloatConstant(values: a.map(Float.init)), shape: ashape))
            return true
        }
        switch node.opType {
        case "Identity", "Cast", "Reshape", "Flatten", "Squeeze", "Unsqueeze":
            set(node, .ints(a, shape: try reshapedShape(node, ashape)))
        case "Gather":
            let idx = intInputs[1].0
            let v = try idx.map { i -> Int64 in
                let k = i < 0 ? Int(i) + a.count : Int(i)
                guard k >= 0, k < a.count else { throw ExecError.shapeMismatch(node: node.name, detail: "index \(i) out of range") }
                return a[k]
            }
            set(node, .ints(v, shape: intInputs[1].1))
        case "Concat":
            let v = intInputs.flatMap(\.0)
            set(node, .ints(v, shape: [v.count]))
        case "Add", "Sub", "Mul", "Div":
            let b = intInputs[1].0
            let n = max(a.count, b.count)
            guard a.count == b.count || a.count == 1 || b.count == 1 else {
                throw ExecError.shapeMismatch(node: node.name, detail: "integer operands of \(a.count) and \(b.count) elements")
            }
            let v = try (0..<n).map { i -> Int64 in
                let x = a[a.count == 1 ? 0 : i], y = b[b.count == 1 ? 0 : i]
                switch node.opType {
                case "Add": return x &+ y
                case "Sub": return x &- y
                case "Mul": return x &* y
                default:
                    guard y != 0 else { throw ExecError.shapeMismatch(node: node.name, detail: "integer division by zero") }
                    return x / y
                }
            }
            set(node, .ints(v, shape: a.count >= b.count ? ashape : intInputs[1].1))
        case "Slice":
            guard ashape.count == 1, intInputs.count >= 3 else { return false }
            let n = Int64(a.count)
            func clamp(_ v: Int64) -> Int { Int(max(0, min(n, v < 0 ? v &+ n : v))) }
            let s = clamp(intInputs[1].0.first ?? 0), e = clamp(intInputs[2].0.first ?? n)
            let v = s < e ? Array(a[s..<e]) : []
            set(node, .ints(v, shape: [v.count]))
        default:
            return false
        }
        return true
    }
}
