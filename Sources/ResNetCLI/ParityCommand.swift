import ArgumentParser
import Foundation
import ResNetCheck
import ResNetExec
import ResNetIR
import ResNetONNX
import ResNetSystem

/// Error statistics of one output against its reference.
struct ParityStats: Encodable {
    let name: String
    let shape: [Int]
    let elements: Int
    let max_abs_error: Double
    let max_rel_error: Double
    let mean_abs_error: Double
    let cosine_similarity: Double
    /// Elements beyond both atol and rtol * |reference| (Polygraphy's rule).
    let failing_elements: Int
    /// For [N, classes] outputs: fraction of samples whose top-1 / top-5 agree.
    let top1_agreement: Double?
    let top5_agreement: Double?
    let pass: Bool

    init(name: String, shape: [Int], actual: [Float], expected: [Float], atol: Double, rtol: Double) {
        self.name = name
        self.shape = shape
        elements = expected.count
        var maxAbs = 0.0, maxRel = 0.0, sumAbs = 0.0, dot = 0.0, na = 0.0, nb = 0.0, failing = 0
        for (a, b) in zip(actual.map(Double.init), expected.map(Double.init)) {
            let d = abs(a - b)
            maxAbs = max(maxAbs, d)
            if b != 0 { maxRel = max(maxRel, d / abs(b)) } else if d > 0 { maxRel = .infinity }
            sumAbs += d
            dot += a * b; na += a * a; nb += b * b
            if d > atol && d > rtol * abs(b) { failing += 1 }
        }
        if actual.count != expected.count { failing = max(failing, 1) }
        max_abs_error = maxAbs
        max_rel_error = maxRel.isFinite ? maxRel : Double.greatestFiniteMagnitude
        mean_abs_error = expected.isEmpty ? 0 : sumAbs / Double(expected.count)
        cosine_similarity = na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / (na.squareRoot() * nb.squareRoot())
        failing_elements = failing
        if shape.count == 2, shape[1] >= 5, shape[0] > 0, actual.count == expected.count {
            let (n, c) = (shape[0], shape[1])
            func top(_ v: [Float], _ i: Int, _ k: Int) -> [Int] {
                Array(v[(i * c)..<((i + 1) * c)].enumerated().sorted { $0.element > $1.element }.prefix(k).map(\.offset))
            }
            top1_agreement = Double((0..<n).filter { top(actual, $0, 1) == top(expected, $0, 1) }.count) / Double(n)
            top5_agreement = Double((0..<n).filter { Set(top(actual, $0, 5)) == Set(top(expected, $0, 5)) }.count) / Double(n)
        } else {
            top1_agreement = nil
            top5_agreement = nil
        }
        pass = failing == 0 && (top5_agreement ?? 1) == 1
    }
}

struct ParityReport: Encodable {
    let model: String
    let reference: String
    let atol: Double
    let rtol: Double
    let cases: [ParityCase]
    /// With --per-block: each residual block's output compared, in order.
    let blocks: [ParityStats]?
    /// With --per-block: the first block out of tolerance, if any.
    let first_failing_block: String?
    let pass: Bool

    enum CodingKeys: String, CodingKey { case model, reference, atol, rtol, cases, blocks, first_failing_block, pass }

    /// Every key is always present (null when not applicable), so consumers can rely on them.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(reference, forKey: .reference)
        try c.encode(atol, forKey: .atol)
        try c.encode(rtol, forKey: .rtol)
        try c.encode(cases, forKey: .cases)
        try c.encode(blocks, forKey: .blocks)
        try c.encode(first_failing_block, forKey: .first_failing_block)
        try c.encode(pass, forKey: .pass)
    }
}

struct ParityCase: Encodable {
    let input: String
    let outputs: [ParityStats]
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

