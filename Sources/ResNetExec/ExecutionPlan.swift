import ResNetIR
import ResNetSystem
import ResNetKernels
import ResNetKernelsReference

public struct ExecOptions: Sendable {
    /// The kernel set: by default the widest this CPU runs (AVX-512, AVX2, else the scalar reference).
    public var kernels: KernelSet
    /// Threads a GEMM splits over (default: the cores this process may use).
    public var threads: Int
    /// The most the plan may allocate (buffers, workspaces, folded constants); checked before allocating.
    public var memoryBudget = MemoryBudget.default
    /// Compute the graph as written: no plan-time rewrite that changes rounding (a SIMD plan
    /// otherwise folds inference BatchNormalization into the Conv before it, as onnxruntime does).
    public var exact = false
    /// Run 3x3 stride-1 convolutions with enough output tiles per image as Winograd on the SIMD
    /// sets (F(4x4, 3x3) up to 28 columns, F(3x3) above, F(2x2) where the larger tile has too few
    /// tiles: Planner.winogradChoice): 2.25-4x fewer multiply-adds, rounding of the same order as
    /// the direct sum's (README). Not with `exact`; `--no-winograd` turns it off.
    public var winograd = true
    /// Run a batch image by image on the plan for one image where the graph treats images
    /// independently (BatchSeparability); `--no-per-image` runs every batch as one plan.
    public var perImage = true

    /// Force the scalar reference kernels (portable; also the only path on a CPU without AVX2/FMA).
    public var referenceKernels: Bool {
        get { kernels == .reference }
        set { kernels = newValue ? .reference : .detect() }
    }

    public init(referenceKernels: Bool = false, kernels: KernelSet? = nil, threads: Int? = nil, memoryBudget: MemoryBudget = .default) {
        self.kernels = referenceKernels ? .reference : (kernels ?? .detect())
        self.threads = max(1, threads ?? CPU.availableCores)
        self.memoryBudget = memoryBudget
    }
}

public struct ExecOutput: Sendable {
    public let name: String
    public let shape: [Int]
    public let values: [Float]
    public init(name: String, shape: [Int], values: [Float]) { self.name = name; self.shape = shape; self.values = values }
}

/// A value during planning: a runtime tensor (id into the plan's logical
/// tensors), or a constant known at plan time.
enum PlanValue {
    case tensor(id: Int, shape: [Int])
    case floats(FloatConstant, shape: [Int])
    case ints([Int64], shape: [Int])

    var shape: [Int] {
        switch self {
        case let .tensor(_, s), let .floats(_, s), let .ints(_, s): return s
        }
    }
}

/// One kernel call with every shape and buffer resolved at plan time.
struct Step<T: ExecScalar> {
    let node: String
    let op: String
    /// Multiply-adds the step performs (Conv, Gemm, MatMul; 0 for the rest), for profiles.
    let macs: Int
    /// Whether those are the integer tile's (8-bit operands, int32 sums) rather than the float tile's.
    let integer: Bool
    /// The kernel and algorithm the planner chose, where it chose among several (convolutions and
    /// quantized products: "avx512 winograd F(4x4)", "int8 vnni tap-major, chunked"); nil for the rest.
    let kernel: String?
    /// The tensors (ids) the step reads; those it writes are the ones defined at its index (Planner.emit).
    let reads: [Int]
    /// What it runs, as data (StepWork.swift).
    let work: StepWork<T>
}

/// One step's share of a profiled run (`resnet-check bench`).
public struct StepTiming: Sendable {
    public let node: String
    public let op: String
    public let macs: Int
    /// The multiply-adds ran on the integer tile.
    public let integer: Bool
    /// The kernel and algorithm the plan chose for the step (Step.kernel), where it chose.
    public let kernel: String?
    public let seconds: Double
    public init(node: String, op: String, macs: Int, integer: Bool = false, kernel: String? = nil, seconds: Double) {
        self.node = node; self.op = op; self.macs = macs; self.integer = integer; self.kernel = kernel; self.seconds = seconds
    }

