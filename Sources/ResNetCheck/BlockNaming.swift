import ResNetIR

/// Block names as the model's author knows them, from what exporters write:
///   - scoped node names (torch's legacy exporter: `/layer2/layer2.0/conv1/Conv`
///     is module `layer2.0.conv1`), or dotted ones (`layer2.0.conv1`);
///   - else the parameter names feeding the block's convs (`layer2.0.conv1.weight`,
///     which the dynamo exporter keeps while naming nodes `node_add_187`);
///   - else `stage2.block1`.
/// The block is the longest dotted module path shared by its nodes. Names are made unique.
enum BlockNaming {
    /// The module path a node name stands for: scopes joined, the op suffix dropped.
    /// `/layer2/layer2.0/conv1/Conv` -> `layer2.0.conv1`; `layer2.0.conv1` -> itself.
    static func modulePath(_ nodeName: String) -> [String] {
        guard nodeName.hasPrefix("/") else { return nodeName.split(separator: ".").map(String.init) }
        var scopes = nodeName.split(separator: "/").map(String.init)
        if !scopes.isEmpty { scopes.removeLast() }  // the op ("Conv", "Relu_1"): not a module
        var path: [String] = []
        for s in scopes {
            let parts = s.split(separator: ".").map(String.init)
            // torch repeats the parent's path inside a child's scope name ("layer2" then "layer2.0").
            if parts.count > 1 && Array(parts.dropLast()) == Array(path.suffix(parts.count - 1)) {
                path.append(parts[parts.count - 1])
            } else {
                path += parts
            }
        }
        return path
    }

    /// The longest shared prefix of module paths, if it is a proper module (not one node's own path).
    /// `pathsAreModules`: the paths name modules (scoped names, parameters), so one equal to the
    /// prefix is a node called in the block's own forward (torch's F.relu), not a node named like a block.
    static func commonModule(_ paths: [[String]], pathsAreModules: Bool = false) -> String? {
        guard var prefix = paths.first else { return nil }
        for p in paths.dropFirst() {
            var k = 0
            while k < prefix.count && k < p.count && prefix[k] == p[k] { k += 1 }
            prefix = Array(prefix.prefix(k))
        }
        guard !prefix.isEmpty else { return nil }
        // A block of several nodes whose shared path is one node's whole path names that node, not a block.
        if !pathsAreModules && paths.count > 1 && paths.contains(prefix) { return nil }
        return prefix.joined(separator: ".")
    }

    /// The name a block's nodes suggest, or nil.
    static func candidate(_ graph: Graph, nodes: [Int], convs: [Int]) -> String? {
        let named = nodes.map { graph.nodes[$0].name }.filter { !$0.isEmpty }
        if !named.isEmpty && named.allSatisfy({ $0.hasPrefix("/") }) {
            if let m = commonModule(named.map(modulePath), pathsAreModules: true) { return m }
        } else if let m = commonModule(named.map(modulePath)) {
            return m
        }
        // Parameters: `layer2.0.conv1.weight` -> module `layer2.0.conv1`.
        let params = convs.compactMap { i -> [String]? in
            let n = graph.nodes[i]
            guard let w = QuantizedOps.weight(n) else { return nil }
            let parts = w.split(separator: ".").map(String.init)
            return parts.count > 2 && ["weight", "bias"].contains(parts.last ?? "") ? Array(parts.dropLast()) : nil
        }
        if params.count == convs.count, params.count > 1, let m = commonModule(params) { return m }
        return nil
    }

    /// Final names: the candidate or `stageS.blockK`, duplicates disambiguated in order.
    static func assign(_ blocks: inout [ResidualBlock], candidates: [String?]) {
        var perStage: [Int: Int] = [:]
        var used: [String: Int] = [:]
        var names: Set<String> = []
        for i in blocks.indices {
            perStage[blocks[i].stage, default: 0] += 1
            let base = candidates[i] ?? "stage\(blocks[i].stage).block\(perStage[blocks[i].stage] ?? 1)"
            var name = base
            // "a", "a", "a#2": the second "a" may not become the third's "a#2".
            var n = used[base] ?? 1
            while names.contains(name) { n += 1; name = "\(base)#\(n)" }
            used[base] = n
            names.insert(name)
            blocks[i].name = name
        }
    }
}
