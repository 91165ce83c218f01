import ResNetIR
import ResNetShapes

/// The shape checker's whole answer for one model.
public struct CheckReport: Encodable, Sendable {
    public var file: String
    public var model: ModelInfo
    public var blocks: [ResidualBlock]
    public var stages: [StageSummary]
    public var summary: Totals
    public var diagnostics: [Diagnostic]
    public var sweep: SweepReport?
    /// How the model is quantized; nil for a float model.
    public var quantization: QuantizationSummary?
    /// The convs before the first residual block (for the picture; not in the JSON report).
    public var stemConvs: [ResidualBlock.ConvInfo] = []

    enum CodingKeys: String, CodingKey { case file, model, blocks, stages, summary, diagnostics, sweep, quantization }

    /// The highest severity among the diagnostics, if any.
    public var worst: Severity? { diagnostics.map(\.severity).max() }
}

public struct SweepReport: Encodable, Sendable {
    public let checked: Int
    public let failingSizes: Int
    /// Failing sizes grouped into runs, e.g. ["33..63 step 2", "225"].
    public let failingRanges: [String]

    enum CodingKeys: String, CodingKey { case checked, failingSizes = "failing_sizes", failingRanges = "failing_ranges" }
}

public struct CheckOptions: Sendable {
    /// Square input sizes (H = W) to check every residual join at.
    public var sweepSizes: [Int64] = []
    public init() {}
}

/// `resnet-check shapes`: validation, inference, residual analysis, summary, sweep.
public enum ShapeChecker {
    public static func check(_ model: Model, file: String, options: CheckOptions = CheckOptions()) -> CheckReport {
        let g = model.graph
        var diagnostics = structure(model)
        let opset = model.defaultOpsetVersion ?? 21
        let inference = ShapeInference(graph: g, opset: opset)
        inference.run()
        diagnostics += inference.findings.map(diagnostic)
        let analysis = ResidualAnalysis(graph: g, facts: inference.facts, index: inference.index)
        let (blocks, residual) = analysis.blocks()
        diagnostics = preferResidual(diagnostics, residual, joins: Set(blocks.map(\.join)))

        let summary = ModelSummary(graph: g, facts: inference.facts)
        let params = summary.paramsPerNode()
        let macs = (0..<g.nodes.count).map(summary.macs)
        let blockNodes = Set(blocks.flatMap(\.nodeIndices))
        let firstJoin = blocks.map(\.joinIndex).min() ?? g.nodes.count
        let convs = g.nodes.indices.filter { QuantizedOps.isConv(g.nodes[$0]) && !blockNodes.contains($0) }
        let stem = convs.filter { $0 < firstJoin }.count
        let head = g.nodes.indices.filter { ["Gemm", "MatMul"].contains(QuantizedOps.twin(g.nodes[$0])) && $0 > firstJoin && !blockNodes.contains($0) }.count
        let initializerNames = Set(g.initializers.map(\.name))
        let input = g.inputs.first { !initializerNames.contains($0.name) }
        let inputShape = input.flatMap { inference.facts[$0.name]?.shape }
        let outputShape = g.outputs.first.flatMap { inference.facts[$0.name]?.shape }
        let stemWidths = convs.filter { $0 < firstJoin }.compactMap { i -> Int64? in
            return QuantizedOps.weight(g.nodes[i]).flatMap { inference.facts[$0]?.shape?.first?.value }
        }
        let info = ModelClassification.classify(blocks, stemConvs: stem, headLayers: head, input: inputShape, output: outputShape,
                                                stemWidths: stemWidths)
        let stages = stageTable(g, blocks: blocks, params: params, macs: macs, facts: inference.facts)
        let totalMACs = Saturating.sum(macs)
        var totals = Totals(params: Saturating.sum(params.values), macs: totalMACs, gmacs: Double(totalMACs) / 1e9,
                            nodes: g.nodes.count, initializers: g.initializers.count)
        totals.incomplete = ModelSummary.unknownOperators(g, findings: inference.findings)
        if !blocks.isEmpty, let folded = summary.foldedBatchNorm(excluding: Set(blocks.flatMap(\.attentionNodes))) {
            totals.paramsWithBatchNorm = Saturating.sum([totals.params, folded.params])
            totals.foldedBatchNorms = folded.convs
        }
        let quantization = QuantizationAnalysis(graph: g, facts: inference.facts, index: inference.index)
        diagnostics += quantization.lints(blocks)
        var report = CheckReport(file: file, model: info, blocks: blocks, stages: stages, summary: totals,
                                 diagnostics: diagnostics, sweep: nil)
        report.quantization = quantization.summary(macs: macs)
        report.stemConvs = convs.filter { $0 < firstJoin }.map(analysis.convInfo)
        if !options.sweepSizes.isEmpty, let input {
            report.sweep = sweep(model, index: inference.index, input: input.name, baseShape: inference.facts[input.name]?.shape,
                                 sizes: options.sweepSizes, opset: opset, diagnostics: &report.diagnostics)
        }
        return report
    }

