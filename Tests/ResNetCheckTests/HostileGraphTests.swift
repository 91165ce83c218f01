import Testing
import ResNetIR
@testable import ResNetCheck

/// Hostile graph shapes must not make the analysis quadratic (20,000 chained
/// Adds took over 2 minutes before the fork search was bounded; ~1 s after).
struct HostileGraphTests {
    @Test func longChainOfAddsIsAnalysedInBoundedWork() {
        let n = 20_000
        var nodes = [Node(name: "r0", opType: "Relu", inputs: ["x"], outputs: ["v0"])]
        for i in 1..<n { nodes.append(Node(name: "a\(i)", opType: "Add", inputs: ["v\(i - 1)", "x"], outputs: ["v\(i)"])) }
        let g = Graph(nodes: nodes, inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.symbol("N"), .known(4)])))],
                      outputs: [ValueInfo(name: "v\(n - 1)", type: nil)])
        let report = ShapeChecker.check(Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: g), file: "chain")
        #expect(report.blocks.isEmpty, "Adds without convs are not residual blocks")
        #expect(report.model.family == "none")
    }
}
