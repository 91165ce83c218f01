import Foundation
import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsReference
import ResNetONNX

/// The plan as data (PlanListing): for every fixture the planner runs (float, real exports,
/// int8), on every kernel set this CPU has, batched and image by image, the listing's buffers
/// agree with its steps' reads and writes; and each way `check()` can find them contradicting
/// is found in a listing made to contradict so.
struct PlanListingTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let model: String, kernels: KernelSet, batch: Int, perImage: Bool
        var testDescription: String { "\(model) \(kernels.rawValue) batch \(batch)\(perImage ? "" : " batched")" }
    }

    static let models: [String] = {
        let fm = FileManager.default
        func runnable(_ folder: String) -> [String] {
            ((try? fm.contentsOfDirectory(atPath: "\(Fixtures.root)/\(folder)")) ?? [])
                .map { folder.isEmpty ? $0 : "\(folder)/\($0)" }
                .filter { fm.fileExists(atPath: "\(Fixtures.root)/\($0)/model.onnx") }
        }
        return (runnable("") + runnable("real") + runnable("quantized")).sorted()
    }()

    static let cases: [Case] = models.flatMap { m in
        [KernelSet.avx512, .avx2, .reference].flatMap { k in
            [Case(model: m, kernels: k, batch: 1, perImage: true), Case(model: m, kernels: k, batch: 2, perImage: true),
             Case(model: m, kernels: k, batch: 2, perImage: false)]
        }
    }

    static func plan(_ c: Case) throws -> ExecutionPlan? {
        guard c.kernels.isSupported else { return nil }
        let model = try ONNXReader.read(path: "\(Fixtures.root)/\(c.model)/model.onnx").model
        var options = ExecOptions(kernels: c.kernels, threads: 2)
        options.perImage = c.perImage
        guard let input = model.graph.inputs.first, case let .tensor(_, dims?)? = input.type?.kind else { return nil }
        let shape = dims.enumerated().map { i, d -> Int in
            if i == 0 { return c.batch }
            if case let .known(v) = d.value { return Int(v) }
            return 32
        }
        return try Executor(model: model, options: options).plan(inputShape: shape)
    }

    /// The cases below come from the fixtures on disk: none found would pass them vacuously.
    @Test func fixturesFound() {
        #expect(Self.models.count >= 20 && Self.models.contains("quantized/v1.5-qop") && Self.models.contains("real/timm-seresnet18-w8-legacy"))
    }

    @Test(arguments: cases)
    func listingIsConsistent(_ c: Case) throws {
        guard let plan = try Self.plan(c) else { return }
        let listing = plan.listing
        #expect(listing.check() == [], "\(listing.check().prefix(5))")
        #expect(listing.steps.count == plan.stepCount && listing.steps.map(\.index) == Array(listing.steps.indices))
        #expect(listing.kernels == c.kernels)
        #expect(listing.images == (plan.runsImagewise ? c.batch : nil))
        // Every step writes something (its results, their byte image, a layout copy), and each
        // tensor is written by one step at most.
        #expect(listing.steps.allSatisfy { !$0.writes.isEmpty }, "\(listing.steps.filter { $0.writes.isEmpty }.map(\.node))")
        let writes = listing.steps.flatMap(\.writes)
        #expect(Set(writes).count == writes.count)
        // The input is read, every output is written by some step, and every conv names its kernel.
        #expect(listing.tensors.filter { $0.storage == .input }.count == 1)
        for o in listing.outputs { if let t = o.tensor { #expect(writes.contains(listing.tensors[t].root), "\(o.name)") } }
        #expect(listing.steps.filter { ["Conv", "QLinearConv"].contains($0.op) }.allSatisfy { $0.kernel != nil })
        // The multiply-adds listed are the plan's.
        #expect(listing.steps.reduce(0) { $0 + $1.macs } * (listing.images ?? 1) == plan.macs)
        // Byte images and layout copies name their source, with its shape.
        for t in listing.tensors where t.storage == .bytes || t.storage == .channelsLast && t.name == nil {
            guard let s = t.source else { Issue.record("t\(t.id) names no source"); continue }
            #expect(listing.tensors[s].shape == t.shape)
        }
    }

    /// A Split of an initializer (materialised as a constant tensor, filled once when the plan is
    /// made) marks it read by each output's step: the mark must not shorten the constant's life, or
    /// its buffer goes to a later tensor and the second run splits that tensor's values instead.
    @Test(arguments: [KernelSet.reference, .avx2, .avx512])
    func splitOfAConstantKeepsItsBuffer(_ set: KernelSet) throws {
        guard set.isSupported else { return }
        typealias B = BatchSeparabilityTests
        let nodes = [
            Node(name: "split", opType: "Split", inputs: ["c"], outputs: ["c0", "c1"], attributes: [B.attr("axis", 1)]),
            B.node("Mul", ["x", "c0"], "m"), B.node("Add", ["m", "c1"], "a"), B.node("Relu", ["a"], "y"),
        ]
        let x = ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [.known(1), .known(2), .known(3), .known(3)])))
        let graph = Graph(nodes: nodes, initializers: [B.floats("c", [1, 4, 3, 3]) { Float($0) - 11 }], inputs: [x],
                          outputs: [ValueInfo(name: "y", type: nil)])
        let model = Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: graph)
        let plan = try Executor(model: model, options: ExecOptions(kernels: set, threads: 1)).plan(inputShape: [1, 2, 3, 3])
        #expect(plan.listing.check() == [], "\(plan.listing.check())")
        let input = (0..<18).map { Float($0 % 5) - 2 }
        // y = relu(x * c[:, 0:2] + c[:, 2:4]), c = 0 - 11 ... 35 - 11 in order.
        let expected: [Float] = (0..<18).map { (i: Int) -> Float in
            let scale = Float(i) - 11, shift = Float(18 + i) - 11
            return Swift.max(0, input[i] * scale + shift)
        }
        for run in 0..<3 { #expect(try plan.run(input)[0].values == expected, "run \(run)") }
        #expect(try plan.poisonedRunMatches(input))
    }

    /// A small consistent listing: x -> step 0 -> a -> step 1 -> b (output); a's buffer then free for b.
    static let base = PlanListing(
        inputName: "x", inputShape: [1, 4], images: nil, imagePlans: nil, kernels: .reference, threads: 1,
        steps: [PlannedStep(index: 0, node: "n0", op: "Relu", work: "relu", kernel: nil, macs: 0, integer: false, reads: [0], writes: [1]),
                PlannedStep(index: 1, node: "n1", op: "Relu", work: "relu", kernel: nil, macs: 0, integer: false, reads: [1], writes: [2]),
                PlannedStep(index: 2, node: "n2", op: "Relu", work: "relu", kernel: nil, macs: 0, integer: false, reads: [2], writes: [3])],
        tensors: [tensor(0, .input, buffer: 0), tensor(1, .values, buffer: 1), tensor(2, .values, buffer: 2), tensor(3, .values, buffer: 1)],
        buffers: [16, 16, 16], outputs: [PlannedOutput(name: "y", tensor: 3)], plannedBytes: 48)

    static func tensor(_ id: Int, _ storage: PlannedTensor.Storage, buffer: Int, bytes: Int = 16, root: Int? = nil) -> PlannedTensor {
        PlannedTensor(id: id, name: nil, shape: [1, 4], storage: storage, source: nil, byteOffset: nil, root: root ?? id, buffer: buffer, bytes: bytes)
    }

    static func with(_ p: PlanListing, steps: [PlannedStep]? = nil, tensors: [PlannedTensor]? = nil, buffers: [Int]? = nil,
                     outputs: [PlannedOutput]? = nil) -> PlanListing {
        PlanListing(inputName: p.inputName, inputShape: p.inputShape, images: nil, imagePlans: nil, kernels: p.kernels, threads: p.threads,
                    steps: steps ?? p.steps, tensors: tensors ?? p.tensors, buffers: buffers ?? p.buffers, outputs: outputs ?? p.outputs,
                    plannedBytes: p.plannedBytes)
    }

    static func step(_ i: Int, reads: [Int], writes: [Int]) -> PlannedStep {
        PlannedStep(index: i, node: "n\(i)", op: "Relu", work: "relu", kernel: nil, macs: 0, integer: false, reads: reads, writes: writes)
    }

    struct Violating: CustomTestStringConvertible, Sendable {
        let name: String, listing: PlanListing, expected: PlanViolation
        var testDescription: String { name }
    }

    static let violations: [Violating] = [
        // t2 moved into t1's buffer: t1 is read by step 1, which writes t2.
        Violating(name: "two live tensors in one buffer", listing: with(base, tensors: [base.tensors[0], base.tensors[1], tensor(2, .values, buffer: 1), base.tensors[3]]),
                  expected: .sharedWhileLive(buffer: 1, first: 1, second: 2, steps: 1...1)),
        // A constant lives throughout: in buffer 1 it overlaps t1 (and the output t3).
        Violating(name: "a constant in a buffer reused", listing: with(base, tensors: base.tensors + [tensor(4, .constant, buffer: 1)]),
                  expected: .sharedWhileLive(buffer: 1, first: 4, second: 1, steps: 0...1)),
        // Step 1 reads t2, which it writes itself: a result read by its own step.
        Violating(name: "a step reading its own result", listing: with(base, steps: [base.steps[0], step(1, reads: [1, 2], writes: [2]), base.steps[2]]),
                  expected: .readBeforeWrite(step: 1, tensor: 2)),
        // The output names t4, which no step writes.
        Violating(name: "an output no step writes", listing: with(base, tensors: base.tensors + [tensor(4, .values, buffer: 2)],
                                                                outputs: [PlannedOutput(name: "y", tensor: 4)]),
                  expected: .outputUnwritten(name: "y", tensor: 4)),
        Violating(name: "a tensor listed under another id", listing: with(base, tensors: [base.tensors[0], tensor(5, .values, buffer: 1)] + base.tensors.dropFirst(2)),
                  expected: .malformedTensor(index: 1)),
        Violating(name: "a view of a tensor the plan lacks", listing: with(base, tensors: base.tensors.dropLast() + [tensor(3, .values, buffer: 1, root: 8)]),
                  expected: .malformedTensor(index: 3)),
        Violating(name: "a tensor larger than its buffer", listing: with(base, buffers: [16, 12, 16]),
                  expected: .overCapacity(tensor: 1, bytes: 16, buffer: 1, capacity: 12)),
        // Step 0 reads t2, which step 1 writes.
        Violating(name: "a read before the write", listing: with(base, steps: [step(0, reads: [0, 2], writes: [1])] + base.steps.dropFirst()),
                  expected: .readBeforeWrite(step: 0, tensor: 2)),
        // A view (alias) of t2 read at step 0: its storage is written only at step 1.
        Violating(name: "a view read before its storage is written",
                  listing: with(base, steps: [step(0, reads: [0, 4], writes: [1])] + base.steps.dropFirst(),
                                tensors: base.tensors + [tensor(4, .values, buffer: 2, root: 2)]),
                  expected: .readBeforeWrite(step: 0, tensor: 4)),
        Violating(name: "a step naming a tensor the plan lacks", listing: with(base, steps: base.steps.dropLast() + [step(2, reads: [9], writes: [3])]),
                  expected: .unknownTensor(step: 2, tensor: 9)),
        Violating(name: "a tensor naming a buffer the plan lacks", listing: with(base, tensors: base.tensors.dropLast() + [tensor(3, .values, buffer: 7)]),
                  expected: .unknownBuffer(tensor: 3, buffer: 7)),
    ]

    @Test func baseIsConsistent() { #expect(Self.base.check() == []) }

    @Test(arguments: violations)
    func checkFinds(_ v: Violating) {
        let found = v.listing.check()
        #expect(found.contains(v.expected), "\(found)")
        #expect(!v.expected.description.isEmpty)
    }

    /// The JSON form round-trips (what `resnet-check plan --format json` prints).
    @Test func codes() throws {
        let data = try JSONEncoder().encode(Self.base)
        #expect(try JSONDecoder().decode(PlanListing.self, from: data) == Self.base)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"input_shape\"") && text.contains("\"planned_bytes\"") && !text.contains("inputShape"))
    }
}