    /// Each step's median time over profiled runs of one plan (the same steps in the same order
    /// in each; the mean of the middle two for an even count). Why a median: a slow spell of a
    /// shared host during one run moves a mean of three by a third.
    public static func medians(_ runs: [[StepTiming]]) -> [StepTiming] {
        guard let first = runs.first else { return [] }
        precondition(runs.allSatisfy { $0.count == first.count }, "profiled runs of different plans")  // one plan's, by the caller
        return first.indices.map { i in
            let times = runs.map { $0[i].seconds }.sorted(), mid = times.count / 2
            let median = times.count % 2 == 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2
            let step = first[i]
            return StepTiming(node: step.node, op: step.op, macs: step.macs, integer: step.integer, kernel: step.kernel, seconds: median)
        }
    }
}

/// The float32 plan `run` and `parity` execute.
public typealias ExecutionPlan = ExecutionPlanOf<Float>

/// A model prepared for one input shape: steps, buffers and workspaces are
/// allocated here, once; `run` allocates no tensor buffer, only the returned
/// outputs (and small bookkeeping in thread fan-out and general broadcasting).
public final class ExecutionPlanOf<T: ExecScalar> {
    let steps: [Step<T>]
    let buffers: [Buffer<T>]
    /// Logical tensor id -> index into `buffers`.
    let storage: [Int]
    let workspace: GemmWorkspace
    let columns: Buffer<T>
    /// SIMD kernels: only in float32 plans (the planner decides).
    let simd: Bool
    public let inputName: String
    public let inputShape: [Int]
    let inputTensor: Int
    let outputs: [(String, PlanValue)]
    let producedBy: [String: (step: Int, tensor: Int, shape: [Int])]
    /// Tensors stored channels last ([N, H, W, C] for their logical [N, C, H, W]): read only by
    /// the convs that take that layout; a stepwise run hands them out channels first.
    let channelsLast: Set<Int>
    /// Set when a batch runs image by image (BatchSeparability): plans for one image, one per
    /// thread running images (ImagewiseRun.swift). This plan then has no steps or buffers of its own.
    let imagePlans: [ExecutionPlanOf<T>]
    var single: ExecutionPlanOf<T>? { imagePlans.first }

    init(steps: [Step<T>], buffers: [Buffer<T>], storage: [Int], workspace: GemmWorkspace, columns: Buffer<T>, simd: Bool,
         inputName: String, inputShape: [Int], inputTensor: Int, outputs: [(String, PlanValue)],
         producedBy: [String: (step: Int, tensor: Int, shape: [Int])], channelsLast: Set<Int> = []) {
        self.producedBy = producedBy
        self.channelsLast = channelsLast
        self.steps = steps
        self.buffers = buffers
        self.storage = storage
        self.workspace = workspace
        self.columns = columns
        self.simd = simd
        self.inputName = inputName
        self.inputShape = inputShape
        self.inputTensor = inputTensor
        self.outputs = outputs
        self.imagePlans = []
    }

    /// A batch of `images` run image by image on `plans`, plans for one image (equal but for
    /// their threads and buffers) whose outputs are all runtime tensors of batch 1 (the Executor
    /// checks both); with several, each thread runs the images it claims on its own plan.
    init(images: Int, of plans: [ExecutionPlanOf<T>]) {
        let single = plans[0]
        self.imagePlans = plans
        steps = []; buffers = []; storage = []; producedBy = [:]; channelsLast = []
        workspace = GemmWorkspace(maxN: 0)
        columns = Buffer<T>(capacity: 0)
        simd = single.simd
        inputName = single.inputName
        inputShape = [images] + single.inputShape.dropFirst()
        inputTensor = 0
        outputs = single.outputs.map { name, value in (name, .tensor(id: 0, shape: [images] + value.shape.dropFirst())) }
    }

    /// Where logical tensor `id` lives during a run.
    @inline(__always)
    func pointer(_ id: Int) -> UnsafeMutablePointer<T> { buffers[storage[id]].pointer }

    /// A buffer as float32 for the SIMD kernels. Sound only in a float32 plan:
    /// every caller runs inside `if simd`, and the planner sets `simd` only when T is Float.
    @inline(__always)
    func f32(_ id: Int) -> UnsafeMutablePointer<Float> { UnsafeMutableRawPointer(pointer(id)).assumingMemoryBound(to: Float.self) }

    /// A buffer as bytes (a byte image, Planner+ByteImages.swift). Sound: only C kernels read and
    /// write through it (C's character types may alias any object); Swift only offsets it.
    @inline(__always)
    func bytes(_ id: Int) -> UnsafeMutablePointer<UInt8> { UnsafeMutableRawPointer(pointer(id)).assumingMemoryBound(to: UInt8.self) }

