import ArgumentParser
import Foundation
import ResNetCheck
import ResNetExec
import ResNetIR
import ResNetONNX
import ResNetSystem

struct ParityReport: Encodable {
    let model: String
    let reference: String
    let atol: Double
    let rtol: Double
    let nanEqual: Bool
    /// "fixed" or "auto" (noise floors per output in each output's statistics).
    let tolerance: String
    let cases: [ParityCase]
    /// With --per-block: each residual block's output compared, in order.
    let blocks: [ParityStats]?
    /// With --per-block: the first block out of tolerance, if any.
    let firstFailingBlock: String?
    /// With --per-block: each block's relative RMS error ||A - B|| / ||B|| (dequantized), and the
    /// block whose error grows the most over the block before it (where an int8 model loses the most).
    let drift: [BlockDrift]?
    let blockLosingMost: String?
    /// Why a failing fixed tolerance may be float32 noise (suggesting --tolerance auto).
    let hints: [String]
    let pass: Bool

    enum CodingKeys: String, CodingKey {
        case model, reference, atol, rtol, tolerance, cases, blocks, hints, pass
        case nanEqual = "nan_equal", firstFailingBlock = "first_failing_block", drift, blockLosingMost = "block_losing_most"
    }

    /// Every key is always present (null when not applicable), so consumers can rely on them.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(reference, forKey: .reference)
        try c.encode(atol, forKey: .atol)
        try c.encode(rtol, forKey: .rtol)
        try c.encode(nanEqual, forKey: .nanEqual)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(hints, forKey: .hints)
        try c.encode(cases, forKey: .cases)
        try c.encode(blocks, forKey: .blocks)
        try c.encode(firstFailingBlock, forKey: .firstFailingBlock)
        try c.encode(drift, forKey: .drift)
        try c.encode(blockLosingMost, forKey: .blockLosingMost)
        try c.encode(pass, forKey: .pass)
    }
}

struct ParityCase: Encodable {
    let input: String
    let outputs: [ParityStats]
    /// Outputs of a quantized model A: how many quantization steps each element is off by.
    let steps: [StepAgreement]
}

struct BlockDrift: Encodable {
    let name: String
    let relativeError: Double
    enum CodingKeys: String, CodingKey { case name, relativeError = "relative_error" }

    /// ||a - b|| / ||b|| over finite pairs (0 when both are 0).
    init(name: String, actual: [Float], expected: [Float]) {
        var diff = 0.0, norm = 0.0
        for (a, b) in zip(actual, expected) where a.isFinite && b.isFinite {
            diff += (Double(a) - Double(b)) * (Double(a) - Double(b)); norm += Double(b) * Double(b)
        }
        self.name = name
        relativeError = norm > 0 ? (diff / norm).squareRoot() : (diff > 0 ? 1 : 0)
    }
}

