/// A structural fault in a graph: what, which node, which value.
public struct GraphProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A value is produced twice (nodes, graph inputs or initializers): not SSA.
        case producedTwice
        /// A node reads a value nothing produces.
        case undefinedInput
        /// A graph output that nothing produces.
        case undefinedOutput
        /// Nodes that depend on each other in a loop.
        case cycle
        /// A node reads a value produced by a later node (ONNX requires topological order).
        case notTopologicallySorted
    }
    public let kind: Kind
    /// "graph.node[12] 'layer1.0.conv1'" or "graph.output[0]".
    public let location: String
    public let value: String
    public let message: String
    public var description: String { "\(location): \(message)" }
}

/// Checks the structural rules every ONNX graph must follow, collecting every
/// problem (the caller decides whether the first one stops it).
public enum GraphValidation {
    public static func problems(_ graph: Graph, path: String = "graph", outerScope: Set<String> = []) -> [GraphProblem] {
        var problems: [GraphProblem] = []
        func location(_ i: Int) -> String {
            let n = graph.nodes[i]
            return n.name.isEmpty ? "\(path).node[\(i)] (\(n.opType))" : "\(path).node[\(i)] '\(n.name)'"
        }
        // Names defined before any node runs.
        var defined = outerScope
        var source: [String: String] = [:]
        for i in graph.inputs { defined.insert(i.name); source[i.name] = "a graph input" }
        for t in graph.initializers {
            defined.insert(t.name)
            if source[t.name] == nil { source[t.name] = "an initializer" }
        }
        for s in graph.sparseInitializers { defined.insert(s.values.name) }

        var producer: [String: Int] = [:]
        for (i, n) in graph.nodes.enumerated() {
            for o in n.outputs where !o.isEmpty {
                if let j = producer[o] {
                    problems.append(GraphProblem(kind: .producedTwice, location: location(i), value: o,
                                                 message: "output '\(o)' is already produced by \(location(j))"))
                } else if let s = source[o], !outerScope.contains(o) {
                    problems.append(GraphProblem(kind: .producedTwice, location: location(i), value: o,
                                                 message: "output '\(o)' is already \(s)"))
                } else {
                    producer[o] = i
                }
            }
        }

        // Kahn's algorithm over producer -> consumer edges.
        var indegree = [Int](repeating: 0, count: graph.nodes.count)
        var consumers = [[Int]](repeating: [], count: graph.nodes.count)
        for (i, n) in graph.nodes.enumerated() {
            for x in Set(n.inputs) where !x.isEmpty {
                if let p = producer[x] {
                    if p == i { indegree[i] += 1; continue }  // reads its own output: a one-node cycle
                    indegree[i] += 1
                    consumers[p].append(i)
                    if p > i {
                        problems.append(GraphProblem(kind: .notTopologicallySorted, location: location(i), value: x,
                                                     message: "input '\(x)' is produced later, by \(location(p))"))
                    }
                } else if !defined.contains(x) {
                    problems.append(GraphProblem(kind: .undefinedInput, location: location(i), value: x,
                                                 message: "input '\(x)' is not produced by any node, graph input or initializer"))
                }
            }
            // Subgraphs see every name of this graph.
            for a in n.attributes {
                var subgraphs: [Graph] = []
                if case let .graph(g) = a.value { subgraphs = [g] }
                if case let .graphs(gs) = a.value { subgraphs = gs }
                let scope = defined.union(producer.keys)
                for (k, g) in subgraphs.enumerated() {
                    problems += self.problems(g, path: "\(location(i)) attribute '\(a.name)'[\(k)]", outerScope: scope)
                }
            }
        }
        var ready = (0..<graph.nodes.count).filter { indegree[$0] == 0 }
        var scheduled = 0
        while let i = ready.popLast() {
            scheduled += 1
            for c in consumers[i] {
                indegree[c] -= 1
                if indegree[c] == 0 { ready.append(c) }
            }
        }
        if scheduled < graph.nodes.count {
            let stuck = (0..<graph.nodes.count).filter { indegree[$0] > 0 }
            let names = stuck.prefix(5).map(location).joined(separator: ", ")
            problems.append(GraphProblem(kind: .cycle, location: location(stuck[0]), value: "",
                                         message: "\(stuck.count) node(s) depend on each other in a cycle: \(names)"))
        }
        for (k, o) in graph.outputs.enumerated() where producer[o.name] == nil && !defined.contains(o.name) {
            problems.append(GraphProblem(kind: .undefinedOutput, location: "\(path).output[\(k)]", value: o.name,
                                         message: "output '\(o.name)' is not produced by any node"))
        }
        return problems
    }
}
