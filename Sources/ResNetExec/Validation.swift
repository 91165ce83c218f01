import ResNetIR
import ResNetShapes

/// What the executor refuses before planning a step: the structural rules
/// `verify` checks (SSA, undefined inputs, cycles, order, outputs) and nodes
/// outside the default ONNX domain. Arity, attributes and shapes are the
/// shape library's (Planner.inferShapes).
enum ModelValidation {
    static func validate(_ model: Model) throws {
        if let p = GraphValidation.problems(model.graph).first {
            throw ExecError.invalidModel(node: p.location, detail: p.message)
        }
        // Beside the default domain: the com.microsoft operators onnxruntime's quantizer writes (issue 13).
        for (i, n) in model.graph.nodes.enumerated() where !(n.domain.isEmpty || n.domain == "ai.onnx")
            && !(n.domain == "com.microsoft" && Planner<Float>.microsoftOps.contains(n.opType)) {
            throw ExecError.unsupportedOp(node: ShapeInference.label(n, i), opType: "\(n.domain).\(n.opType) (domain '\(n.domain)')")
        }
    }
}

extension Planner {
    /// Runs the shared shape inference for this input shape and refuses the
    /// model at its first finding; then checks every runtime value against the budget.
    func inferShapes(input: String, shape: [Int]) throws {
        let inference = ShapeInference(graph: graph, opset: opset, index: index, inputShapes: [input: shape.map { .known(Int64($0)) }])
        inference.run()
        if let f = inference.findings.first {
            switch f.error.kind {
            case .unsupported:
                throw ExecError.unsupportedOp(node: f.location, opType: f.opType)
            case .invalid:
                let attribute = f.error.attribute.map { " \($0)" } ?? ""
                throw ExecError.invalidModel(node: f.location, detail: "\(f.opType)\(attribute): \(f.error)")
            }
        }
        facts = inference.facts
        // Every value the plan may hold (initializers are in memory already): computed constants included.
        let initializers = Set(graph.initializers.map(\.name))
        for (name, f) in facts.sorted(by: { $0.key < $1.key }) where !initializers.contains(name) {
            guard let s = f.shape, let n = knownCount(s) else { continue }
            guard let count = Int(exactly: n) else { throw ExecError.overBudget(what: "value '\(name)' \(describe(s))", bytes: nil, budget: budget.bytes) }
            try budget.check(elements: count, elementSize: MemoryLayout<T>.size, what: "value '\(name)' \(describe(s))")
        }
    }

    /// Charges a constant the planner materialises (ConstantOfShape, Expand or Cast of a constant)
    /// against the budget, in total over the plan, before it is allocated.
    func chargeConstant(elements: Int, elementSize: Int, what: String) throws {
        let bytes = try budget.check(elements: elements, elementSize: elementSize, what: what)
        let (total, overflow) = constantBytes.addingReportingOverflow(bytes)
        guard !overflow, total <= budget.bytes else {
            throw ExecError.overBudget(what: "constants computed at plan time (with \(what))", bytes: overflow ? nil : total, budget: budget.bytes)
        }
        constantBytes = total
    }

    /// Output `k`'s shape as resolved by the shape library (every dim a number).
    func outputShape(_ node: Node, _ k: Int = 0) throws -> [Int] {
        guard k < node.outputs.count, let s = facts[node.outputs[k]]?.shape,
              let dims = Optional(s.compactMap { $0.value.flatMap { Int(exactly: $0) } }), dims.count == s.count else {
            let shape = k < node.outputs.count ? describe(facts[node.outputs[k]]?.shape) : "[?]"
            throw ExecError.invalidModel(node: node.name, detail: "output \(k) has shape \(shape); the executor needs every dim resolved")
        }
        return dims
    }

    /// The shape library's view of this node's inputs (for rules whose operands the planner also needs).
    func context(_ node: Node) -> NodeContext {
        NodeContext(node: node, inputs: node.inputs.map { $0.isEmpty ? nil : facts[$0] }, opset: opset)
    }
}
