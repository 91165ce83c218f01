/// The few SVG elements the picture uses, each attribute escaped: whatever a model
/// names its nodes, the file stays well-formed XML and nothing in it is markup.
struct SVGCanvas {
    private(set) var elements: [String] = []

    mutating func text(_ x: Int, _ y: Int, _ s: String, size: Int = 12, weight: String? = nil, fill: String = SVGRendering.Palette.text,
                       anchor: String? = nil, title: String? = nil) {
        var attributes = "x=\"\(x)\" y=\"\(y)\""
        if size != 12 { attributes += " font-size=\"\(size)\"" }
        if let weight { attributes += " font-weight=\"\(weight)\"" }
        if fill != SVGRendering.Palette.text { attributes += " fill=\"\(fill)\"" }
        if let anchor { attributes += " text-anchor=\"\(anchor)\"" }
        // Keep runs of spaces (shapes and tables are aligned with them).
        attributes += " xml:space=\"preserve\""
        elements.append("<text \(attributes)>\(Self.titled(title))\(XML.escape(s))</text>")
    }

    mutating func rect(_ x: Int, _ y: Int, _ w: Int, _ h: Int, fill: String, stroke: String, radius: Int = 0, strokeWidth: Double = 1,
                       dashed: Bool = false, title: String? = nil) {
        var attributes = "x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\" fill=\"\(fill)\" stroke=\"\(stroke)\""
        if radius > 0 { attributes += " rx=\"\(radius)\"" }
        if strokeWidth != 1 { attributes += " stroke-width=\"\(Self.number(strokeWidth))\"" }
        if dashed { attributes += " stroke-dasharray=\"4 3\"" }
        if let title { elements.append("<rect \(attributes)>\(Self.titled(title))</rect>") } else { elements.append("<rect \(attributes)/>") }
    }

    mutating func line(_ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int, stroke: String, width: Double) {
        elements.append("<line x1=\"\(x1)\" y1=\"\(y1)\" x2=\"\(x2)\" y2=\"\(y2)\" stroke=\"\(stroke)\" stroke-width=\"\(Self.number(width))\"/>")
    }

    mutating func circle(_ x: Int, _ y: Int, _ r: Int, fill: String, stroke: String) {
        elements.append("<circle cx=\"\(x)\" cy=\"\(y)\" r=\"\(r)\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"1.5\"/>")
    }

    /// A hover tooltip (the full node name or message): SVG's own <title>, no script.
    private static func titled(_ title: String?) -> String { title.map { "<title>\(XML.escape($0))</title>" } ?? "" }

    /// 1.5 -> "1.5", 2.0 -> "2" (Swift prints the shortest round-tripping digits everywhere).
    private static func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}

/// XML text and attribute escaping. Characters XML 1.0 cannot carry at all (most
/// C0 controls, lone surrogates cannot occur in a Swift String) become U+FFFD.
enum XML {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