    /// A shape rule's finding as a diagnostic: RN010 for an operator the library
    /// does not know, RN011 for inputs or attributes that break its rules.
    static func diagnostic(_ f: ShapeFinding) -> Diagnostic {
        switch f.error.kind {
        case .unsupported: return Diagnostic(.unsupportedOp, node: f.location, f.error.message)
        case .invalid:
            if let fault = f.error.quantization {
                let code: DiagnosticCode
                switch fault {
                case .scaleType: code = .quantScaleType
                case .scaleShape: code = .quantScaleShape
                case .zeroPointType: code = .quantZeroPointType
                case .zeroPointShape: code = .quantZeroPointShape
                case .axis: code = .quantAxis
                }
                return Diagnostic(code, node: f.location, "\(f.opType) \(f.error.attribute ?? ""): \(f.error.message)",
                                  expected: f.error.expected, actual: f.error.actual)
            }
            let what = f.error.attribute.map { "\(f.opType) \($0): " } ?? "\(f.opType): "
            return Diagnostic(.shapeError, node: f.location, what + f.error.message, expected: f.error.expected, actual: f.error.actual)
        }
    }

    /// At a residual join, the residual analysis explains a failing Add better
    /// (both shapes, cause, fixes) than the generic broadcasting error: keep that one.
    static func preferResidual(_ general: [Diagnostic], _ residual: [Diagnostic], joins: Set<String>) -> [Diagnostic] {
        let explained = Set(residual.filter { $0.code == .residualMismatch }.map(\.node))
        return general.filter { !($0.code == .shapeError && explained.contains($0.node)) } + residual
    }

    /// Graph rules, opset imports and unused initializers.
    static func structure(_ model: Model) -> [Diagnostic] {
        var out: [Diagnostic] = GraphValidation.problems(model.graph).map { p in
            let code: DiagnosticCode
            switch p.kind {
            case .producedTwice: code = .producedTwice
            case .undefinedInput: code = .undefinedInput
            case .cycle: code = .cycle
            case .notTopologicallySorted: code = .notTopologicallySorted
            case .undefinedOutput: code = .undefinedOutput
            }
            return Diagnostic(code, node: p.location, p.message)
        }
        if let v = model.defaultOpsetVersion {
            if v < 7 || v > 21 {
                out.append(Diagnostic(.opsetImport, node: "model", "default opset \(v) is outside the 7-21 the checker knows",
                                      expected: "7...21", actual: String(v)))
            }
        } else {
            out.append(Diagnostic(.opsetImport, node: "model", "no import of the default ONNX opset", expected: "an opset_import with domain \"\"", actual: "none"))
        }
        var used: Set<String> = Set(model.graph.outputs.map(\.name))
        for n in model.graph.nodes { used.formUnion(n.inputs) }
        for t in model.graph.initializers where !used.contains(t.name) {
            out.append(Diagnostic(.unusedInitializer, node: t.name, "initializer '\(t.name)' is not read by any node"))
        }
        return out
    }

