import ResNetIR
import ResNetKernelsReference

/// Runs a model on float32 inputs. Plans are built once per input shape and reused.
public final class Executor {
    public let model: Model
    public let options: ExecOptions
    private var plans: [[Int]: ExecutionPlan] = [:]

    public init(model: Model, options: ExecOptions = ExecOptions()) {
        self.model = model
        self.options = options
    }

    /// The plan for one input shape (shapes, kernels, buffers), built on first use.
    public func plan(inputShape: [Int]) throws -> ExecutionPlan {
        if let p = plans[inputShape] { return p }
        let p = try Planner.plan(model, inputShape: inputShape, options: options)
        plans[inputShape] = p
        return p
    }

    public func run(_ input: [Float], shape: [Int]) throws -> [ExecOutput] {
        try plan(inputShape: shape).run(input)
    }

    /// Whether this CPU can run the SIMD kernels.
    public static var simdAvailable: Bool { CPU.hasAVX2FMA }
}
