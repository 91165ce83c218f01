import ResNetIR

/// A rule that failed at one node: which node, and why.
public struct ShapeFinding: Sendable, Equatable {
    public let nodeIndex: Int?
    /// "layer1.0.conv1", "node 12 (Conv)", or a graph input's name.
    public let location: String
    public let opType: String
    public let error: ShapeError
}

/// Static shape inference over a graph, with symbolic dims and integer
/// constant folding (small tensors, possibly symbolic). The checker reports
/// its findings; the executor refuses a model with any, before planning.
public final class ShapeInference {
    public private(set) var facts: [String: ValueFacts] = [:]
    public private(set) var findings: [ShapeFinding] = []
    /// Integer values folded so far, and the most the whole graph may hold.
    private var foldedElements = 0
    static let maxFoldedTotal = 1 << 20
    public let graph: Graph
    public let opset: Int64
    public let index: GraphIndex

    /// `inputShapes` overrides the declared shapes of graph inputs (--sweep, the executor's input).
    public init(graph: Graph, opset: Int64, index: GraphIndex? = nil, inputShapes: [String: SShape] = [:]) {
        self.graph = graph
        self.opset = opset
        self.index = index ?? GraphIndex(graph)
        for t in graph.initializers { facts[t.name] = ValueFacts(tensor: t) }
        for v in graph.inputs where facts[v.name] == nil || inputShapes[v.name] != nil {
            var f = ValueFacts.unknown
            if case let .tensor(elem, dims)? = v.type?.kind {
                f = ValueFacts(elemType: elem, shape: dims?.map(SDim.init))
            }
            if let override = inputShapes[v.name] { f.shape = override }
            if let s = f.shape {
                do {
                    if let bad = s.first(where: { ($0.value ?? 0) < 0 }) {
                        throw ShapeError.invalid("graph input '\(v.name)' declares dim \(bad)", expected: "dims >= 0", actual: describe(s))
                    }
                    _ = try elementCount(s)
                } catch let e as ShapeError {
                    findings.append(ShapeFinding(nodeIndex: nil, location: v.name, opType: "input", error: e))
                    f.shape = nil
                } catch {}
            }
            facts[v.name] = f
        }
    }

    public func run() {
        for i in index.order {
            let node = graph.nodes[i]
            let context = NodeContext(node: node, inputs: node.inputs.map { $0.isEmpty ? nil : facts[$0] }, opset: opset)
            var outputs: [ValueFacts] = []
            do {
                outputs = try ShapeRules.infer(context)
                // Every shape a rule produces has a countable number of elements.
                for o in outputs {
                    guard let s = o.shape else { continue }
                    _ = try elementCount(s)
                    if s.count > maxRank {
                        throw ShapeError.invalid("an output of rank \(s.count)", expected: "rank <= \(maxRank)", actual: "rank \(s.count)")
                    }
                }
                // Folded values are kept only while the graph's total stays small (100k Adds of a
                // 4096-element constant must not hold 4e8 values).
                for k in outputs.indices where outputs[k].values != nil {
                    foldedElements += outputs[k].values?.count ?? 0
                    if foldedElements > Self.maxFoldedTotal { outputs[k].values = nil }
                }
            } catch let e as ShapeError {
                findings.append(ShapeFinding(nodeIndex: i, location: Self.label(node, i), opType: node.opType, error: e))
                outputs = []
            } catch {
                outputs = []
            }
            // CastLike reads only its second input's type: its value depends on the first alone.
            let operands = node.opType == "CastLike" ? Array(context.inputs.prefix(1)) : context.inputs
            let fromConstants = !operands.isEmpty && operands.allSatisfy { $0?.isConstant ?? true }
            for (k, name) in node.outputs.enumerated() where !name.isEmpty {
                var f = k < outputs.count ? outputs[k] : .unknown
                // A node computed from constants only is itself constant (shape arithmetic).
                // So is one whose values folded to numbers (Shape of a tensor whose shape is known).
                if fromConstants || node.opType == "Constant" || f.ints != nil { f.isConstant = true }
                facts[name] = f
            }
        }
    }

    /// "'layer1.0.conv1'" or "node 12 (Conv)" when the node has no name.
    public static func label(_ n: Node, _ i: Int) -> String {
        n.name.isEmpty ? "node \(i) (\(n.opType))" : n.name
    }
}
