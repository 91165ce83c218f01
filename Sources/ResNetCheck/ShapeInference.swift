import ResNetIR

/// Why a rule could not produce shapes.
enum RuleError: Error {
    /// The inputs break the operator's rules: message, expected, actual.
    case shape(String, expected: String? = nil, actual: String? = nil)
    case unsupported(String)
}

/// The inputs and attributes one rule sees.
struct NodeContext {
    let node: Node
    let inputs: [ValueFacts?]
    let opset: Int64

    func input(_ i: Int) -> ValueFacts? { i < inputs.count ? inputs[i] : nil }
    func shape(_ i: Int) -> SShape? { input(i)?.shape }
    func ints(_ name: String) -> [Int64]? { node.attribute(name)?.ints }
    func int(_ name: String, _ fallback: Int64) -> Int64 { node.attribute(name)?.int ?? fallback }
    func string(_ name: String) -> String? { node.attribute(name)?.string }
    var elemType: Int32 { input(0)?.elemType ?? 0 }

    /// An int list given as attribute (older opsets) or as input `index` (newer).
    func intsFromAttributeOrInput(_ name: String, input index: Int) -> [Int64]? {
        if let a = ints(name) { return a }
        return input(index)?.ints
    }
}

/// Static shape inference over a graph, with symbolic dims and enough constant
/// propagation (small integer tensors, possibly symbolic) for torch's
/// Shape->Gather->Unsqueeze->Concat->Reshape flatten and zero-pad shortcuts.
final class ShapeInference {
    private(set) var facts: [String: ValueFacts] = [:]
    private(set) var diagnostics: [Diagnostic] = []
    let graph: Graph
    let opset: Int64
    /// Node indices in an order where producers come first (cycle members left out).
    let order: [Int]

    /// `inputShapes` overrides the declared shapes of graph inputs (for --sweep).
    init(graph: Graph, opset: Int64, inputShapes: [String: SShape] = [:]) {
        self.graph = graph
        self.opset = opset
        self.order = ShapeInference.topologicalOrder(graph)
        for t in graph.initializers { facts[t.name] = ValueFacts(tensor: t) }
        for v in graph.inputs where facts[v.name] == nil || inputShapes[v.name] != nil {
            var f = ValueFacts.unknown
            if case let .tensor(elem, dims)? = v.type?.kind {
                f = ValueFacts(elemType: elem, shape: dims?.map(SDim.init))
            }
            if let override = inputShapes[v.name] { f.shape = override }
            facts[v.name] = f
        }
    }

    static func topologicalOrder(_ g: Graph) -> [Int] {
        var producer: [String: Int] = [:]
        for (i, n) in g.nodes.enumerated() { for o in n.outputs where !o.isEmpty { producer[o] = producer[o] ?? i } }
        var indegree = [Int](repeating: 0, count: g.nodes.count)
        var consumers = [[Int]](repeating: [], count: g.nodes.count)
        for (i, n) in g.nodes.enumerated() {
            for x in Set(n.inputs) where !x.isEmpty { if let p = producer[x], p != i { indegree[i] += 1; consumers[p].append(i) } }
        }
        // A min-heap would keep file order among ready nodes; a sorted ready list does the same at this size.
        var ready = (0..<g.nodes.count).filter { indegree[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        while let i = ready.popLast() {
            order.append(i)
            for c in consumers[i] {
                indegree[c] -= 1
                if indegree[c] == 0 { ready.append(c); ready.sort(by: >) }
            }
        }
        return order
    }

    func run() {
        for i in order {
            let node = graph.nodes[i]
            let context = NodeContext(node: node, inputs: node.inputs.map { $0.isEmpty ? nil : facts[$0] }, opset: opset)
            let label = ShapeInference.label(node, i)
            var outputs: [ValueFacts]
            do {
                outputs = try ShapeRules.infer(context)
            } catch let RuleError.shape(message, expected, actual) {
                diagnostics.append(Diagnostic(.shapeError, node: label, "\(node.opType): \(message)", expected: expected, actual: actual))
                outputs = []
            } catch RuleError.unsupported(let why) {
                diagnostics.append(Diagnostic(.unsupportedOp, node: label, why))
                outputs = []
            } catch {
                outputs = []
            }
            for (k, name) in node.outputs.enumerated() where !name.isEmpty {
                var f = k < outputs.count ? outputs[k] : .unknown
                // A node computed from constants only is itself constant (shape arithmetic).
                if !context.inputs.isEmpty && context.inputs.allSatisfy({ $0?.isConstant ?? true }) && f.values != nil {
                    f.isConstant = true
                }
                facts[name] = f
            }
        }
    }

    /// "'layer1.0.conv1'" or "node 12 (Conv)" when the node has no name.
    static func label(_ n: Node, _ i: Int) -> String {
        n.name.isEmpty ? "node \(i) (\(n.opType))" : n.name
    }
}
