import ResNetIR
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsInt8
import ResNetKernelsReference

/// Runs a model on float32 inputs. Plans are built once per input shape and reused.
public final class Executor {
    public let model: Model
    public let options: ExecOptions
    private var plans: [[Int]: ExecutionPlan] = [:]
    private var batchPlans: [[Int]: ExecutionPlan] = [:]
    /// Why a separable batch still ran batched (its plans for one image did not serve).
    private var fallbackReasons: [[Int]: String] = [:]
    /// Packed weights shared by this executor's float32 plans (PreparedWeights).
    private let prepared = PreparedWeights()

    public init(model: Model, options: ExecOptions = ExecOptions()) {
        self.model = model
        self.options = options
    }

    /// What a float32 plan runs: on a SIMD kernel set (and without `exact`), the model with
    /// each BatchNormalization that follows a Conv folded into its weights and bias (one
    /// step and one pass over the activations fewer). The reference kernels run the graph
    /// as written. A model the fold refuses (training mode) is planned as written, where
    /// the planner names the problem.
    private lazy var preparedModel: Model = {
        guard options.kernels != .reference, !options.exact,
              model.graph.nodes.contains(where: { $0.opType == "BatchNormalization" }),
              let (folded, _) = try? BatchNormFolding.fold(model) else { return model }
        return folded
    }()

    /// The plan for one input shape (shapes, kernels, buffers), built on first use. A batch of
    /// several images runs image by image on the plan for one image where the graph treats
    /// images independently (BatchSeparability) and `options.perImage` allows; else batched.
    public func plan(inputShape: [Int]) throws -> ExecutionPlan {
        if let p = plans[inputShape] { return p }
        let p = try imagewisePlan(inputShape) ?? batchPlan(inputShape: inputShape)
        plans[inputShape] = p
        return p
    }

    /// The plan computing the whole batch step by step (what a stepwise run, Stepper, reads).
    public func batchPlan(inputShape: [Int]) throws -> ExecutionPlan {
        if let p = batchPlans[inputShape] { return p }
        let p = try Planner<Float>.plan(preparedModel, inputShape: inputShape, options: options, prepared: prepared)
        batchPlans[inputShape] = p
        return p
    }

    /// Why a batch of `inputShape` does not run image by image (nil: it does).
    public func batchedReason(inputShape: [Int]) -> String? {
        guard options.perImage else { return "image by image turned off" }
        if let r = fallbackReasons[inputShape] { return r }
        let graph = preparedModel.graph
        guard let input = Planner<Float>.runtimeInput(graph) else { return "the graph has no input" }
        if case let .tensor(_, dims?)? = input.type?.kind, let first = dims.first, case let .known(v) = first.value, v != 1 {
            return "the input declares a batch of \(v)"
        }
        return BatchSeparability.reason(graph: graph, opset: preparedModel.defaultOpsetVersion ?? 21, input: input.name, inputShape: inputShape)
    }

    private func imagewisePlan(_ inputShape: [Int]) throws -> ExecutionPlan? {
        guard inputShape.count >= 1, inputShape[0] > 1, batchedReason(inputShape: inputShape) == nil else { return nil }
        let one = Array([1] + inputShape.dropFirst())
        let images = inputShape[0], threads = options.threads
        // Threads run whole images side by side, each on its own single-threaded plan (its own
        // buffers; the packed weights shared), where they divide the batch evenly; otherwise
        // (one thread, or a batch the threads do not divide: 3 images on 2 threads would take
        // two image times where the batch split within each image takes about 1.6) the images
        // run in turn on the plan for one image, its steps split over the threads.
        // resnet50 at batch 8, interleaved rounds (medians of p50; minima): on 2 threads 267 ms
        // batched, 240 on one plan per thread (242 / 223); on 1 thread 469 and 449 (455 / 418).
        let perThread = threads > 1 && images % threads == 0
        // Each plan holds its buffers, and its constants, within 1/threads of the budget (the budget
        // bounds each apart), so the plans together stay within it as one batched plan would.
        var o = options
        if perThread {
            o.threads = 1
            o.memoryBudget = MemoryBudget(bytes: options.memoryBudget.bytes / threads)
        }
        let trial = prepared.trial()
        let plans: [ExecutionPlan]
        do {
            plans = try (0..<(perThread ? threads : 1)).map { _ in try Planner<Float>.plan(preparedModel, inputShape: one, options: o, prepared: trial) }
            // The whole batch's gathered outputs, on top of what the plans allocate, within the budget.
            var floats = 0
            for (_, value) in plans[0].outputs {
                guard let perImage = MemoryBudget.elementCount(value.shape) else { throw ExecError.overBudget(what: "the batch's outputs", bytes: nil, budget: options.memoryBudget.bytes) }
                let (n, o1) = perImage.multipliedReportingOverflow(by: images)
                let (total, o2) = floats.addingReportingOverflow(n)
                guard !o1, !o2 else { throw ExecError.overBudget(what: "the batch's outputs", bytes: nil, budget: options.memoryBudget.bytes) }
                floats = total
            }
            let outputBytes = try options.memoryBudget.check(elements: floats, what: "the batch's outputs")
            let planBytes = plans.reduce(0) { $0 &+ $1.bufferBytes }  // each within the budget: no overflow for a handful of plans
            let (all, o3) = planBytes.addingReportingOverflow(outputBytes)
            guard !o3, all <= options.memoryBudget.bytes else {
                throw ExecError.overBudget(what: "the plans for one image and the batch's outputs", bytes: o3 ? nil : all, budget: options.memoryBudget.bytes)
            }
        } catch {
            // Whatever stops the plans for one image leaves the batch to one batched plan, which
            // reports its own errors.
            fallbackReasons[inputShape] = "planning one image \(perThread ? "per thread (1/\(threads) of the memory budget each) " : "")failed (\(error))"
            return nil
        }
        guard plans[0].servesImagewise else {
            fallbackReasons[inputShape] = "an output of the plan for one image is not a runtime tensor of one image"
            return nil
        }
        prepared.commit(trial)
        return ExecutionPlan(images: images, of: plans)
    }

