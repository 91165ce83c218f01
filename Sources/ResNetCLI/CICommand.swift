import ArgumentParser
import Foundation
import ResNetCheck
import ResNetExec
import ResNetIR
import ResNetONNX
import ResNetSystem

/// `resnet-check ci MODEL`: every check this tool has, as named steps, with one exit code.
public struct CICommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ci",
        abstract: "The CI gate: integrity, ONNX validation, shapes and a run, with one exit code and a report.",
        discussion: """
            Steps: integrity (what verify checks), validation (ir_version, opset imports, domains, \
            unique names, input types, and every operator's arity and attributes), shapes (every \
            shape-checker diagnostic), run (a seeded smoke run: output shapes, finite values; or \
            against stored outputs with --reference DIR; or against the original with --against \
            FILE, which for a lossless conversion also compares graph, names, metadata and tensor \
            bytes and names what differs).

            Exit codes: 0 nothing at or above --fail-on; 1 something is; 2 unreadable input; \
            64 usage error. Formats: text, json (schemas/ci-report.schema.json), junit (a testcase \
            per step), github (workflow annotations).
            """)

    public enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, junit, github }

    @Argument(help: "Model file (.onnx or .rnw).")
    public var model: String

    @Option(help: "Folder of test_data_set_*/input_*.pb and output_*.pb to run the model against.")
    public var reference: String?

    @Option(help: "The original this model was converted from (.onnx or .rnw): outputs compared, and for a lossless conversion the graph, names, metadata and tensor bytes.")
    public var against: String?

    @Option(help: "Lowest severity that fails the gate: error, warning or info.")
    public var failOn: Severity = .error

    @Option(help: "Output format: text, json, junit or github.")
    public var format: Format = .text

    @Option(help: "Write the report to this file (atomically) instead of standard output.")
    public var report: String?

    @Option(help: "Absolute tolerance of the run step's comparisons.") public var atol: Double = 1e-4
    @Option(help: "Relative tolerance of the run step's comparisons.") public var rtol: Double = 1e-4

    @OptionGroup public var inputs: InputOptions

    public init() {}

    public func validate() throws {
        if reference != nil && against != nil { throw ValidationError("give --reference or --against, not both") }
        for path in [model] + (against.map { [$0] } ?? []) where ModelFormat(path: path) == nil {
            throw ValidationError("'\(path)' has no known extension (expected .onnx or .rnw)")
        }
        guard atol >= 0, rtol >= 0, atol.isFinite, rtol.isFinite else { throw ValidationError("--atol and --rtol must be finite and non-negative") }
    }

    public func run() throws {
        var pass = true
        try ToolError.run(tool: "resnet-check ci") {
            let r = try evaluate()
            pass = r.pass
            let text = try render(r)
            if let report {
                let w = try AtomicFileWriter(destination: report, protectedInputs: [model] + (against.map { [$0] } ?? []))
                try w.write(Array(text.utf8))
                try w.commit()
                print("\(model): \(pass ? "PASS" : "FAIL"); report written to \(report)")
            } else {
                print(text, terminator: "")
            }
        }
        if !pass { throw ExitCode(ToolExit.modelWanting) }
    }

    /// The report in the chosen format.
    public func render(_ r: CIReport) throws -> String {
        switch format {
        case .text: return CIRendering.text(r)
        case .json: return try CIRendering.json(r)
        case .junit: return CIRendering.junit(r)
        case .github: return CIRendering.github(r)
        }
    }

    /// Every step, in order; throws only for an unreadable file (exit 2).
    /// Public so the ci fuzzer (Fuzz/) drives exactly what the command runs.
    public func evaluate() throws -> CIReport {
        var steps: [CIStep] = []
        let (loaded, integrity) = try timed("integrity") { step -> LoadedModel? in
            do {
                let l = try ModelFiles.load(model)
                if let p = GraphValidation.problems(l.model.graph).first {
                    step.diagnostics.append(Diagnostic(.integrity, node: p.location, p.message))
                }
                step.detail = "\(l.format.rawValue), \(l.model.graph.initializers.count) initializers, \(l.fileSize) bytes"
                return l
            } catch let e as RNWFileError where !e.error.isUnreadable {
                step.diagnostics.append(Diagnostic(.integrity, node: model, String(describing: e.error)))
            } catch let e as ONNXError where !VerifyCommand.isNotAModel(e, path: model) {
                step.diagnostics.append(Diagnostic(.integrity, node: model, String(describing: e)))
            }
            return nil
        }
        steps.append(integrity)
        if let loaded, integrity.diagnostics.isEmpty {
            steps.append(try timed("validation") { step in
                step.diagnostics = ONNXValidation.findings(loaded.model)
                step.detail = "ir_version \(loaded.model.irVersion.map(String.init) ?? "none"), opsets \(loaded.model.opsetImports.map { "\($0.domain.isEmpty ? "ai.onnx" : $0.domain) \($0.version)" }.joined(separator: ", "))"
            })
            let shapes = ShapeChecker.check(loaded.model, file: model)
            steps.append(try timed("shapes") { step in
                step.diagnostics = shapes.diagnostics
                step.detail = "\(shapes.model.family), \(shapes.blocks.count) residual blocks, \(shapes.summary.macs) MACs per sample"
            })
            steps.append(try timed("run") { step in try runStep(loaded, &step) })
        } else {
            for name in ["validation", "shapes", "run"] {
                steps.append(CIStep(name: name, status: .skipped, seconds: 0, detail: "the file failed its integrity check", diagnostics: []))
            }
        }
        for k in steps.indices where steps[k].status != .skipped {
            steps[k].status = steps[k].diagnostics.contains { $0.severity >= failOn } ? .failed : .passed
        }
        return CIReport(file: model, failOn: failOn, steps: steps, pass: !steps.contains { $0.status == .failed })
    }

    /// Runs one step, timing it.
    func timed<R>(_ name: String, _ body: (inout CIStep) throws -> R) throws -> (R, CIStep) {
        var step = CIStep(name: name, status: .passed, seconds: 0, detail: "", diagnostics: [])
        let start = ProcessInfoLite.monotonicSeconds()
        let r = try body(&step)
        step.seconds = ProcessInfoLite.monotonicSeconds() - start
        return (r, step)
    }

    func timed(_ name: String, _ body: (inout CIStep) throws -> Void) throws -> CIStep {
        try timed(name) { (step: inout CIStep) -> Int in try body(&step); return 0 }.1
    }
}
