import ResNetCheck
import ResNetShapes

/// `resnet-check shapes MODEL --svg OUT.svg` (issue 12): the shape report as one
/// self-contained SVG: no scripts, no external fonts or links, only the generic
/// `monospace` family. The stem, then each stage's blocks as cards in a grid of
/// three: main-branch convs on the left (kernel, stride, output channels), the
/// shortcut on the right drawn by kind, the join with both operand shapes, a
/// broken join in red with its RN code and both shapes. Deterministic: the same
/// report gives the same bytes (golden files), positions are whole pixels.
enum SVGRendering {
    // Geometry, in px. A 12 px monospace glyph is at most 7.3 px wide (DejaVu Sans Mono: 7.22).
    static let margin = 20, columns = 3, cardWidth = 320, gap = 16, charWidth = 7.3
    static let convHeight = 22, convGap = 6
    static var pageWidth: Int { 2 * margin + columns * cardWidth + (columns - 1) * gap }

    /// Colours: main branch blue, projections green, parameter-free shortcuts grey
    /// (dashed), max-pool in the warning colour, broken joins red.
    enum Palette {
        static let text = "#1b1f24", muted = "#57606a", card = "#f6f8fa", cardStroke = "#8c959f"
        static let main = "#dbe9f6", mainStroke = "#2f6db5"
        static let projection = "#e1f0dc", projectionStroke = "#3f8a2e"
        static let free = "#eef0f2", freeStroke = "#6e7781"
        static let warning = "#fbe3c4", warningStroke = "#c96a00"
        static let error = "#cf222e", errorFill = "#ffebe9"
    }

