import Foundation
import ResNetCheck
import ResNetShapes

/// The shape report as text, JSON or GitHub workflow annotations.
enum ReportRendering {
    static func json(_ r: CheckReport) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(r), as: UTF8.self)
    }

    /// `::error file=...,title=RN101::message` lines (GitHub Actions annotations).
    static func github(_ r: CheckReport) -> String {
        let escape = Annotation.escape, property = Annotation.property
        var out = ""
        for d in r.diagnostics {
            let level = d.severity == .error ? "error" : d.severity == .warning ? "warning" : "notice"
            var text = "\(d.node): \(d.message)"
            if let fixes = d.fixes { text += "\nfix: " + fixes.joined(separator: "\nor: ") }
            out += "::\(level) file=\(property(r.file)),title=\(property(d.code.rawValue + " " + d.node))::\(escape(text))\n"
        }
        let m = r.model
        out += "::notice file=\(property(r.file)),title=resnet-check shapes::\(m.family) (\(m.variant), shortcut option \(m.shortcutOption)), \(r.summary.params) params, \(r.summary.macs) MACs per sample\n"
        return out
    }

    static func text(_ r: CheckReport, color: Bool) -> String {
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        let m = r.model
        var out = "\(r.file): \(m.family == "custom" ? "custom ResNet, depth \(m.depth)" : m.family)"
        out += m.family == "none" ? " (no residual blocks found)\n" : " (\(m.variant), shortcut option \(m.shortcutOption), \(m.blockType) blocks \(m.stageBlocks))\n"
        out += "input \(describe(m.inputShape)) -> output \(describe(m.outputShape))\n"
        if !r.blocks.isEmpty {
            // The attention column only where some block has attention (SE, ECA, SK).
            let attention = r.blocks.contains { !$0.attention.isEmpty }
            out += "\n" + table(["block", "stage", "shortcut", "stride on", "input", "output", "act"] + (attention ? ["attention"] : []), r.blocks.map { b in
                [b.name, String(b.stage), b.shortcut.rawValue, b.strideOn.map { "\($0) [\(b.stridePosition ?? "")]" } ?? "-",
                 describe(b.inputShape), describe(b.outputShape), b.preActivation ? "pre" : "post"]
                    + (attention ? [b.attention.isEmpty ? "-" : b.attention.map(\.rawValue).joined(separator: "+")] : [])
            })
        }
        if !r.stages.isEmpty {
            out += "\n" + table(["stage", "blocks", "width", "output", "params", "MACs"], r.stages.map { s in
                [s.stage, s.blocks == 0 ? "" : String(s.blocks), s.width, describe(s.outputShape), grouped(s.params), grouped(s.macs)]
            }, rightAligned: [1, 4, 5])
        }
        let giga = r.summary.gmacs >= 0.001 ? " (\(ConvertSummary.format(r.summary.gmacs, 3)) GMACs)" : ""
        let atLeast = r.summary.incomplete == nil ? "" : "at least "
        out += "\ntotal: \(grouped(r.summary.params)) params, \(atLeast)\(grouped(r.summary.macs)) MACs\(giga) per sample\n"
        if let why = r.summary.incomplete { out += "incomplete: MACs are a lower bound; \(why)\n" }
        if let bn = r.summary.paramsWithBatchNorm, let convs = r.summary.foldedBatchNorms {
            out += "parameters: \(grouped(r.summary.params)) in the file; \(grouped(bn)) as torchvision counts them, BN folded into \(convs) convs\n"
        }
        if let q = r.quantization {
            let format = q.format == "qdq" ? "QDQ" : q.format == "qoperator" ? "QOperator" : "mixed QDQ and QOperator"
            let activations = q.activationTypes.isEmpty ? "" : ", activations \(q.activationTypes.joined(separator: "/"))"
            out += "quantization: \(format)\(activations), weights \(q.weightsPerChannel) per-channel and \(q.weightsPerTensor) per-tensor; "
                + "\(grouped(q.int8MACs)) of \(grouped(r.summary.macs)) MACs (\(ConvertSummary.format(q.int8Share * 100, 1))%) in int8\n"
        }
        if let s = r.sweep {
            out += "sweep: \(s.checked) sizes checked, \(s.failingSizes) failing" + (s.failingRanges.isEmpty ? "\n" : ": \(s.failingRanges.joined(separator: ", "))\n")
        }
        if r.diagnostics.isEmpty { return out + "\nno diagnostics\n" }
        out += "\n"
        for d in r.diagnostics {
            let tag = d.severity == .error ? paint("error", "31;1") : d.severity == .warning ? paint("warning", "33;1") : paint("info", "36")
            out += "\(tag) \(d.code) \(d.node): \(d.message)\n"
            if let e = d.expected, let a = d.actual { out += "    expected \(e), actual \(a)\n" }
            for (i, f) in (d.fixes ?? []).enumerated() { out += "    \(i == 0 ? "fix" : " or"): \(f)\n" }
        }
        let counts = Severity.allCases.reversed().map { s in "\(r.diagnostics.filter { $0.severity == s }.count) \(s.rawValue)" }
        return out + counts.joined(separator: ", ") + "\n"
    }

    /// 11689512 -> "11,689,512".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return rightAligned.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ").trailingSpacesRemoved + "\n"
        }
        return line(header) + line(widths.map { String(repeating: "-", count: $0) }) + rows.map(line).joined()
    }
}

/// GitHub workflow-command escaping, for every report that writes annotations.
enum Annotation {
    /// A message: %, CR and LF escaped.
    static func escape(_ s: String) -> String {
        s.replacing("%", with: "%25").replacing("\r", with: "%0D").replacing("\n", with: "%0A")
    }
    /// A property value (file=, title=): also : and , escaped.
    static func property(_ s: String) -> String { escape(s).replacing(":", with: "%3A").replacing(",", with: "%2C") }
}

extension String {
    /// Without trailing whitespace. (Stdlib only: Foundation's regular-expression
    /// replacingOccurrences links ICU into a static binary.)
    var trailingSpacesRemoved: String {
        var s = Substring(self)
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
