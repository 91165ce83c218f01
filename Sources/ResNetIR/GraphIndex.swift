/// Who produces and who reads each value of a graph, and an order in which
/// producers come first: built once, used by validation, shape inference,
/// the residual analysis and the planner.
public struct GraphIndex: Sendable {
    /// Value name -> index of the first node that writes it.
    public let producer: [String: Int]
    /// Value name -> indices of the nodes that read it (once per node, in node order).
    public let consumers: [String: [Int]]
    /// Node indices with producers first; nodes on a cycle are left out.
    public let order: [Int]

    public init(_ g: Graph) {
        var producer: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        for (i, n) in g.nodes.enumerated() {
            for o in n.outputs where !o.isEmpty && producer[o] == nil { producer[o] = i }
            for x in Set(n.inputs) where !x.isEmpty { consumers[x, default: []].append(i) }
        }
        for k in consumers.keys { consumers[k]?.sort() }
        self.producer = producer
        self.consumers = consumers
        // Kahn's algorithm; among ready nodes the lowest index first, so a sorted graph keeps its order.
        var indegree = [Int](repeating: 0, count: g.nodes.count)
        var next = [[Int]](repeating: [], count: g.nodes.count)
        for (i, n) in g.nodes.enumerated() {
            for x in Set(n.inputs) where !x.isEmpty {
                if let p = producer[x], p != i { indegree[i] += 1; next[p].append(i) } else if producer[x] == i { indegree[i] += 1 }
            }
        }
        var ready = Heap()
        for i in g.nodes.indices where indegree[i] == 0 { ready.push(i) }
        var order: [Int] = []
        order.reserveCapacity(g.nodes.count)
        while let i = ready.pop() {
            order.append(i)
            for c in next[i] {
                indegree[c] -= 1
                if indegree[c] == 0 { ready.push(c) }
            }
        }
        self.order = order
    }

    /// A binary min-heap of node indices.
    private struct Heap {
        var items: [Int] = []
        mutating func push(_ v: Int) {
            items.append(v)
            var i = items.count - 1
            while i > 0, items[(i - 1) / 2] > items[i] { items.swapAt(i, (i - 1) / 2); i = (i - 1) / 2 }
        }
        mutating func pop() -> Int? {
            guard let top = items.first else { return nil }
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < items.count, items[l] < items[m] { m = l }
                    if r < items.count, items[r] < items[m] { m = r }
                    if m == i { break }
                    items.swapAt(i, m)
                    i = m
                }
            }
            return top
        }
    }
}
