import ResNetIR
import ResNetKernels
import ResNetKernelsReference

public struct ExecOptions: Sendable {
    /// Force the scalar reference kernels (portable; also the only path on a CPU without AVX2/FMA).
    public var referenceKernels = false
    /// The most the plan may allocate (buffers, workspaces, folded constants); checked before allocating.
    public var memoryBudget = MemoryBudget.default
    public init(referenceKernels: Bool = false, memoryBudget: MemoryBudget = .default) {
        self.referenceKernels = referenceKernels
        self.memoryBudget = memoryBudget
    }
}

public struct ExecOutput: Sendable {
    public let name: String
    public let shape: [Int]
    public let values: [Float]
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
    let body: (ExecutionPlanOf<T>) -> Void
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

    init(steps: [Step<T>], buffers: [Buffer<T>], storage: [Int], workspace: GemmWorkspace, columns: Buffer<T>, simd: Bool,
         inputName: String, inputShape: [Int], inputTensor: Int, outputs: [(String, PlanValue)],
         producedBy: [String: (step: Int, tensor: Int, shape: [Int])]) {
        self.producedBy = producedBy
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
    }

    /// Where logical tensor `id` lives during a run.
    @inline(__always)
    func pointer(_ id: Int) -> UnsafeMutablePointer<T> { buffers[storage[id]].pointer }

    /// A buffer as float32 for the SIMD kernels. Sound only in a float32 plan:
    /// every caller runs inside `if simd`, and the planner sets `simd` only when T is Float.
    @inline(__always)
    func f32(_ id: Int) -> UnsafeMutablePointer<Float> { UnsafeMutableRawPointer(pointer(id)).assumingMemoryBound(to: Float.self) }

    public var stepCount: Int { steps.count }

    /// Whether `value` is a runtime tensor of this plan (so a stepwise run can watch it).
    public func produces(_ value: String) -> Bool { producedBy[value] != nil }
    public var bufferBytes: Int { buffers.reduce(0) { $0 + $1.capacity * MemoryLayout<T>.size } }

    /// Runs the model on `input` (row-major, `inputShape`); outputs as float32.
    public func run(_ input: [Float]) throws -> [ExecOutput] {
        try runExact(input).map { ExecOutput(name: $0.name, shape: $0.shape, values: $0.values.map { Float($0) }) }
    }

    /// Runs the model and returns outputs in the plan's own precision (a float64 plan's, unrounded).
    public func runExact(_ input: [Float]) throws -> [(name: String, shape: [Int], values: [T])] {
        guard input.count == inputShape.reduce(1, *) else {
            throw ExecError.inputShape(name: inputName, expected: "\(inputShape)", actual: [input.count])
        }
        let dst = pointer(inputTensor)
        for (i, v) in input.enumerated() { dst[i] = T(v) }
        for step in steps { step.body(self) }
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
            plan.steps[next].body(plan)
            next += 1
        }
        return body(shape, UnsafeBufferPointer(start: plan.pointer(id), count: shape.reduce(1, *)))
    }
}
