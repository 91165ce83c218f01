import ResNetIR
import ResNetShapes

/// What decorates a main branch: attention that rescales it, not a layer of
/// its own. The architecture does not count these convs in its depth
/// (seresnet50 has 50 layers, not 82).
public enum AttentionKind: String, Encodable, Sendable, CaseIterable {
    /// Squeeze-and-excitation: global pool -> 1x1 conv or Gemm -> act -> 1x1 -> Sigmoid/HardSigmoid -> Mul.
    case se
    /// Efficient channel attention: global pool -> 1-D conv over channels -> Sigmoid -> Mul.
    case eca
    /// Selective kernel: parallel conv paths combined by a Softmax over paths.
    case sk
    /// A gate of another form (global pool -> ... -> Mul).
    case gate
}

/// Splits a main branch into its core (the layers) and attention (the gates
/// multiplied into it), and orders the core's convs along its longest chain.
struct AttentionAnalysis {
    let graph: Graph
    let producer: [String: Int]
    let isTensor: (String) -> Bool
    let weightShape: (String) -> SShape?

    static let globalPools: Set<String> = ["GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax"]

    /// Nodes of `within` that `value` depends on (its producer included).
    func ancestors(of value: String, within: Set<Int>) -> Set<Int> {
        var seen: Set<Int> = []
        var stack = [value]
        while let v = stack.popLast() {
            guard let p = producer[v], within.contains(p), !seen.contains(p) else { continue }
            seen.insert(p)
            stack += graph.nodes[p].inputs.filter { !$0.isEmpty }
        }
        return seen
    }

    /// (core nodes, attention nodes, kinds found), each sorted.
    func split(_ main: [Int]) -> (core: [Int], attention: [Int], kinds: [AttentionKind]) {
        let all = Set(main)
        var attention: Set<Int> = []
        var kinds: [AttentionKind] = []
        for m in main where QuantizedOps.twin(graph.nodes[m]) == "Mul" && !attention.contains(m) {
            let given = graph.nodes[m].inputs
            let ins = graph.nodes[m].opType == "Mul" ? given : given.count >= 4 ? [given[0], given[3]] : []  // QLinearMul: inputs 0 and 3
            guard ins.count == 2, isTensor(ins[0]), isTensor(ins[1]) else { continue }
            let a = ancestors(of: ins[0], within: all), b = ancestors(of: ins[1], within: all)
            let poolA = a.contains { Self.globalPools.contains(QuantizedOps.twin(graph.nodes[$0])) && !b.contains($0) }
            let poolB = b.contains { Self.globalPools.contains(QuantizedOps.twin(graph.nodes[$0])) && !a.contains($0) }
            guard poolA != poolB else { continue }  // the gate is the operand that went through a global pool
            let gate = (poolA ? a : b).subtracting(poolA ? b : a)
            attention.formUnion(gate)
            let ops = gate.map { graph.nodes[$0] }
            let kind: AttentionKind
            if ops.contains(where: { $0.opType == "Softmax" }) { kind = .sk }
            else if ops.contains(where: { QuantizedOps.isConv($0) && weightRank($0) == 3 }) { kind = .eca }
            else if ops.contains(where: { ["Conv", "Gemm", "MatMul"].contains(QuantizedOps.twin($0)) }) { kind = .se }
            else { kind = .gate }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return (main.filter { !attention.contains($0) }, attention.sorted(), kinds)
    }

    /// Rank of a conv's weight as inferred (1-D convs: ECA).
    func weightRank(_ n: Node) -> Int? {
        return QuantizedOps.weight(n).flatMap(weightShape)?.count
    }

    /// The convs along the longest conv chain of `core` (parallel paths, as in SK units, count once).
    func convChain(_ core: [Int]) -> [Int] {
        let inCore = Set(core)
        var chain: [Int: [Int]] = [:]
        for i in core.sorted() {
            var best: [Int] = []
            for x in graph.nodes[i].inputs where !x.isEmpty {
                if let p = producer[x], inCore.contains(p), let c = chain[p], c.count > best.count { best = c }
            }
            chain[i] = QuantizedOps.isConv(graph.nodes[i]) ? best + [i] : best
        }
        return chain.values.max { ($0.count, -($0.last ?? 0)) < ($1.count, -($1.last ?? 0)) } ?? []
    }
}