            Exit codes: 0 pass; 1 an output is out of tolerance or top-5 differs; 2 unreadable \
            input or unsupported operator; 64 usage error.
            """)

    @Argument(help: "Model to check (.onnx or .rnw).")
    public var a: String

    @Argument(help: "Reference model (.onnx or .rnw); omit with --reference.")
    public var b: String?

    @Option(help: "Folder of test_data_set_*/input_*.pb and output_*.pb to compare A with.")
    public var reference: String?

    @Option(help: "Absolute tolerance.") public var atol: Double = 1e-4
    @Option(help: "Relative tolerance.") public var rtol: Double = 1e-4

    @Option(help: "Output format: text or json.")
    public var format: ShapesCommand.Format = .text

    @Flag(help: "Also compare the output of every residual block (matched in order by the residual analysis) and name the first one out of tolerance.")
    public var perBlock = false

    @OptionGroup public var inputs: InputOptions

    public init() {}

    public func validate() throws {
        guard (b == nil) != (reference == nil) else { throw ValidationError("give either a second model B or --reference DIR") }
        if perBlock && b == nil { throw ValidationError("--per-block compares two models: give B") }
        guard atol >= 0, rtol >= 0 else { throw ValidationError("--atol and --rtol must be non-negative") }
    }

    public func run() throws {
        var pass = true
        try ToolError.run(tool: "resnet-check parity") {
            let options = ExecOptions(referenceKernels: inputs.referenceKernels)
            let modelA = try ModelFiles.load(a).model
            let execA = Executor(model: modelA, options: options)
            var cases: [ParityCase] = []
            if let reference {
                let sets = try FileManager.default.contentsOfDirectory(atPath: reference).filter { $0.hasPrefix("test_data_set_") }.sorted()
                guard !sets.isEmpty else { throw UsageError("\(reference) has no test_data_set_* folders") }
                for set in sets {
                    let dir = reference + "/" + set
                    let x = try ONNXReader.readTensor(path: dir + "/input_0.pb")
                    let outputs = try execA.run(try floats(x), shape: x.dims.map { Int($0) })
                    var stats: [ParityStats] = []
                    for (k, o) in outputs.enumerated() {
                        let path = dir + "/output_\(k).pb"
                        guard FileManager.default.fileExists(atPath: path) else { continue }
                        let expected = try ONNXReader.readTensor(path: path)
                        stats.append(ParityStats(name: o.name, shape: o.shape, actual: o.values, expected: try floats(expected), atol: atol, rtol: rtol))
                    }
                    cases.append(ParityCase(input: set, outputs: stats))
                }
            }
            var blockStats: [ParityStats]?
            var firstFailing: String?
            if let b {
                let modelB = try ModelFiles.load(b).model
                let (x, shape) = try inputs.load(for: modelA)
                let execB = Executor(model: modelB, options: options)
                let ya = try execA.run(x, shape: shape)
                let yb = try execB.run(x, shape: shape)
                let stats = zip(ya, yb).map { ParityStats(name: $0.name, shape: $0.shape, actual: $0.values, expected: $1.values, atol: atol, rtol: rtol) }
                cases.append(ParityCase(input: inputs.input ?? "seed \(inputs.seed), shape \(shape)", outputs: stats))
                if perBlock {
                    (blockStats, firstFailing) = try compareBlocks(modelA, execA, modelB, execB, x, shape)
                }
            }
            pass = cases.allSatisfy { $0.outputs.allSatisfy(\.pass) && !$0.outputs.isEmpty } && firstFailing == nil
            let report = ParityReport(model: a, reference: reference ?? b ?? "", atol: atol, rtol: rtol, cases: cases,
                                      blocks: blockStats, first_failing_block: firstFailing, pass: pass)
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

    /// Runs both models in lockstep, comparing each residual block's output in place.
    func compareBlocks(_ ma: Model, _ ea: Executor, _ mb: Model, _ eb: Executor, _ x: [Float], _ shape: [Int]) throws
        -> ([ParityStats], String?) {
        let blocksA = ShapeChecker.check(ma, file: a).blocks, blocksB = ShapeChecker.check(mb, file: b ?? "").blocks
        guard blocksA.count == blocksB.count, !blocksA.isEmpty else {
            throw UsageError("--per-block: A has \(blocksA.count) residual blocks and B has \(blocksB.count); they must match")
        }
        let sa = try Stepper(plan: try ea.plan(inputShape: shape), input: x)
        let sb = try Stepper(plan: try eb.plan(inputShape: shape), input: x)
        var stats: [ParityStats] = []
        for (ba, bb) in zip(blocksA, blocksB) {
            let s: ParityStats? = sa.advance(to: ba.outputValue) { shapeA, va in
                sb.advance(to: bb.outputValue) { _, vb in
                    ParityStats(name: ba.name, shape: shapeA, actual: Array(va), expected: Array(vb), atol: atol, rtol: rtol)
                }
            } ?? nil
            guard let s else { continue }  // a block output folded away by one plan: nothing to compare
            stats.append(s)
            if !s.pass { return (stats, ba.name) }
        }
        return (stats, nil)
    }

    /// A stored tensor's values as floats (Shape outputs are INT64, masks BOOL).
    func floats(_ t: Tensor) throws -> [Float] {
        guard let v = t.floatValues else { throw UsageError("tensor '\(t.name)' of type \(t.dataType) cannot be compared as numbers") }
        return v
    }

    func text(_ r: ParityReport) -> String {
        func e(_ v: Double) -> String { String(format: "%.3e", v) }
        var out = "\(r.model) vs \(r.reference) (atol \(e(r.atol)), rtol \(e(r.rtol)))\n"
        for c in r.cases {
            for o in c.outputs {
                out += "  \(c.input) \(o.name) \(o.shape): \(o.pass ? "pass" : "FAIL") max abs \(e(o.max_abs_error)), max rel \(e(o.max_rel_error)), mean abs \(e(o.mean_abs_error)), cosine \(String(format: "%.8f", o.cosine_similarity)), \(o.failing_elements) of \(o.elements) out of tolerance"
                if let t1 = o.top1_agreement, let t5 = o.top5_agreement { out += ", top-1 \(Int(t1 * 100))%, top-5 \(Int(t5 * 100))%" }
                out += "\n"
            }
        }
        if let blocks = r.blocks {
            out += "  per block: \(blocks.count) compared"
            if let worst = blocks.max(by: { $0.max_abs_error < $1.max_abs_error }) {
                out += ", largest max abs \(e(worst.max_abs_error)) at '\(worst.name)'"
            }
            out += r.first_failing_block.map { "; first out of tolerance: '\($0)'" } ?? "; all within tolerance"
            out += "\n"
        }
        return out + (r.pass ? "pass" : "FAIL")
    }
}
