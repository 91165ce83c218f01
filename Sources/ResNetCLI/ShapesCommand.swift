import ArgumentParser
import Foundation
import ResNetCheck
import ResNetSystem

/// `resnet-check shapes MODEL`: static shapes and residual analysis.
public struct ShapesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "shapes",
        abstract: "Infer shapes and explain every residual block of a ResNet-family model.",
        discussion: """
            For every residual Add/Sum: both operand shapes, the shortcut kind (identity, \
            projection, resnet-d, option-a-pad, option-a-concat, max-pool, other), which \
            conv carries the stride, pre- or post-activation, and the stage. For the model: \
            family, depth, variant (v1, v1.5, v1d, v2), shortcut option (A, B, C, mixed), \
            and a per-stage table of parameters and multiply-accumulates. --svg draws the \
            same as a picture.

            Diagnostics have stable codes (RN001-RN121, see README) and a severity.

            Exit codes: 0 nothing at or above --fail-on; 1 something is; 2 unreadable \
            input; 64 usage error.
            """)

    public enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, github }

    @Argument(help: "Model file (.onnx or .rnw).")
    public var model: String

    @Option(help: "Output format: text, json (schemas/check-report.schema.json) or github (workflow annotations).")
    public var format: Format = .text

    @Option(help: "Lowest severity that fails the check: error, warning or info.")
    public var failOn: Severity = .error

    @Option(help: "Input sizes to check every residual join at: START:STOP:STEP (inclusive) or a list 224,225,256.")
    public var sweep: String?

    @Option(help: ArgumentHelp("Also draw the network as a self-contained SVG here (stem, stages, every block and its shortcut; broken joins in red).",
                               valueName: "out.svg"))
    public var svg: String?

    public init() {}

    func sweepSizes() throws -> [Int64] {
        guard let sweep else { return [] }
        let bad = ValidationError("--sweep '\(sweep)': expected START:STOP:STEP (e.g. 32:512:1) or a list (e.g. 224,225)")
        if sweep.contains(Character(":")) {
            let parts = sweep.split(separator: ":").map { Int64($0) }
            guard parts.count == 3, let a = parts[0], let b = parts[1], let s = parts[2], a >= 1, b >= a, s >= 1,
                  (b - a) / s < 100_000 else { throw bad }
            return Array(stride(from: a, through: b, by: Int64.Stride(s)))
        }
        let list = sweep.split(separator: ",").map { Int64($0.trimmingSpaces) }
        guard !list.isEmpty, list.allSatisfy({ ($0 ?? 0) >= 1 }), list.count <= 100_000 else { throw bad }
        return list.compactMap { $0 }.sorted()
    }

    public func validate() throws {
        guard ModelFormat(path: model) != nil else {
            throw ValidationError("'\(model)' has no known extension (expected .onnx or .rnw)")
        }
        if let svg, !svg.lowercased().hasSuffix(".svg") { throw ValidationError("--svg '\(svg)': expected a file name ending .svg") }
        _ = try sweepSizes()
    }

    public func run() throws {
        var failed = false
        try ToolError.run(tool: "resnet-check shapes") {
            let loaded = try ModelFiles.load(model, verifyData: false)
            var options = CheckOptions()
            options.sweepSizes = try sweepSizes()
            let report = ShapeChecker.check(loaded.model, file: model, options: options)
            if let svg {
                // Written whatever the findings: a broken model is when the picture helps most.
                let out = try AtomicFileWriter(destination: svg, protectedInputs: [model])
                try out.write(Array(SVGRendering.svg(report).utf8))
                try out.commit()
            }
            switch format {
            case .json: print(try ReportRendering.json(report))
            case .github: print(ReportRendering.github(report), terminator: "")
            case .text:
                let color = ProcessInfoLite.isTerminal(fileDescriptor: 1) && ProcessInfoLite.environment("NO_COLOR") == nil
                print(ReportRendering.text(report, color: color), terminator: "")
            }
            failed = report.diagnostics.contains { $0.severity >= failOn }
        }
        if failed { throw ExitCode(ToolExit.modelWanting) }
    }
}

extension Severity: ExpressibleByArgument {}