    /// A float64 plan on the reference kernels: how far float32's own rounding carries this
    /// model's outputs (the noise floor `parity --tolerance auto` measures). Not cached.
    public func planFloat64(inputShape: [Int]) throws -> ExecutionPlanOf<Double> {
        var o = options
        o.referenceKernels = true
        return try Planner<Double>.plan(model, inputShape: inputShape, options: o)
    }

    public func run(_ input: [Float], shape: [Int]) throws -> [ExecOutput] {
        try plan(inputShape: shape).run(input)
    }

    /// Whether this CPU can run the SIMD kernels.
    public static var simdAvailable: Bool { CPU.hasAVX2FMA }
}

/// The selected kernel set's micro-kernel speed on one core, in GFLOP/s
/// (0 for the reference set, which has no tile).
public enum KernelPeakGFLOPs {
    /// The integer tile's GOP/s on one core (Int8KernelPeak) for the tile plans of `set` run.
    public static func measureInteger(_ set: KernelSet, seconds: Double = 0.2) -> Double {
        Int8KernelPeak.measure(Int8Tile.forSet(set), seconds: seconds)
    }

    public static func measure(_ set: KernelSet, seconds: Double = 0.2) -> Double {
        switch set {
        case .avx512: return SgemmAVX512.measurePeak(seconds: seconds)
        case .avx2: return SgemmAVX2.measurePeak(seconds: seconds)
        case .reference: return 0
        }
    }
}

/// The one place a plan's packed GEMM picks its kernel set's entry point.
enum PackedKernels {
    /// Plans on the reference set never get here (their `simd` is false and they run
    /// GemmReference), so `.reference` shares the AVX2 branch only to keep the switch total.
    static func sgemm<Source: PackedBSource>(_ set: KernelSet, n: Int, a: PackedA, b: Source, c: UnsafeMutablePointer<Float>, ldc: Int,
                                             bias: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil,
                                             epilogue: GemmEpilogue = GemmEpilogue(), workspace: PackedGemmWorkspace) {
        switch set {
        case .avx512:
            SgemmAVX512.sgemm(n: n, a: a, b: b, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue, workspace: workspace)
        case .avx2, .reference:
            SgemmAVX2.sgemm(n: n, a: a, b: b, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue, workspace: workspace)
        }
    }

    /// One image's convolution by ShiftedRowsConv (PackedGemm.convShiftedRows).
    static func convShiftedRows(_ set: KernelSet, _ s: ShiftedRowsConv, image: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>,
                                weights: PackedA, output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                                residual: UnsafePointer<Float>?, relu: Bool, workspace: PackedGemmWorkspace) {
        switch set {
        case .avx512:
            SgemmAVX512.convShiftedRows(s, image: image, rowOffsets: rowOffsets, weights: weights, output: output, bias: bias, residual: residual,
                                        relu: relu, workspace: workspace)
        case .avx2, .reference:
            SgemmAVX2.convShiftedRows(s, image: image, rowOffsets: rowOffsets, weights: weights, output: output, bias: bias, residual: residual,
                                      relu: relu, workspace: workspace)
        }
    }

    /// One image's convolution transposed with its input read in place (PackedGemm.convGather):
    /// `weights` packed with tileColumns-row panels.
    static func convGather(_ set: KernelSet, _ s: GatherConv, image: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>, weights: PackedA,
                           output: UnsafeMutablePointer<Float>, outputLayout: ActivationLayout, bias: UnsafePointer<Float>?,
                           residual: UnsafePointer<Float>?, relu: Bool, workspace: PackedGemmWorkspace) {
        switch set {
        case .avx512:
            SgemmAVX512.convGather(s, image: image, rowOffsets: rowOffsets, weights: weights, output: output, outputLayout: outputLayout,
                                   bias: bias, residual: residual, relu: relu, workspace: workspace)
        case .avx2, .reference:
            SgemmAVX2.convGather(s, image: image, rowOffsets: rowOffsets, weights: weights, output: output, outputLayout: outputLayout,
                                 bias: bias, residual: residual, relu: relu, workspace: workspace)
        }
    }

    /// The narrow-output path (positions as the tile's rows): `weights` packed with tileColumns-row panels.
    static func sgemmNarrow<Source: PackedBSource>(_ set: KernelSet, n: Int, weights: PackedA, b: Source, c: UnsafeMutablePointer<Float>,
                                                   ldc: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                                   epilogue: GemmEpilogue, workspace: PackedGemmWorkspace) {
        switch set {
        case .avx512:
            SgemmAVX512.sgemmNarrow(n: n, weights: weights, b: b, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue, workspace: workspace)
        case .avx2, .reference:
            SgemmAVX2.sgemmNarrow(n: n, weights: weights, b: b, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue, workspace: workspace)
        }
    }
}
