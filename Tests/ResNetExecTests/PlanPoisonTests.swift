import Foundation
import Testing
@testable import ResNetExec
import ResNetKernelsReference

/// The listing's liveness against what the kernels really read: a plan run step by step where,
/// before each step, every byte of every buffer that holds no tensor live at that step (by the
/// listing: written by an earlier step and read by this one or a later one, an output, the
/// input, a constant) is overwritten with 0xFF (a NaN as a float, 255 as a byte), gives exactly
/// the outputs of a plain run. A kernel reading anything the listing does not keep alive (an
/// undeclared read, a value it expects a buffer to hold from an earlier run or from allocation)
/// reads the poison instead.
struct PlanPoisonTests {
    static let cases: [PlanListingTests.Case] = PlanListingTests.models.flatMap { m in
        [KernelSet.avx512, .avx2, .reference].flatMap { k in
            [PlanListingTests.Case(model: m, kernels: k, batch: 1, perImage: true),
             PlanListingTests.Case(model: m, kernels: k, batch: 2, perImage: false)]
        }
    }

    @Test(arguments: cases)
    func poisonedRunMatches(_ c: PlanListingTests.Case) throws {
        guard let whole = try PlanListingTests.plan(c) else { return }
        let plan = whole.single ?? whole
        let listing = plan.listing
        let count = plan.inputShape.reduce(1, *)
        var random = SystemRandomNumberGenerator()
        let input = (0..<count).map { _ in Float.random(in: -1...1, using: &random) }
        let expected = try plan.runExact(input).map(\.values)

        // Per storage root: the step that first writes it (-1: input, constants) and the last that reads it.
        let end = listing.steps.count
        var start: [Int: Int] = [:], last: [Int: Int] = [:]
        for t in listing.tensors where t.storage == .input || t.storage == .constant { start[t.root] = -1 }
        for t in listing.tensors where t.storage == .constant { last[t.root] = end }
        for s in listing.steps {
            for id in s.writes { start[listing.tensors[id].root] = min(start[listing.tensors[id].root] ?? Int.max, s.index) }
            for id in s.reads { last[listing.tensors[id].root] = max(last[listing.tensors[id].root] ?? -1, s.index) }
        }
        for o in listing.outputs { if let id = o.tensor { last[listing.tensors[id].root] = end } }
        let roots = listing.tensors.filter { $0.id == $0.root }

        plan.load(input)
        for (i, step) in plan.steps.enumerated() {
            // Live before step i: written before it, read by it or later.
            var keep = [Int](repeating: 0, count: plan.buffers.count)  // bytes to keep from each buffer's start
            for t in roots {
                guard let s = start[t.id], s < i, let l = last[t.id], l >= i else { continue }
                keep[t.buffer] = max(keep[t.buffer], listing.tensors.filter { $0.root == t.id }.map(\.bytes).max() ?? t.bytes)
            }
            for (b, buffer) in plan.buffers.enumerated() {
                let bytes = buffer.capacity * MemoryLayout<Float>.size
                guard keep[b] < bytes else { continue }
                // Sound: the buffer holds `capacity` floats; the bytes from keep[b] on hold no live tensor.
                (UnsafeMutableRawPointer(buffer.pointer) + keep[b]).initializeMemory(as: UInt8.self, repeating: 0xFF, count: bytes - keep[b])
            }
            step.body(plan)
        }
        for (k, (_, value)) in plan.outputs.enumerated() {
            guard case let .tensor(id, shape) = value else { continue }
            let got = Array(UnsafeBufferPointer(start: plan.pointer(id), count: shape.reduce(1, *)))
            #expect(got.map(\.bitPattern) == expected[k].map(\.bitPattern), "output \(k) differs from the plain run's")
        }
    }
}
