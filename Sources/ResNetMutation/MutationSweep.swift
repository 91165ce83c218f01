import ResNetCheck
import ResNetExec
import ResNetIR
import ResNetSystem

/// Runs seeded mutants of models through every graph consumer above the
/// reader (the shape checker, the planner and its plan's check, a run of what plans and a poisoned run) and
/// counts outcomes. A trap ends the process: the last line printed names the
/// mutant (seed and index) so it can be replayed.
public struct MutationSweep {
    public struct Report: Sendable {
        public var executions = 0
        public var checkerWorst: [String: Int] = [:]
        public var executor: [String: Int] = [:]
        public var mutations: [String: Int] = [:]
        public var worstSeconds = 0.0
        public var worstMutant = ""
        public var peakResidentBytes = 0
        /// The first mutant whose plan contradicted itself or its kernels (inconsistentPlan, undeclaredRead), to replay.
        public var firstInconsistent: String?
        /// Plans whose poisoned stepwise runs (small enough buffers: poisonLimit) matched their plain run.
        public var poisonedRuns = 0
        public init() {}

        public mutating func merge(_ other: Report) {
            executions += other.executions
            for (k, v) in other.checkerWorst { checkerWorst[k, default: 0] += v }
            for (k, v) in other.executor { executor[k, default: 0] += v }
            for (k, v) in other.mutations { mutations[k, default: 0] += v }
            if other.worstSeconds > worstSeconds { (worstSeconds, worstMutant) = (other.worstSeconds, other.worstMutant) }
            peakResidentBytes = max(peakResidentBytes, other.peakResidentBytes)
            firstInconsistent = firstInconsistent ?? other.firstInconsistent
            poisonedRuns += other.poisonedRuns
        }
    }

    public let models: [(name: String, model: Model)]
    public let budget: MemoryBudget
    /// Called before each mutant runs (e.g. to print its id so a crash can be replayed).
    public var onMutant: ((String) -> Void)?

    public init(models: [(name: String, model: Model)], budget: MemoryBudget = MemoryBudget(bytes: 256 << 20)) {
        self.models = models
        self.budget = budget
    }

    /// The mutant with this index: a model picked and 1-3 mutations applied, from the seed alone.
    public func mutant(seed: UInt64, index: Int) -> (name: String, model: Model, kinds: [Mutator.Kind]) {
        var random = Mutator.Random(seed: seed &+ UInt64(index) &* 0x2545_F491_4F6C_DD1D)
        let (name, base) = models[random.below(models.count)]
        let (m, kinds) = Mutator().mutate(base, random: &random, count: 1 + random.below(3))
        return (name, m, kinds)
    }

    public func run(seed: UInt64, count: Int, offset: Int = 0) -> Report {
        var report = Report()
        for index in offset..<(offset + count) {
            let (name, model, kinds) = mutant(seed: seed, index: index)
            let id = "seed \(seed) mutant \(index) (\(name): \(kinds.map(\.rawValue).joined(separator: ", ")))"
            onMutant?(id)
            for k in kinds { report.mutations[k.rawValue, default: 0] += 1 }
            let start = ProcessInfoLite.monotonicSeconds()
            let checked = ShapeChecker.check(model, file: name)
            report.checkerWorst[checked.worst?.rawValue ?? "clean", default: 0] += 1
            let (outcome, poisoned) = Self.execute(model, budget: budget)
            report.executor[outcome, default: 0] += 1
            if poisoned { report.poisonedRuns += 1 }
            if outcome == Self.inconsistentPlan || outcome == Self.undeclaredRead, report.firstInconsistent == nil { report.firstInconsistent = id }
            let seconds = ProcessInfoLite.monotonicSeconds() - start
            if seconds > report.worstSeconds { (report.worstSeconds, report.worstMutant) = (seconds, id) }
            report.executions += 1
        }
        report.peakResidentBytes = ProcessInfoLite.peakResidentBytes()
        return report
    }

    /// The executor outcome of a mutant whose plan contradicts itself (a planner defect: the sweep fails).
    public static let inconsistentPlan = "inconsistent plan"
    /// The executor outcome of a mutant whose kernels read what its plan's listing lets go (a poisoned
    /// stepwise run differing from the plain one: a planner defect; the sweep fails).
    public static let undeclaredRead = "undeclared read (poisoned run)"
    /// Plans with more buffer bytes than this skip the poisoned run (it fills every buffer before every step).
    static let poisonLimit = 8 << 20

    /// Plans the mutant for its declared input (unknown dims 8: a symbolic batch runs 8 images,
    /// image by image where the graph allows, so the separability check sees every mutant) and
    /// runs it once.
    static func execute(_ model: Model, budget: MemoryBudget) -> (outcome: String, poisoned: Bool) {
        var poisoned = false
        return (outcome(model, budget: budget, poisoned: &poisoned), poisoned)
    }

    static func outcome(_ model: Model, budget: MemoryBudget, poisoned: inout Bool) -> String {
        let names = Set(model.graph.initializers.map(\.name))
        guard let input = model.graph.inputs.first(where: { !names.contains($0.name) }),
              case let .tensor(_, dims?)? = input.type?.kind else { return "no declared input" }
        let shape = dims.map { d -> Int in if case let .known(v) = d.value, let n = Int(exactly: v) { return n }; return 8 }
        do {
            let plan = try Executor(model: model, options: ExecOptions(memoryBudget: budget)).plan(inputShape: shape)
            // Whatever plans must hold together: buffers against the steps' reads and writes (PlanListing.check).
            guard plan.listing.check().isEmpty else { return Self.inconsistentPlan }
            guard let n = MemoryBudget.elementCount(shape) else { return "refused: input" }
            _ = try plan.run([Float](repeating: 0.5, count: n))
            // And against what its kernels read: a poisoned stepwise run (ExecutionPlanOf.poisonedRunMatches)
            // of one run's worth, where the buffers are small enough to fill before every step.
            if plan.bufferBytes <= Self.poisonLimit {
                let one = (plan.runsImagewise ? n / Swift.max(shape.first ?? 1, 1) : n)
                guard try plan.poisonedRunMatches([Float](repeating: 0.5, count: one)) else { return Self.undeclaredRead }
                poisoned = true
            }
            return plan.runsImagewise ? "ran per image" : "ran"
        } catch let e as ExecError {
            return "refused: " + e.kindName
        } catch {
            return "refused: other"
        }
    }
}