    static func svg(_ r: CheckReport) -> String {
        var body = SVGCanvas()
        var y = header(r, into: &body)
        y = legend(at: y, into: &body)
        y = stem(r, at: y, into: &body)
        if r.blocks.isEmpty {
            body.text(margin, y + 18, "no residual blocks found", size: 13, fill: Palette.muted)
            y += 30
        }
        let stages = Array(Set(r.blocks.map(\.stage))).sorted()
        for stage in stages {
            let blocks = r.blocks.filter { $0.stage == stage }
            y = stageBand(r, stage: stage, count: blocks.count, at: y, into: &body)
            var index = 0
            while index < blocks.count {
                let row = Array(blocks[index..<min(blocks.count, index + columns)])
                // A block's findings: those at its join (RN101-RN107) or naming it.
                let findings = row.map { b in r.diagnostics.filter { $0.node == b.join || $0.node == b.name } }
                let height = zip(row, findings).map { BlockCard($0).height(diagnostics: $1) }.max() ?? 0
                for (i, b) in row.enumerated() {
                    BlockCard(b).draw(x: margin + i * (cardWidth + gap), y: y, height: height, diagnostics: findings[i], into: &body)
                }
                y += height + gap
                index += columns
            }
        }
        y = footer(r, at: y, into: &body)
        let height = y + margin
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(pageWidth)" height="\(height)" viewBox="0 0 \(pageWidth) \(height)" \
            font-family="monospace" font-size="12">
            <title>\(XML.escape(r.file)): \(XML.escape(familyLine(r.model)))</title>
            <rect x="0" y="0" width="\(pageWidth)" height="\(height)" fill="#ffffff"/>

            """ + body.elements.joined(separator: "\n") + "\n</svg>\n"
    }

    static func familyLine(_ m: ModelInfo) -> String {
        let name = m.family == "custom" ? "custom ResNet, depth \(m.depth)" : m.family
        if m.family == "none" { return "\(name) (no residual blocks found)" }
        return "\(name) (\(m.variant), shortcut option \(m.shortcutOption), \(m.blockType) blocks \(m.stageBlocks))"
    }

    /// File, family, variant, shortcut option, shapes and the diagnostics' count; returns the next y.
    static func header(_ r: CheckReport, into c: inout SVGCanvas) -> Int {
        let file = r.file.truncated(toWidth: pageWidth - 2 * margin, size: 16)
        c.text(margin, 30, file, size: 16, weight: "bold", title: file == r.file ? nil : r.file)
        c.text(margin, 50, familyLine(r.model), size: 13)
        let counts = Severity.allCases.reversed().map { s in "\(r.diagnostics.filter { $0.severity == s }.count) \(s.rawValue)" }
        c.text(margin, 68, "input \(describe(r.model.inputShape)) -> output \(describe(r.model.outputShape)); "
               + "\(ReportRendering.grouped(r.summary.params)) params; " + counts.joined(separator: ", "),
               size: 12, fill: r.diagnostics.contains { $0.severity == .error } ? Palette.error : Palette.muted)
        return 84
    }

    /// One row: what each mark means.
    static func legend(at y: Int, into c: inout SVGCanvas) -> Int {
        let items: [(String, String, String, Bool)] = [
            ("conv (main)", Palette.main, Palette.mainStroke, false), ("projection", Palette.projection, Palette.projectionStroke, false),
            ("pool / zeros", Palette.free, Palette.freeStroke, true), ("max-pool", Palette.warning, Palette.warningStroke, false),
            ("broken join", Palette.errorFill, Palette.error, false),
        ]
        c.rect(margin, y, pageWidth - 2 * margin, 30, fill: "#ffffff", stroke: Palette.cardStroke, radius: 4)
        var x = margin + 10
        c.line(x, y + 15, x + 24, y + 15, stroke: Palette.muted, width: 2)
        c.text(x + 30, y + 19, "identity", size: 11)
        x += 30 + textWidth("identity", size: 11) + 18
        for (label, fill, stroke, dashed) in items {
            c.rect(x, y + 8, 24, 14, fill: fill, stroke: stroke, radius: 3, dashed: dashed)
            c.text(x + 30, y + 19, label, size: 11)
            x += 30 + textWidth(label, size: 11) + 18
        }
        c.text(pageWidth - margin - 10, y + 19, "joins: main shape left, shortcut right", size: 11, fill: Palette.muted, anchor: "end")
        return y + 30 + gap
    }

    /// The convs before the first block, and the stem's output.
    static func stem(_ r: CheckReport, at y: Int, into c: inout SVGCanvas) -> Int {
        guard !r.stemConvs.isEmpty else { return y }
        let row = y + 8
        c.text(margin, row + 15, "stem", size: 13, weight: "bold")
        var x = margin + 50
        for conv in r.stemConvs {
            let label = BlockCard.label(conv)
            let w = textWidth(label) + 16
            if x + w + 40 > pageWidth - margin {
                c.text(x, row + 15, "… \(r.stemConvs.count) convs in all", fill: Palette.muted)
                return row + convHeight + gap
            }
            c.rect(x, row, w, convHeight, fill: Palette.main, stroke: Palette.mainStroke, radius: 3, title: conv.name)
            c.text(x + 8, row + 15, label)
            x += w + 10
        }
        if let out = r.stages.first(where: { $0.stage == "stem" })?.outputShape {
            c.text(x + 4, row + 15, "-> \(describe(out))", fill: Palette.muted)
        }
        return row + convHeight + gap
    }

    static func stageBand(_ r: CheckReport, stage: Int, count: Int, at y: Int, into c: inout SVGCanvas) -> Int {
        let summary = r.stages.first { $0.stage == "stage \(stage)" }
        var label = "stage \(stage): \(count) block\(count == 1 ? "" : "s")"
        if let s = summary { label += ", width \(s.width), output \(describe(s.outputShape))" }
        c.line(margin, y + 4, pageWidth - margin, y + 4, stroke: Palette.cardStroke, width: 1)
        c.text(margin, y + 22, label, size: 13, weight: "bold")
        return y + 32
    }

    static func footer(_ r: CheckReport, at y: Int, into c: inout SVGCanvas) -> Int {
        var y = y
        if let head = r.stages.first(where: { $0.stage == "head" }) {
            c.text(margin, y + 14, "head -> \(describe(head.outputShape))", size: 12, fill: Palette.muted)
            y += 20
        }
        let giga = ConvertSummary.format(r.summary.gmacs, 3)
        c.text(margin, y + 14, "total: \(ReportRendering.grouped(r.summary.params)) params, \(giga) GMACs per sample", size: 12, fill: Palette.muted)
        return y + 20
    }

    static func textWidth(_ s: String, size: Int = 12) -> Int {
        Int((Double(s.count) * charWidth * Double(size) / 12).rounded(.up))
    }
}

/// One residual block as a card: returns its height before drawing, so a row's
/// cards can share the tallest one's.
struct BlockCard {
    let block: ResidualBlock
    init(_ block: ResidualBlock) { self.block = block }

    typealias P = SVGRendering.Palette
    /// Rows: name 18, input shape 34, branches from 44; under the branches the join
    /// (+30), operand shapes (+48), output (+64), then one line for a diagnostic.
    static let columnTop = 44

    /// "3x3 s2 -> 128", with " g32" for grouped convs.
    static func label(_ c: ResidualBlock.ConvInfo) -> String {
        let kernel = c.kernel.map(String.init).joined(separator: "x")
        var s = kernel.isEmpty ? "conv" : kernel
        // "s2" when every axis strides alike, "s2x1" otherwise.
        if c.stride.contains(where: { $0 != 1 }) {
            s += " s" + (Set(c.stride).count == 1 ? String(c.stride[0]) : c.stride.map(String.init).joined(separator: "x"))
        }
        if let out = c.outChannels { s += " -> \(out)" }
        if c.group > 1 { s += " g\(c.group)" }
        return s
    }

    /// The shortcut column's boxes: (label, fill, stroke, dashed, title).
    var shortcutBoxes: [(String, String, String, Bool, String?)] {
        let convs = block.shortcutConvs.map { (Self.label($0), P.projection, P.projectionStroke, false, Optional($0.name)) }
        switch block.shortcut {
        case .identity: return []
        case .projection: return convs
        case .resnetD: return [("avgpool 2x2 s2", P.free, P.freeStroke, true, nil)] + convs
        case .optionAPad: return [("stride + pad 0", P.free, P.freeStroke, true, nil)]
        case .optionAConcat: return [("stride + cat 0", P.free, P.freeStroke, true, nil)]
        case .avgPool: return [("avgpool", P.free, P.freeStroke, true, nil)] + convs
        case .maxPool: return [("max-pool", P.warning, P.warningStroke, false, nil)] + convs
        case .other: return [("other", P.free, P.freeStroke, true, nil)] + convs
        }
    }

    var branchesBottom: Int {
        let rows = max(block.mainConvs.count + (block.attention.isEmpty ? 0 : 1), shortcutBoxes.count, 1)
        return Self.columnTop + rows * (SVGRendering.convHeight + SVGRendering.convGap) - SVGRendering.convGap
    }

    /// Whether both operand shapes fit one line under the join (long symbolic dims may not).
    var operandsShareLine: Bool {
        SVGRendering.textWidth(describe(block.mainShape), size: 11) + SVGRendering.textWidth(describe(block.shortcutShape), size: 11) + 16
            <= SVGRendering.cardWidth - 20
    }

    /// The card's height: one more line when the operand shapes need two, and when a diagnostic names the block.
    func height(diagnostics: [Diagnostic]) -> Int {
        branchesBottom + 74 + (operandsShareLine ? 0 : 16) + (diagnostics.contains { $0.severity >= .warning } ? 18 : 0)
    }

    func draw(x: Int, y: Int, height: Int, diagnostics: [Diagnostic], into c: inout SVGCanvas) {
        let width = SVGRendering.cardWidth, convH = SVGRendering.convHeight, step = convH + SVGRendering.convGap
        let broken = diagnostics.first { $0.severity == .error }
        let warned = diagnostics.first { $0.severity == .warning }
        c.rect(x, y, width, height, fill: broken == nil ? P.card : P.errorFill, stroke: broken == nil ? P.cardStroke : P.error,
               radius: 6, strokeWidth: broken == nil ? 1 : 2)
        // A long name is cut with an ellipsis; the whole name is its tooltip.
        let name = block.name.truncated(toWidth: width - 20 - (block.preActivation ? 110 : 0), size: 13)
        c.text(x + 10, y + 18, name, size: 13, weight: "bold", title: name == block.name ? nil : block.name)
        if block.preActivation { c.text(x + width - 10, y + 18, "pre-activation", size: 11, fill: P.muted, anchor: "end") }
        c.text(x + 10, y + 34, "in \(describe(block.inputShape))", size: 11, fill: P.muted)

        let mainX = x + 10, mainW = 176, shortX = x + 200, shortW = 110
        let joinX = x + 160, joinY = y + branchesBottom + 30
        let lineColour = broken == nil ? P.muted : P.error
        // Main branch, top to bottom, then down and across into the join.
        var by = y + Self.columnTop
        for conv in block.mainConvs {
            c.rect(mainX, by, mainW, convH, fill: P.main, stroke: P.mainStroke, radius: 3, title: conv.name)
            c.text(mainX + 8, by + 15, Self.label(conv))
            by += step
        }
        if !block.attention.isEmpty {
            let label = block.attention.map { $0.rawValue.uppercased() }.joined(separator: "+") + " attention"
            c.rect(mainX, by, mainW, convH, fill: "#ffffff", stroke: P.mainStroke, radius: 11, dashed: true)
            c.text(mainX + 8, by + 15, label)
            by += step
        }
        let mainCentre = mainX + mainW / 2
        c.line(mainCentre, by - SVGRendering.convGap, mainCentre, joinY, stroke: lineColour, width: 1.5)
        c.line(mainCentre, joinY, joinX - 9, joinY, stroke: lineColour, width: 1.5)
        // Shortcut, drawn by kind: one line from the block's input for identity, boxes otherwise.
        let shortCentre = shortX + shortW / 2
        var sy = y + Self.columnTop
        let boxes = shortcutBoxes
        if boxes.isEmpty {
            c.text(shortCentre + 6, sy + 14, "identity", size: 11, fill: P.muted)
            sy -= 4
        } else {
            for (label, fill, stroke, dashed, title) in boxes {
                c.rect(shortX, sy, shortW, convH, fill: fill, stroke: stroke, radius: 3, dashed: dashed, title: title)
                c.text(shortX + 6, sy + 15, label, size: 11)
                sy += step
            }
            sy -= SVGRendering.convGap
        }
        let shortColour = broken != nil ? P.error : block.shortcut == .maxPool ? P.warningStroke : P.muted
        c.line(shortCentre, sy, shortCentre, joinY, stroke: shortColour, width: boxes.isEmpty ? 2 : 1.5)
        c.line(shortCentre, joinY, joinX + 9, joinY, stroke: shortColour, width: 1.5)
        c.circle(joinX, joinY, 9, fill: broken == nil ? "#ffffff" : P.error, stroke: broken == nil ? P.text : P.error)
        c.text(joinX, joinY + 4, "+", size: 13, weight: "bold", fill: broken == nil ? P.text : "#ffffff", anchor: "middle")
        // The join's operands under their branches (main left, shortcut right), then its output.
        c.text(x + 10, joinY + 18, describe(block.mainShape), size: 11, fill: broken == nil ? P.muted : P.error)
        let below = operandsShareLine ? 0 : 16
        c.text(x + width - 10, joinY + 18 + below, describe(block.shortcutShape), size: 11, fill: broken == nil ? P.muted : P.error, anchor: "end")
        c.text(joinX, joinY + 34 + below, "out \(describe(block.outputShape))", size: 11, fill: P.muted, anchor: "middle")
        // A broken join's code and both shapes (the full message as its tooltip), else the first warning.
        if let d = broken {
            let detail = d.expected.flatMap { e in d.actual.map { "\(e) vs \($0)" } } ?? d.message
            c.text(x + 10, joinY + 54 + below, "\(d.code.rawValue) \(detail)".truncated(toWidth: width - 20, size: 11), size: 11, weight: "bold",
                   fill: P.error, title: d.message)
        } else if let w = warned {
            c.text(x + 10, joinY + 54 + below, "\(w.code.rawValue) \(w.message)".truncated(toWidth: width - 20, size: 11), size: 11,
                   fill: P.warningStroke, title: w.message)
        }
    }
}

extension String {
    /// Cut with an ellipsis to fit `width` px of monospace text at `size`.
    func truncated(toWidth width: Int, size: Int) -> String {
        let fits = Int(Double(width) / (SVGRendering.charWidth * Double(size) / 12))
        return count <= fits ? self : String(prefix(max(0, fits - 1))) + "…"
    }
}