    static func stageTable(_ g: Graph, blocks: [ResidualBlock], params: [Int: Int], macs: [Int],
                           facts: [String: ValueFacts]) -> [StageSummary] {
        guard let firstJoin = blocks.map(\.joinIndex).min(), let lastJoin = blocks.map(\.joinIndex).max() else { return [] }
        let inBlocks = Set(blocks.flatMap(\.nodeIndices))
        func sum(_ nodes: [Int]) -> (Int, Int) { (Saturating.sum(nodes.map { params[$0] ?? 0 }), Saturating.sum(nodes.map { macs[$0] })) }
        var rows: [StageSummary] = []
        let stemNodes = g.nodes.indices.filter { $0 < firstJoin && !inBlocks.contains($0) }
        let (sp, sm) = sum(stemNodes)
        let stemOut = stemNodes.last.flatMap { g.nodes[$0].outputs.first.flatMap { facts[$0]?.shape } }
        rows.append(StageSummary(stage: "stem", blocks: 0, width: stemOut.map { $0.count > 1 ? $0[1].description : "?" } ?? "?",
                                 outputShape: stemOut, params: sp, macs: sm))
        for s in 1...(blocks.map(\.stage).max() ?? 1) {
            let members = blocks.filter { $0.stage == s }
            let (p, m) = sum(members.flatMap(\.nodeIndices))
            let out = members.last?.outputShape
            let width = out.flatMap { $0.count > 1 ? $0[1].description : nil } ?? "?"
            rows.append(StageSummary(stage: "stage \(s)", blocks: members.count, width: width, outputShape: out, params: p, macs: m))
        }
        let headNodes = g.nodes.indices.filter { $0 > lastJoin && !inBlocks.contains($0) }
        let (hp, hm) = sum(headNodes)
        rows.append(StageSummary(stage: "head", blocks: 0, width: "", outputShape: g.outputs.first.flatMap { facts[$0.name]?.shape },
                                 params: hp, macs: hm))
        return rows
    }

    /// Re-runs inference at each square input size and reports where joins break.
    static func sweep(_ model: Model, index: GraphIndex, input: String, baseShape: SShape?, sizes: [Int64], opset: Int64,
                      diagnostics: inout [Diagnostic]) -> SweepReport {
        guard let base = baseShape, base.count == 4 else {
            diagnostics.append(Diagnostic(.unknownShape, node: input, "--sweep needs a rank-4 image input [N, C, H, W]",
                                          expected: "[N, C, H, W]", actual: describe(baseShape)))
            return SweepReport(checked: 0, failingSizes: 0, failingRanges: [])
        }
        var failing: [(Int64, String)] = []
        for size in sizes {
            let inference = ShapeInference(graph: model.graph, opset: opset, index: index,
                                           inputShapes: [input: [base[0], base[1], .known(size), .known(size)]])
            inference.run()
            let (blocks, found) = ResidualAnalysis(graph: model.graph, facts: inference.facts, index: index).blocks()
            let all = preferResidual(inference.findings.map(diagnostic), found, joins: Set(blocks.map(\.join)))
            let broken = all.first { $0.severity == .error && $0.code != .shapeError }
                ?? all.first { $0.severity == .error }
            if let broken { failing.append((size, "\(broken.code) \(broken.node): \(broken.message)")) }
        }
        let ranges = group(failing.map(\.0), step: sizes.count > 1 ? sizes[1] - sizes[0] : 1)
        if let first = failing.first {
            diagnostics.append(Diagnostic(.resolutionBreaks, node: input,
                "the model breaks at \(failing.count) of \(sizes.count) input sizes: \(ranges.prefix(8).joined(separator: ", "))\(ranges.count > 8 ? ", ..." : ""); at \(first.0)x\(first.0): \(first.1)",
                expected: "every size in the sweep", actual: "\(failing.count) failing"))
        }
        return SweepReport(checked: sizes.count, failingSizes: failing.count, failingRanges: ranges)
    }

    /// Groups sorted sizes into runs: consecutive ones ("40..47"), or every other one ("33..63 step 2").
    static func group(_ sizes: [Int64], step: Int64) -> [String] {
        var out: [String] = []
        var i = 0
        while i < sizes.count {
            var j = i
            let d = i + 1 < sizes.count ? sizes[i + 1] - sizes[i] : step
            let runStep = (d == step || d == 2 * step) ? d : step
            while j + 1 < sizes.count && sizes[j + 1] - sizes[j] == runStep { j += 1 }
            if j == i { out.append(String(sizes[i])) }
            else { out.append("\(sizes[i])..\(sizes[j])" + (runStep == step ? "" : " step \(runStep)")) }
            i = j + 1
        }
        return out
    }
}
