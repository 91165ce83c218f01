import Foundation
import Testing
import ResNetIR
import ResNetMutation
import ResNetONNX

/// A fixed, seeded count of IR-level mutants of every fixture through the
/// shape checker, the planner and a run: any trap fails the suite (it ends the
/// process). The longer run is scripts/mutation_sweep.sh.
struct MutationSweepTests {
    static let fixtures: [(name: String, model: Model)] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures")
        // Our own fixtures, and real exports whose attention blocks and F.pad chains exercise other paths.
        let names = ["v1.5", "v1", "v1d-fused", "basic-B-opset7", "optA-pad", "optA-concat", "optC", "v2",
                     "real/cifar-resnet20-optA-legacy", "real/timm-skresnet18-w8-legacy", "real/timm-ecaresnet26t-w8-legacy"]
        return names.compactMap { n in
            (try? ONNXReader.read(path: root.appendingPathComponent(n).appendingPathComponent("model.onnx").path)).map { (n, $0.model) }
        }
    }()

    @Test func fixturesLoad() {
        #expect(Self.fixtures.count == 11)
    }

    @Test func seededMutantsNeverTrap() {
        let sweep = MutationSweep(models: Self.fixtures)
        let report = sweep.run(seed: 8, count: 2_000)
        #expect(report.executions == 2_000)
        // The sweep reaches every kind of mutation and both outcomes of the executor.
        #expect(report.mutations.count == Mutator.Kind.allCases.count)
        #expect((report.executor["ran per image"] ?? 0) > 0)  // a symbolic batch runs 8 images, image by image where it may
        #expect(report.executor.keys.contains { $0.hasPrefix("refused") })
        #expect(report.peakResidentBytes < 1 << 30)
        // Every plan a mutant gets checks out: its buffers against its steps' reads and writes.
        #expect(report.executor[MutationSweep.inconsistentPlan] == nil && report.executor[MutationSweep.undeclaredRead] == nil)
        #expect(report.poisonedRuns > 100)  // poisoned runs reached and matching, not skipped for size
    }

    @Test func mutantsAreReproducibleFromTheSeed() {
        let sweep = MutationSweep(models: Self.fixtures)
        let a = sweep.mutant(seed: 3, index: 17), b = sweep.mutant(seed: 3, index: 17)
        #expect(a.name == b.name && a.kinds == b.kinds)
        #expect(a.model.graph.nodes.map(\.opType) == b.model.graph.nodes.map(\.opType))
    }
}