    /// Steps that read a byte image their input's producer wrote (Planner+ByteImages.swift).
    var byteImageReads = 0
    /// Tensors whose float-coded values no step reads, so their producer writes only their byte image
    /// (Planner+ByteImages.swift): tensor -> (byte image, offset), for a stepwise run to hand them out.
    var floatless: [Int: (bytes: Int, offset: Int)] = [:]
    /// The plan as data (Planner+Listing.swift): set with the buffers.
    var tensorTable: [PlannedTensor] = []
    var stepWrites: [[Int]] = []
    var kernelSet = KernelSet.reference
    var threads = 1
    var plannedBytes = 0
    var floatlessPerImage: Int { single?.floatless.count ?? floatless.count }
    var byteImageReadsPerImage: Int { single?.byteImageReads ?? byteImageReads }

    public var stepCount: Int { single?.stepCount ?? steps.count }

    /// Whether `value` is a runtime tensor of this plan (so a stepwise run can watch it).
    public func produces(_ value: String) -> Bool { producedBy[value] != nil }
    public var bufferBytes: Int { single?.bufferBytes ?? buffers.reduce(0) { $0 + $1.capacity * MemoryLayout<T>.size } }
    /// Whether the batch runs image by image on a plan for one image.
    public var runsImagewise: Bool { single != nil }

    /// Runs the model on `input` (row-major, `inputShape`); outputs as float32.
    public func run(_ input: [Float]) throws -> [ExecOutput] {
        try runExact(input).map { ExecOutput(name: $0.name, shape: $0.shape, values: Self.float32($0.values)) }
    }

    /// `values` as float32, without a per-element generic conversion: this class runs
    /// unspecialised from other modules, where `values.map { Float($0) }` cost 45 ns a float
    /// (a 64 x 56 x 56 output: 9 ms a run, 15x the conv that made it).
    static func float32(_ values: [T]) -> [Float] {
        // Sound: each cast is to the array's own type (T is Float, or Double), so a concrete map follows.
        if T.self == Float.self { return unsafeBitCast(values, to: [Float].self) }
        if T.self == Double.self { return unsafeBitCast(values, to: [Double].self).map(Float.init) }
        return values.map { Float($0) }
    }

    /// The plan's multiply-adds per run (Conv, Gemm and MatMul steps).
    public var macs: Int { single.map { $0.macs &* inputShape[0] } ?? steps.reduce(0) { $0 &+ $1.macs } }
    /// Of those, the integer tile's (QLinearConv, QLinearMatMul and QDQ-fused convs).
    public var integerMacs: Int { single.map { $0.integerMacs &* inputShape[0] } ?? steps.reduce(0) { $0 &+ ($1.integer ? $1.macs : 0) } }

    /// Runs once, timing every step (the clock is read between steps only); image by image,
    /// each step's times and multiply-adds summed over the images.
    public func profile(_ input: [Float]) throws -> [StepTiming] {
        guard input.count == inputShape.reduce(1, *) else {
            throw ExecError.inputShape(name: inputName, expected: "\(inputShape)", actual: [input.count])
        }
        if let single {
            var seconds = [Double](repeating: 0, count: single.steps.count)
            seconds.withUnsafeMutableBufferPointer { _ = runImagewise(input, seconds: $0) }
            return zip(single.steps, seconds).map {
                StepTiming(node: $0.node, op: $0.op, macs: $0.macs &* inputShape[0], integer: $0.integer, kernel: $0.kernel, seconds: $1)
            }
        }
        load(input)
        var seconds = [Double](repeating: 0, count: steps.count)
        seconds.withUnsafeMutableBufferPointer { runSteps(seconds: $0) }
        return zip(steps, seconds).map { StepTiming(node: $0.node, op: $0.op, macs: $0.macs, integer: $0.integer, kernel: $0.kernel, seconds: $1) }
    }

