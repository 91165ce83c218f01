import ResNetIR
import ResNetShapes

/// Plan-time values: integer shape arithmetic comes from the shared constant
/// folder (the shape library's facts, the same the checker resolves); float
/// constants (Constant, ConstantOfShape, reshapes and casts of constants) are
/// materialised here. Returns false for a node that must run.
extension Planner {
    func planConstant(_ node: Node) throws -> Bool {
        // Integer results the folder resolved to numbers become plan-time constants.
        let outs = node.outputs.filter { !$0.isEmpty }
        if !outs.isEmpty, outs.allSatisfy({ facts[$0]?.isConstant == true && facts[$0]?.ints != nil
                && DataType(rawValue: facts[$0]?.elemType ?? 0)?.isInteger == true }) {
            for (k, name) in node.outputs.enumerated() where !name.isEmpty {
                guard let f = facts[name], let v = f.ints else { continue }
                set(node, .ints(v, shape: try outputShape(node, k)), output: k)
            }
            return true
        }
        switch node.opType {
        case "Constant":
            if let t = node.attribute("value")?.tensor {
                if let v = t.integerValues { set(node, .ints(v, shape: t.dims.map { Int($0) })) }
                else if let c = FloatConstant(t) { set(node, .floats(c, shape: t.dims.map { Int($0) })) }
                else { throw ExecError.unsupportedDataType(node: node.name, value: node.outputs.first ?? "", dataType: t.dataType.description) }
            } else if let v = node.attribute("value_int")?.int { set(node, .ints([v], shape: []))
            } else if let v = node.attribute("value_ints")?.ints { set(node, .ints(v, shape: [v.count]))
            } else if let v = node.attribute("value_float")?.float { set(node, .floats(FloatConstant(values: [v]), shape: []))
            } else if let v = node.attribute("value_floats")?.floats { set(node, .floats(FloatConstant(values: v), shape: [v.count]))
            } else { throw ExecError.unsupportedAttribute(node: node.name, detail: "Constant without a numeric value") }
            return true
        case "ConstantOfShape":
            let dims = try outputShape(node)
            let count = dims.reduce(1, *)  // within the budget: checked in inferShapes
            let value = node.attribute("value")?.tensor
            let integer = value?.dataType.isInteger == true
            try chargeConstant(elements: count, elementSize: integer ? 8 : 4, what: "ConstantOfShape '\(node.name)' \(dims)")
            if let t = value, integer, let v = t.integerValues {
                set(node, .ints(Array(repeating: v.first ?? 0, count: count), shape: dims))
            } else {
                let fill = value.flatMap { FloatConstant($0)?.array.first } ?? 0
                set(node, .floats(FloatConstant(values: Array(repeating: fill, count: count)), shape: dims))
            }
            return true
        default:
            break
        }
        let inputs = node.inputs.filter { !$0.isEmpty }.compactMap { values[$0] }
        guard inputs.count == node.inputs.filter({ !$0.isEmpty }).count, !inputs.isEmpty else { return false }
        let floatTypes: Set<Int64> = [1, 10, 11, 16]
        switch inputs[0] {
        case let .floats(c, _) where ["Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze"].contains(node.opType)
                || (node.opType == "Cast" && floatTypes.contains(node.attribute("to")?.int ?? 0))
                || (node.opType == "CastLike" && floatTypes.contains(Int64(facts[node.outputs.first ?? ""]?.elemType ?? 0))):
            // Reshape-like ops of float constants stay constants.
            set(node, .floats(c, shape: try outputShape(node)))
            return true
        case let .floats(c, shape) where node.opType == "Expand":
            // A constant broadcast at plan time (torch's dynamo exporter builds zero biases this way).
            let out = try outputShape(node)
            try chargeConstant(elements: out.reduce(1, *), elementSize: 4, what: "Expand '\(node.name)' \(out)")
            let values = c.array, strides = Fold.broadcastStrides(shape, to: out)
            var result = [Float](repeating: 0, count: out.reduce(1, *))
            var index = [Int](repeating: 0, count: out.count)
            for o in result.indices {
                result[o] = values[zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }]
                var d = out.count - 1
                while d >= 0 { index[d] += 1; if index[d] < out[d] { break }; index[d] = 0; d -= 1 }
            }
            set(node, .floats(FloatConstant(values: result), shape: out))
            return true
        case let .ints(v, _) where (node.opType == "Cast" && floatTypes.contains(node.attribute("to")?.int ?? 0))
                || (node.opType == "CastLike" && floatTypes.contains(Int64(facts[node.outputs.first ?? ""]?.elemType ?? 0))):
            try chargeConstant(elements: v.count, elementSize: 4, what: "Cast '\(node.name)'")
            set(node, .floats(FloatConstant(values: v.map(Float.init)), shape: try outputShape(node)))
            return true
        default:
            return false
        }
    }
}
