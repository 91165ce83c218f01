import Foundation
import Testing
@testable import ResNetExec
import ResNetKernelsReference

/// The listing's liveness against what the kernels really read (ExecutionPlanOf.poisonedRunMatches):
/// for every fixture, real export and int8 fixture, on every kernel set this CPU runs, at batch 1
/// and 2 batched, a stepwise run with every buffer byte that holds no live tensor poisoned before
/// each step gives the plain run's outputs bit for bit. (It found Split marking its input read by
/// its first output's step only.)
struct PlanPoisonTests {
    static let cases: [PlanListingTests.Case] = PlanListingTests.models.flatMap { m in
        [KernelSet.avx512, .avx2, .reference].flatMap { k in
            [PlanListingTests.Case(model: m, kernels: k, batch: 1, perImage: true),
             PlanListingTests.Case(model: m, kernels: k, batch: 2, perImage: false)]
        }
    }

    @Test(arguments: cases)
    func poisonedRunMatches(_ c: PlanListingTests.Case) throws {
        guard let plan = try PlanListingTests.plan(c) else { return }
        let count = (plan.single ?? plan).inputShape.reduce(1, *)
        var random = SystemRandomNumberGenerator()
        let input = (0..<count).map { _ in Float.random(in: -1...1, using: &random) }
        #expect(try plan.poisonedRunMatches(input))
    }

    /// The check can fail: a plan whose step reads a buffer the listing says is free.
    @Test func findsAnUndeclaredRead() throws {
        let c = PlanListingTests.Case(model: "v1.5", kernels: .reference, batch: 1, perImage: true)
        guard let plan = try PlanListingTests.plan(c) else { return }
        let single = plan.single ?? plan
        // A step after the last (the classifier's) adds the input's first value to output 0's first,
        // reading the input, which the listing lets go after step 0 (the input's buffer stays the
        // input's, so poison is what it finds there).
        let inputBuffer = single.storage[single.inputTensor]
        let listing = single.listing
        try #require(!listing.tensors.contains(where: { $0.buffer == inputBuffer && $0.storage != .input }), "the input's buffer holds only the input")
        guard case let .tensor(output, _) = single.outputs[0].1 else { Issue.record("output 0 is not a runtime tensor"); return }
        let readsInput = Step<Float>(node: "extra", op: "Add", macs: 0, integer: false, kernel: nil, reads: [output],
                                     work: .addReference(AddReferenceStep(a: output, b: single.inputTensor, y: output, count: 1, relu: false)))
        let mutated = ExecutionPlanOf<Float>(steps: single.steps + [readsInput], buffers: single.buffers, storage: single.storage,
                                             workspace: single.workspace, columns: single.columns, simd: single.simd, inputName: single.inputName,
                                             inputShape: single.inputShape, inputTensor: single.inputTensor, outputs: single.outputs,
                                             producedBy: single.producedBy, channelsLast: single.channelsLast)
        mutated.tensorTable = single.tensorTable; mutated.stepWrites = single.stepWrites + [[]]
        let input = [Float](repeating: 0.5, count: single.inputShape.reduce(1, *))
        #expect(try single.poisonedRunMatches(input))
        #expect(try !mutated.poisonedRunMatches(input))
    }
}