    /// Writes `input` (one run's worth) into the input tensor. (A buffer, not a generic
    /// collection: this class is generic over T and runs unspecialised from other modules, where
    /// iterating a generic collection looked up type metadata per element: 20 ms a run.)
    func load(_ input: UnsafeBufferPointer<Float>) {
        let dst = pointer(inputTensor)
        if T.self == Float.self, let src = input.baseAddress {
            // Sound: a float32 plan's input tensor holds inputShape's count of Floats, which the callers checked input.count against.
            UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: input.count * MemoryLayout<Float>.size)
        } else {
            for i in 0..<input.count { dst[i] = T(input[i]) }
        }
    }
    func load(_ input: [Float]) { input.withUnsafeBufferPointer { load($0) } }

    /// Runs every step; with `seconds` of one entry per step, adds each step's time to it
    /// (the clock is read between steps only).
    func runSteps(seconds: UnsafeMutableBufferPointer<Double>? = nil) {
        guard let seconds else {
            for step in steps { step.work.perform(on: self) }
            return
        }
        var last = ProcessInfoLite.monotonicSeconds()
        for (i, step) in steps.enumerated() {
            step.work.perform(on: self)
            let now = ProcessInfoLite.monotonicSeconds()
            seconds[i] += now - last
            last = now
        }
    }

    /// Runs the model and returns outputs in the plan's own precision (a float64 plan's, unrounded).
    public func runExact(_ input: [Float]) throws -> [(name: String, shape: [Int], values: [T])] {
        guard input.count == inputShape.reduce(1, *) else {
            throw ExecError.inputShape(name: inputName, expected: "\(inputShape)", actual: [input.count])
        }
        if !imagePlans.isEmpty { return runImagewise(input, seconds: nil) }
        load(input)
        runSteps()
        return outputs.map { name, value in
            switch value {
            case let .tensor(id, shape):
                return (name, shape, Array(UnsafeBufferPointer(start: pointer(id), count: shape.reduce(1, *))))
            case let .floats(c, shape):
                return (name, shape, c.array.map { T($0) })
            case let .ints(v, shape):
                return (name, shape, v.map { T($0) })
            }
        }
    }
}

/// Runs a plan a step at a time, pausing after the step that writes a given
/// value so it can be read in place: two steppers advanced in lockstep compare
/// two models block by block without keeping any intermediate beyond its
/// normal lifetime in the plan.
public final class Stepper {
    let plan: ExecutionPlan
    private var next = 0

    public init(plan: ExecutionPlan, input: [Float]) throws {
        guard input.count == plan.inputShape.reduce(1, *) else {
            throw ExecError.inputShape(name: plan.inputName, expected: "\(plan.inputShape)", actual: [input.count])
        }
        guard plan.single == nil else {
            throw ExecError.unsupportedAttribute(node: plan.inputName, detail: "a stepwise run of a plan that runs a batch image by image (Stepper needs Executor.batchPlan)")
        }
        self.plan = plan
        input.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { plan.pointer(plan.inputTensor).update(from: base, count: src.count) }
        }
    }

    /// Runs up to the step that writes `value` and calls `body` with it; nil if the
    /// plan has no such runtime value or it was written by a step already passed.
    public func advance<R>(to value: String, _ body: ([Int], UnsafeBufferPointer<Float>) -> R) -> R? {
        guard let (step, id, shape) = plan.producedBy[value], step >= next - 1 else { return nil }
        while next <= step {
            plan.steps[next].work.perform(on: plan)
            next += 1
        }
        let count = shape.reduce(1, *)
        if let (bytes, offset) = plan.floatless[id] {
            // Written only as bytes (value + offset each, exact): handed out float-coded, as every other value.
            // Raw loads: the buffer's memory is bound to Float, and only C reads it as bytes otherwise. In
            // bounds: a byte image holds a byte per value of its tensor (count), alive from its producer's step on.
            let image = UnsafeRawPointer(plan.pointer(bytes))
            let values = (0..<count).map { Float(Int(image.load(fromByteOffset: $0, as: UInt8.self)) - offset) }
            return values.withUnsafeBufferPointer { body(shape, $0) }
        }
        let values = UnsafeBufferPointer(start: plan.pointer(id), count: count)
        guard plan.channelsLast.contains(id), shape.count == 4 else { return body(shape, values) }
        // Stored [N, H, W, C]: handed out in the graph's layout, [N, C, H, W].
        var first = [Float](repeating: 0, count: values.count)
        let (c, positions) = (shape[1], shape[2] * shape[3])
        first.withUnsafeMutableBufferPointer { dst in
            for img in 0..<shape[0] {
                LayoutTranspose.transpose(values.baseAddress! + img * c * positions, rows: positions, columns: c, into: dst.baseAddress! + img * c * positions)
            }
        }
        return first.withUnsafeBufferPointer { body(shape, $0) }
    }
}