/// `resnet-check parity A B` / `resnet-check parity A --reference DIR`.
public struct ParityCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Check that two models (or a model and stored outputs) compute the same numbers.",
        discussion: """
            Runs A and B (any mix of .onnx and .rnw) on the same input, or A on every \
            test_data_set_* in --reference DIR (input_*.pb, output_*.pb, as onnxruntime or \
            the ONNX backend tests store them), and reports per output: max abs and rel error, \
            mean abs error, cosine similarity, and top-1/top-5 agreement for [N, classes] \
            outputs. An element fails only when it exceeds both --atol and --rtol x |reference|.

            NaN and infinity: an element with a NaN on either side fails, unless both sides \
            are NaN and --nan-equal is given; an infinity must be met by the same infinity. \
            These are counted (NaN mismatches, Inf mismatches) among the failing elements; \
            the error statistics cover only the pairs where both sides are finite.

            Exit codes: 0 pass; 1 an output is out of tolerance or top-5 differs; 2 unreadable \
            or invalid model or input, unsupported operator, or over the memory budget; \
            64 usage error.
            """)

    @Argument(help: "Model to check (.onnx or .rnw).")
    public var a: String

    @Argument(help: "Reference model (.onnx or .rnw); omit with --reference.")
    public var b: String?

    @Option(help: "Folder of test_data_set_*/input_*.pb and output_*.pb to compare A with.")
    public var reference: String?

    @Option(help: "Absolute tolerance.") public var atol: Double = 1e-4
    @Option(help: "Relative tolerance.") public var rtol: Double = 1e-4

    @Flag(help: "Count NaN on both sides as equal (by default NaN never matches, not even NaN).")
    public var nanEqual = false

    public enum ToleranceMode: String, ExpressibleByArgument, CaseIterable { case fixed, auto }

    @Option(help: ArgumentHelp("fixed: --atol/--rtol only. auto: also pass an element within --floor-multiple x float32's own noise floor for this model and input (A run in float64 on the reference kernels).", valueName: "mode"))
    public var tolerance: ToleranceMode = .fixed

    @Option(help: "With --tolerance auto: how many noise floors an element may differ by.")
    public var floorMultiple: Double = 4

    @Option(help: "Output format: text or json.")
    public var format: ShapesCommand.Format = .text

    @Flag(help: "Also compare the output of every residual block (matched in order by the residual analysis; quantized outputs dequantized), name the first one out of tolerance and the one whose error grows the most.")
    public var perBlock = false

    @Option(help: ArgumentHelp("For outputs of a quantized A (after a DequantizeLinear): pass an element within N quantization steps of the reference, whatever --atol/--rtol say.", valueName: "N"))
    public var atolSteps: Double?

    @OptionGroup public var inputs: InputOptions

    public init() {}

    var fixedTolerance: ParityTolerance { ParityTolerance(atol: atol, rtol: rtol, nanEqual: nanEqual) }

    /// The element rule for one output: the fixed tolerances, plus its noise floor under --tolerance auto.
    func tolerance(floor: Double?) -> ParityTolerance {
        var t = fixedTolerance
        if tolerance == .auto { t.noiseFloor = floor; t.floorMultiple = floorMultiple }
        return t
    }

    /// Compares A's outputs with the expected ones; under --tolerance auto (or to explain a failing
    /// fixed tolerance) measures A's float32 noise floor with a float64 run first.
    func compare(_ exec: Executor, input: [Float], shape: [Int], actual: [ExecOutput], expected: [(String, [Int], [Float])],
                 hints: inout [String]) throws -> (stats: [ParityStats], steps: [StepAgreement]) {
        var floors: [Double]? = tolerance == .auto ? try NoiseFloor.measure(exec, input: input, shape: shape, float32: actual) : nil
        // The quantization step of each output of a quantized A (1 for a float-coded integer output).
        let quantized = QuantizedValues(exec.model)
        let grids = actual.map { quantized.grid(of: $0.name) }
        let stepSizes: [Double?] = grids.map { grid in
            switch grid {
            case let .dequantized(step)?: return step
            case .quantized?: return 1
            case nil: return nil
            }
        }
        let stats = zip(actual, expected).enumerated().map { k, pair in
            var t = tolerance(floor: floors?[k])
            // Both sides sit on the same grid, so their difference is a whole number of steps plus
            // float32 noise: "within N steps" is a difference below N + 1/2 steps.
            if let n = atolSteps, let step = stepSizes[k] { t.atol = (n + 0.5) * step; t.rtol = 0 }
            return ParityStats(name: pair.0.name, shape: pair.0.shape, actual: pair.0.values, expected: pair.1.2, tolerance: t)
        }
        let steps = zip(actual, expected).enumerated().compactMap { k, pair in
            stepSizes[k].map { StepAgreement(output: pair.0.name, step: $0, actual: pair.0.values, expected: pair.1.2) }
        }
        if tolerance == .fixed, stats.contains(where: { !$0.pass }) {
            floors = try NoiseFloor.measure(exec, input: input, shape: shape, float32: actual)
            for (k, s) in stats.enumerated() where !s.pass && s.nanMismatches == 0 && s.infMismatches == 0 {
                if let floor = floors?[k], ParityStats.withinFloor(actual: actual[k].values, expected: expected[k].2, floor: floor, multiple: floorMultiple) {
                    hints.append("\(s.name): every error is within \(Int(floorMultiple)) x float32's own noise floor (\(ProcessInfoLite.format("%.3e", floor))) for this model; try --tolerance auto")
                }
            }
        }
        if atolSteps != nil {
            for (k, o) in actual.enumerated() where stepSizes[k] == nil {
                hints.append("\(o.name): no per-tensor quantization scale found before this output; --atol-steps does not apply to it")
            }
        }
        if atolSteps == nil, let s = steps.first(where: { $0.moreSteps == 0 }), stats.contains(where: { !$0.pass }) {
            hints.append("\(s.output): every element is within one quantization step (\(ProcessInfoLite.format("%.3e", s.step))); try --atol-steps 1")
        }
        return (stats, steps)
    }

    public func validate() throws {
        guard (b == nil) != (reference == nil) else { throw ValidationError("give either a second model B or --reference DIR") }
        if perBlock && b == nil { throw ValidationError("--per-block compares two models: give B") }
        // NaN already fails ">= 0"; infinity would wave every finite element through and cannot be written as JSON.
        guard atol >= 0, rtol >= 0, atol.isFinite, rtol.isFinite else {
            throw ValidationError("--atol and --rtol must be finite and non-negative")
        }
        guard floorMultiple > 0, floorMultiple.isFinite else { throw ValidationError("--floor-multiple must be finite and positive") }
        if let n = atolSteps, !(n >= 0 && n.isFinite && n == n.rounded()) {
            throw ValidationError("--atol-steps must be a whole number of steps (0, 1, 2, ...)")
        }
        for path in [a] + (b.map { [$0] } ?? []) where ModelFormat(path: path) == nil {
            throw ValidationError("'\(path)' has no known extension (expected .onnx or .rnw)")
        }
    }

    public func run() throws {
        var pass = true
        try ToolError.run(tool: "resnet-check parity") {
            let options = inputs.execOptions
            let modelA = try ModelFiles.load(a).model
            try ModelGate.refuse(modelA, path: a, scope: .runnable, consequence: "so parity does not run it")
            let execA = Executor(model: modelA, options: options)
            var cases: [ParityCase] = []
            var hints: [String] = []
            if let reference {
                let sets = try FileManager.default.contentsOfDirectory(atPath: reference).filter { $0.hasPrefix("test_data_set_") }.sorted()
                guard !sets.isEmpty else { throw InputError("\(reference) has no test_data_set_* folders") }
                for set in sets {
                    let dir = reference + "/" + set
                    let x = try InputOptions.readTensor(dir + "/input_0.pb", budget: options.memoryBudget)
                    let outputs = try execA.run(x.values, shape: x.shape)
                    var compared: [ExecOutput] = [], expected: [(String, [Int], [Float])] = []
                    for (k, o) in outputs.enumerated() {
                        let path = dir + "/output_\(k).pb"
                        guard FileManager.default.fileExists(atPath: path) else { continue }
                        let t = try InputOptions.readTensor(path, budget: options.memoryBudget)
                        compared.append(o)
                        expected.append((o.name, t.shape, t.values))
                    }
                    let (stats, steps) = try compare(execA, input: x.values, shape: x.shape, actual: compared, expected: expected, hints: &hints)
                    cases.append(ParityCase(input: set, outputs: stats, steps: steps))
                }
            }
            var blockStats: [ParityStats]?
            var firstFailing: String?
            var drift: [BlockDrift]?
            if let b {
                let modelB = try ModelFiles.load(b).model
                try ModelGate.refuse(modelB, path: b, scope: .runnable, consequence: "so parity does not run it")
                let (x, shape) = try inputs.load(for: modelA, budget: options.memoryBudget)
                let execB = Executor(model: modelB, options: options)
                // A quantized output (float-coded integers) is compared as real values, each side on its own grid.
                let (qa, qb) = (QuantizedValues(modelA), QuantizedValues(modelB))
                let ya = try execA.run(x, shape: shape).map { o in
                    ExecOutput(name: o.name, shape: o.shape, values: QuantizedValues.real(o.values, on: qa.grid(of: o.name)))
                }
                let yb = try execB.run(x, shape: shape).map { o in
                    ExecOutput(name: o.name, shape: o.shape, values: QuantizedValues.real(o.values, on: qb.grid(of: o.name)))
                }
                let (stats, steps) = try compare(execA, input: x, shape: shape, actual: ya, expected: yb.map { ($0.name, $0.shape, $0.values) },
                                                 hints: &hints)
                cases.append(ParityCase(input: inputs.input ?? "seed \(inputs.seed), shape \(shape)", outputs: stats, steps: steps))
                if perBlock {
                    (blockStats, firstFailing, drift) = try compareBlocks(modelA, execA, modelB, execB, x, shape)
                }
            }
            pass = cases.allSatisfy { $0.outputs.allSatisfy(\.pass) && !$0.outputs.isEmpty } && firstFailing == nil
            let report = ParityReport(model: a, reference: reference ?? b ?? "", atol: atol, rtol: rtol, nanEqual: nanEqual,
                                      tolerance: tolerance.rawValue, cases: cases, blocks: blockStats, firstFailingBlock: firstFailing,
                                      drift: drift, blockLosingMost: drift.flatMap(Self.losingMost), hints: hints, pass: pass)
            if format == .json {
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try e.encode(report), as: UTF8.self))
            } else {
                print(text(report))
            }
        }
        if !pass { throw ExitCode(ToolExit.modelWanting) }
    }

    /// Runs both models in lockstep, comparing every residual block's output in place
    /// (a quantized tensor dequantized first, so an int8 model compares with its float original).
    func compareBlocks(_ ma: Model, _ ea: Executor, _ mb: Model, _ eb: Executor, _ x: [Float], _ shape: [Int]) throws
        -> ([ParityStats], String?, [BlockDrift]) {
        let blocksA = ShapeChecker.check(ma, file: a).blocks, blocksB = ShapeChecker.check(mb, file: b ?? "").blocks
        guard blocksA.count == blocksB.count, !blocksA.isEmpty else {
            // A property of the two models, not of the command line.
            throw InputError("--per-block: A has \(blocksA.count) residual blocks and B has \(blocksB.count); they must match")
        }
        let sa = try Stepper(plan: try ea.batchPlan(inputShape: shape), input: x)
        let sb = try Stepper(plan: try eb.batchPlan(inputShape: shape), input: x)
        var stats: [ParityStats] = [], drift: [BlockDrift] = []
        let (qa, qb) = (QuantizedValues(ma), QuantizedValues(mb))
        for (ba, bb) in zip(blocksA, blocksB) {
            // In a QDQ model the block's float output is quantized right after (the ReLU folded into the Q):
            // compare that quantized value, dequantized.
            let outA = qa.observable(ba.outputValue), outB = qb.observable(bb.outputValue)
            let gridA = qa.grid(of: outA), gridB = qb.grid(of: outB)
            let pair: ([Int], [Float], [Float])? = sa.advance(to: outA) { shapeA, va in
                sb.advance(to: outB) { _, vb in
                    (shapeA, QuantizedValues.real(Array(va), on: gridA), QuantizedValues.real(Array(vb), on: gridB))
                }
            } ?? nil
            guard let (blockShape, va, vb) = pair else { continue }  // a block output folded away by one plan: nothing to compare
            stats.append(ParityStats(name: ba.name, shape: blockShape, actual: va, expected: vb, tolerance: fixedTolerance))
            drift.append(BlockDrift(name: ba.name, actual: va, expected: vb))
        }
        guard !stats.isEmpty else {
            throw InputError("--per-block: none of the \(blocksA.count) residual blocks' outputs is a value both plans compute")
        }
        return (stats, stats.first { !$0.pass }?.name, drift)
    }

    /// The block whose relative error grows the most over the block before it.
    static func losingMost(_ drift: [BlockDrift]) -> String? {
        guard !drift.isEmpty else { return nil }
        let growth = drift.enumerated().map { i, d in d.relativeError - (i == 0 ? 0 : drift[i - 1].relativeError) }
        return growth.indices.max { growth[$0] < growth[$1] }.map { drift[$0].name }
    }

    func text(_ r: ParityReport) -> String {
        func e(_ v: Double) -> String { ProcessInfoLite.format("%.3e", v) }
        let auto = r.tolerance == "auto" ? ", or within \(ConvertSummary.format(floorMultiple, 1)) x float32's noise floor" : ""
        var out = "\(r.model) vs \(r.reference) (atol \(e(r.atol)), rtol \(e(r.rtol))\(auto)\(r.nanEqual ? ", NaN equals NaN" : ""))\n"
        for c in r.cases {
            for o in c.outputs {
                out += "  \(c.input) \(o.name) \(o.shape): \(o.pass ? "pass" : "FAIL") max abs \(e(o.maxAbsError)), max rel \(e(o.maxRelError)), mean abs \(e(o.meanAbsError)), cosine \(ProcessInfoLite.format("%.8f", o.cosineSimilarity)), \(o.failingElements) of \(o.elements) failing (\(o.nanMismatches) NaN mismatches, \(o.infMismatches) Inf mismatches)"
                if let t1 = o.top1Agreement, let t5 = o.top5Agreement { out += ", top-1 \(Int(t1 * 100))%, top-5 \(Int(t5 * 100))%" }
                if let floor = o.noiseFloor { out += ", noise floor \(e(floor)) (max abs / floor \(floor > 0 ? ProcessInfoLite.format("%.2f", o.maxAbsError / floor) : "-"))" }
                if o.nonFinitePairs > 0 {
                    out += "; statistics over \(o.finitePairs) of \(o.finitePairs + o.nonFinitePairs) pairs (\(o.nonFinitePairs) with NaN or Inf left out)"
                }
                out += "\n"
            }
        }
        for c in r.cases {
            for st in c.steps {
                out += "  \(c.input) \(st.output) in quantization steps of \(e(st.step)): \(st.exact) same, \(st.oneStep) one step, \(st.moreSteps) more (max \(st.maxSteps == Int.max ? "non-finite" : String(st.maxSteps))); \(ProcessInfoLite.format("%.2f", st.withinOneStep * 100))% within one step\n"
            }
        }
        if let blocks = r.blocks {
            out += "  per block: \(blocks.count) compared"
            if let worst = blocks.max(by: { $0.maxAbsError < $1.maxAbsError }) {
                out += ", largest max abs \(e(worst.maxAbsError)) at '\(worst.name)'"
            }
            out += r.firstFailingBlock.map { "; first out of tolerance: '\($0)'" } ?? "; all within tolerance"
            out += "\n"
            if let drift = r.drift, let worst = r.blockLosingMost {
                out += "  drift (||A - B|| / ||B||): " + drift.map { "\($0.name) \(ProcessInfoLite.format("%.2e", $0.relativeError))" }.joined(separator: ", ")
                out += "\n  loses the most: '\(worst)'\n"
            }
        }
        for h in r.hints { out += "  note: \(h)\n" }
        return out + (r.pass ? "pass" : "FAIL")
    }
}
