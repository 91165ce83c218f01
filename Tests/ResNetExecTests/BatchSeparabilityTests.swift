import Testing
@testable import ResNetExec
import ResNetIR
import ResNetKernelsReference
import ResNetShapes

/// When a batch runs image by image (Executor.plan on a separable graph) and when it must run
/// as one batched plan: a table of graphs, each refused for its own reason, and the outputs of
/// the per-image schedule against the batched plan's.
struct BatchSeparabilityTests {
    static func floats(_ name: String, _ dims: [Int64], _ value: (Int) -> Float) -> Tensor {
        let count = Int(dims.reduce(1, *))
        var bytes: [UInt8] = []
        for i in 0..<count { withUnsafeBytes(of: value(i).bitPattern.littleEndian) { bytes += $0 } }
        return Tensor(name: name, dataType: .float, dims: dims, data: TensorBytes(bytes))
    }
    static func ints(_ name: String, _ values: [Int64]) -> Tensor {
        var bytes: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        return Tensor(name: name, dataType: .int64, dims: [Int64(values.count)], data: TensorBytes(bytes))
    }
    static func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [Attribute] = []) -> Node {
        Node(name: output, opType: op, inputs: inputs, outputs: [output], attributes: attributes)
    }
    static func attr(_ name: String, _ v: Int64) -> Attribute { Attribute(name: name, value: .int(v)) }
    static func attr(_ name: String, _ v: [Int64]) -> Attribute { Attribute(name: name, value: .ints(v)) }

    /// x [N|batch, 8, 8, 8] -> Conv 3x3 (4 channels, ReLU) -> `tail` (reading "r" [N, 4, 8, 8]) -> `output`.
    static func model(_ tail: [Node], _ initializers: [Tensor] = [], output: String, batch: Dim.Value = .symbol("N")) -> Model {
        let stem = [node("Conv", ["x", "w", "b"], "c", [attr("pads", [1, 1, 1, 1])]), node("Relu", ["c"], "r")]
        let weights = [floats("w", [4, 8, 3, 3]) { Float(($0 * 7) % 11) * 0.05 - 0.25 }, floats("b", [4]) { Float($0) * 0.1 }]
        let g = Graph(nodes: stem + tail, initializers: weights + initializers,
                      inputs: [ValueInfo(name: "x", type: TypeDescriptor(.tensor(elemType: 1, shape: [Dim(batch), .known(8), .known(8), .known(8)])))],
                      outputs: [ValueInfo(name: output, type: nil)])
        return Model(opsetImports: [OpsetImport(domain: "", version: 17)], graph: g)
    }

    /// A classifier head as torch exports it: pooled, flattened by a Reshape whose shape is
    /// computed from the input's (Shape, Gather, Unsqueeze, Concat), then a Gemm.
    static let classifier = model([
        node("GlobalAveragePool", ["r"], "p"),
        node("Shape", ["p"], "s"), node("Gather", ["s", "zero"], "n", [attr("axis", 0)]),
        node("Unsqueeze", ["n", "axes0"], "n1"), node("Concat", ["n1", "minusOne"], "shape", [attr("axis", 0)]),
        node("Reshape", ["p", "shape"], "f"),
        node("Gemm", ["f", "fcw", "fcb"], "y", [attr("transB", 1)]),
    ], [Tensor(name: "zero", dataType: .int64, dims: [], data: TensorBytes([UInt8](repeating: 0, count: 8))), ints("axes0", [0]), ints("minusOne", [-1]),
        floats("fcw", [10, 4]) { Float($0 % 5) * 0.2 - 0.4 }, floats("fcb", [10]) { Float($0) * 0.01 }], output: "y")

    @Test func classifierRunsImageByImageWithTheBatchedPlansOutputs() throws {
        let shape = [3, 8, 8, 8]
        let x = (0..<shape.reduce(1, *)).map { Float(($0 * 37) % 101) * 0.02 - 1 }
        for kernels in [KernelSet.reference] + (Executor.simdAvailable ? [KernelSet.detect()] : []) {
            let executor = Executor(model: Self.classifier, options: ExecOptions(kernels: kernels))
            #expect(executor.batchedReason(inputShape: shape) == nil)
            let plan = try executor.plan(inputShape: shape)
            #expect(plan.runsImagewise)
            #expect(try !executor.batchPlan(inputShape: shape).runsImagewise)
            let perImage = try plan.run(x), batched = try executor.batchPlan(inputShape: shape).run(x)
            #expect(perImage.map { $0.shape } == [[3, 10]])
            #expect(perImage[0].values == batched[0].values, "\(kernels)")
            // Each image alone gives its row of the batch's output.
            for image in 0..<3 {
                let one = try executor.run(Array(x[(image * 512)..<((image + 1) * 512)]), shape: [1, 8, 8, 8])
                #expect(one[0].values == Array(perImage[0].values[(image * 10)..<((image + 1) * 10)]))
            }
            // The profile counts every image's multiply-adds.
            let single = try executor.plan(inputShape: [1, 8, 8, 8])
            #expect(plan.macs == 3 * single.macs)
            #expect(try plan.profile(x).reduce(0) { $0 + $1.macs } == plan.macs)
        }
    }

    /// Threads that divide the batch each run whole images on a plan of their own (the packed
    /// weights shared); results land in each image's own rows whatever thread ran it.
    @Test(arguments: [(4, 2), (6, 3), (3, 2), (2, 4)])
    func threadsRunWholeImagesWithTheBatchedPlansOutputs(_ images: Int, _ threads: Int) throws {
        let shape = [images, 8, 8, 8]
        let x = (0..<shape.reduce(1, *)).map { Float(($0 * 53) % 97) * 0.02 - 0.9 }
        let executor = Executor(model: Self.classifier, options: ExecOptions(threads: threads))
        let plan = try executor.plan(inputShape: shape)
        #expect(plan.runsImagewise)
        #expect(plan.imagePlans.count == (images % threads == 0 ? threads : 1))
        let perImage = try plan.run(x), batched = try executor.batchPlan(inputShape: shape).run(x)
        #expect(perImage[0].values == batched[0].values)
        let profile = try plan.profile(x)
        #expect(profile.count == plan.imagePlans[0].stepCount)
        #expect(profile.reduce(0) { $0 + $1.macs } == plan.macs && plan.macs == images * plan.imagePlans[0].macs)
    }

    /// Plans for one image per thread share the budget (1/threads each): at the least budget the
    /// batched plan fits, they do not, and the batch runs batched, saying why.
    @Test func perThreadPlansStayWithinTheBudget() throws {
        // Weights (a 4096 x 64 classifier, packed: 1 MB) outweigh the activations, as in a
        // real model at small batches: the first plan for one image must hold them in half.
        let wide = Self.model([
            Self.node("Conv", ["r", "w64"], "c64", [Self.attr("pads", [1, 1, 1, 1])]), Self.node("GlobalAveragePool", ["c64"], "p"),
            Self.node("Flatten", ["p"], "f", [Self.attr("axis", 1)]), Self.node("Gemm", ["f", "fcw"], "y", [Self.attr("transB", 1)]),
        ], [Self.floats("w64", [64, 4, 3, 3]) { Float($0 % 9) * 0.01 }, Self.floats("fcw", [4096, 64]) { Float($0 % 7) * 0.01 }], output: "y")
        let shape = [4, 8, 8, 8]
        func options(_ bytes: Int) -> ExecOptions { ExecOptions(threads: 2, memoryBudget: MemoryBudget(bytes: bytes)) }
        var (low, high) = (0, 1 << 24)  // the batched plan fails at low, fits at high
        #expect(throws: Never.self) { try Executor(model: wide, options: options(high)).batchPlan(inputShape: shape) }
        while high - low > 1 {
            let mid = (low + high) / 2
            if (try? Executor(model: wide, options: options(mid)).batchPlan(inputShape: shape)) != nil { high = mid } else { low = mid }
        }
        let executor = Executor(model: wide, options: options(high))
        let plan = try executor.plan(inputShape: shape)
        #expect(!plan.runsImagewise)
        #expect(executor.batchedReason(inputShape: shape)?.contains("1/2 of the memory budget") == true)
        // With room for both, per thread.
        #expect(try Executor(model: wide, options: options(2 * high)).plan(inputShape: shape).runsImagewise)
    }

    struct Refusal: CustomTestStringConvertible, Sendable {
        let name: String, reason: String
        let model: Model
        var options = ExecOptions(referenceKernels: true)
        var batch = 3
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = {
        let flat = [node("Flatten", ["r"], "f", [attr("axis", 1)])]
        var off = ExecOptions(referenceKernels: true)
        off.perImage = false
        return [
            Refusal(name: "Softmax over the batch axis", reason: "normalizes over the batch axis",
                    model: model(flat + [node("Softmax", ["f"], "y", [attr("axis", 0)])], output: "y")),
            Refusal(name: "Transpose moving the batch axis", reason: "moves the batch axis",
                    model: model([node("Transpose", ["r"], "y", [attr("perm", [1, 0, 2, 3])])], output: "y")),
            Refusal(name: "Reshape merging the batch", reason: "'y' is [768] for the batch, [256] for one image",
                    model: model([node("Reshape", ["r", "all"], "y")], [ints("all", [-1])], output: "y")),
            Refusal(name: "data scaled by the batch size", reason: "computed from the batch's size",
                    model: model([node("Shape", ["r"], "s"), node("Cast", ["s"], "sf", [attr("to", 1)]),
                                  node("Gather", ["sf", "zero"], "n", [attr("axis", 0)]), node("Mul", ["r", "n"], "y")],
                                 [Tensor(name: "zero", dataType: .int64, dims: [], data: TensorBytes([UInt8](repeating: 0, count: 8)))], output: "y")),
            Refusal(name: "ReduceMean over the batch axis", reason: "reduces over the batch axis",
                    model: model([node("ReduceMean", ["r"], "y", [attr("axes", [0]), attr("keepdims", 1)])], output: "y")),
            Refusal(name: "ReduceMean over every axis", reason: "reduces over every axis",
                    model: model([node("ReduceMean", ["r"], "y", [attr("keepdims", 1)])], output: "y")),
            Refusal(name: "Slice reversing the batch", reason: "slices the batch axis",
                    model: model([node("Slice", ["r", "start", "end", "axis0", "back"], "y")],
                                 [ints("start", [-1]), ints("end", [Int64.min]), ints("axis0", [0]), ints("back", [-1])], output: "y")),
            Refusal(name: "Gather along the batch axis", reason: "gathers along the batch axis",
                    model: model([node("Gather", ["r", "first"], "y", [attr("axis", 0)])], [ints("first", [0])], output: "y")),
            Refusal(name: "BatchNormalization in training mode", reason: "training-mode statistics span the batch",
                    model: model([node("BatchNormalization", ["r", "one", "zero4", "zero4", "one"], "y", [attr("training_mode", 1)])],
                                 [floats("one", [4]) { _ in 1 }, floats("zero4", [4]) { _ in 0 }], output: "y")),
            Refusal(name: "an operator shape inference does not know", reason: "shape inference has findings",
                    model: model([node("CumSum", ["r", "axis"], "y")], [ints("axis", [0])], output: "y")),
            Refusal(name: "an input declaring its batch", reason: "the input declares a batch of 3",
                    model: model([node("GlobalAveragePool", ["r"], "y")], output: "y", batch: .known(3))),
            Refusal(name: "per-image turned off", reason: "turned off", model: classifier, options: off),
            Refusal(name: "an operand broadcasting its batch axis against another", reason: "broadcasts across images",
                    model: model([node("Gather", ["r", "zero"], "g1", [attr("axis", 1)]), node("Gather", ["g1", "zero"], "g2", [attr("axis", 1)]),
                                  node("Gather", ["g2", "zero"], "v", [attr("axis", 1)]), node("Add", ["r", "v"], "y")],
                                 [Tensor(name: "zero", dataType: .int64, dims: [], data: TensorBytes([UInt8](repeating: 0, count: 8)))], output: "y"),
                    batch: 8),
            Refusal(name: "MaxPool with indices", reason: "its indices count across the batch",
                    model: model([Node(name: "mp", opType: "MaxPool", inputs: ["r"], outputs: ["y", "idx"], attributes: [attr("kernel_shape", [2, 2])])],
                                 output: "y")),
            Refusal(name: "Slice starting at the batch's size", reason: "input 1 is computed from the batch's size and differs for one image",
                    model: model([node("Shape", ["r"], "s"), node("Slice", ["s", "zero1", "one1"], "n"), node("Sub", ["n", "one1"], "start"),
                                  node("Slice", ["r", "start", "n", "one1"], "y")],
                                 [ints("zero1", [0]), ints("one1", [1])], output: "y")),
            Refusal(name: "zeros shaped by the input's shape, used as data", reason: "input 1 is computed from the batch's size",
                    model: model([node("Shape", ["r"], "s"), node("ConstantOfShape", ["s"], "z"), node("Concat", ["r", "z"], "y", [attr("axis", 1)])],
                                 output: "y")),
            Refusal(name: "an output not computed from the input", reason: "graph output 'y' is not computed from the input",
                    model: model([node("Identity", ["b"], "y")], output: "y")),
        ]
    }()

    @Test(arguments: refusals)
    func batchedWithAReason(_ c: Refusal) throws {
        let executor = Executor(model: c.model, options: c.options)
        let reason = executor.batchedReason(inputShape: [c.batch, 8, 8, 8])
        #expect(reason?.contains(c.reason) == true, "\(c.name): \(reason ?? "nil")")
    }

    /// Graphs as exporters write them that must run image by image, with the batched plan's outputs.
    static let accepted: [(String, Model)] = [
        ("squeeze-and-excitation", model([
            node("ReduceMean", ["r"], "m", [attr("axes", [2, 3]), attr("keepdims", 1)]), node("Conv", ["m", "se1"], "e1"), node("Relu", ["e1"], "e2"),
            node("Conv", ["e2", "se2"], "e3"), node("Sigmoid", ["e3"], "e4"), node("Mul", ["r", "e4"], "y"),
        ], [floats("se1", [2, 4, 1, 1]) { Float($0) * 0.1 - 0.3 }, floats("se2", [4, 2, 1, 1]) { Float($0) * 0.2 - 0.5 }], output: "y")),
        ("option-A shortcut: strided slice, channels padded with zeros", model([
            node("Slice", ["r", "starts", "ends", "axes", "steps"], "sub"), node("Pad", ["sub", "pads"], "y"),
        ], [ints("starts", [0, 0]), ints("ends", [Int64.max, Int64.max]), ints("axes", [2, 3]), ints("steps", [2, 2]),
            ints("pads", [0, 2, 0, 0, 0, 2, 0, 0])], output: "y")),
        ("Dropout and a pooled head", model([
            node("Dropout", ["r"], "d"), node("GlobalAveragePool", ["d"], "p"), node("Flatten", ["p"], "y", [attr("axis", 1)]),
        ], output: "y")),
    ]

    @Test(arguments: accepted.indices)
    func exporterGraphsRunImageByImage(_ i: Int) throws {
        let (name, model) = Self.accepted[i]
        let shape = [4, 8, 8, 8]
        let x = (0..<shape.reduce(1, *)).map { Float(($0 * 29) % 89) * 0.03 - 1.2 }
        for threads in [1, 2] {
            let executor = Executor(model: model, options: ExecOptions(referenceKernels: true, threads: threads))
            #expect(executor.batchedReason(inputShape: shape) == nil, "\(name)")
            let plan = try executor.plan(inputShape: shape)
            #expect(plan.runsImagewise, "\(name)")
            #expect(try plan.run(x)[0].values == executor.batchPlan(inputShape: shape).run(x)[0].values, "\(name), \(threads) threads")
        }
    }

    @Test func stepwiseRunsNeedTheBatchedPlan() throws {
        let executor = Executor(model: Self.classifier)
        let x = [Float](repeating: 0.5, count: 4 * 512)
        #expect(throws: ExecError.self) { try Stepper(plan: executor.plan(inputShape: [4, 8, 8, 8]), input: x) }
        #expect(throws: Never.self) { try Stepper(plan: executor.batchPlan(inputShape: [4, 8, 8, 8]), input: x) }
    }

    @Test func unlistedOperatorsAndDataArgumentsAreRefused() {
        let rank2: [String: ValueFacts] = ["a": ValueFacts(elemType: 1, shape: [.known(3), .known(4)]), "b": ValueFacts(elemType: 1, shape: [.known(4), .known(3)])]
        let transposedA = Node(name: "g", opType: "Gemm", inputs: ["a", "w"], outputs: ["y"], attributes: [Self.attr("transA", 1)])
        #expect(BatchSeparability.perImage(transposedA, dataPositions: [0], facts: rank2) == "multiplies across the batch")
        let product = Node(name: "m", opType: "MatMul", inputs: ["a", "b"], outputs: ["y"])
        #expect(BatchSeparability.perImage(product, dataPositions: [0, 1], facts: rank2) == "multiplies two computed matrices across the batch")
        let batched: [String: ValueFacts] = ["a": ValueFacts(elemType: 1, shape: [.known(3), .known(2), .known(4)]),
                                             "b": ValueFacts(elemType: 1, shape: [.known(3), .known(4), .known(2)])]
        #expect(BatchSeparability.perImage(product, dataPositions: [0, 1], facts: batched) == nil)
        let range = Self.node("Range", ["r", "limit", "delta"], "y")
        #expect(BatchSeparability.perImage(range, dataPositions: [0], facts: [:]) == "Range is not known to compute each image alone")
        #expect(BatchSeparability.shapeArgument("Reshape", position: 1))
        #expect(!BatchSeparability.shapeArgument("Reshape", position: 0))
        #expect(!BatchSeparability.shapeArgument("Pad", position: 2))  // the fill value is data
        #expect(!BatchSeparability.shapeArgument("Mul", position: 1))
    }

    @Test func oneImageIsNotABatch() {
        #expect(Executor(model: Self.classifier).batchedReason(inputShape: [1, 8, 8, 8]) != nil)
    }
}
