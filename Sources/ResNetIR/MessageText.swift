/// Text for error messages built from what a file says: names may hold
/// anything, and shapes and key lists may be as long as the file is. Shared
/// by the format readers and the state-dict binding, so every message escapes
/// and caps the same way.
public enum MessageText {
    /// Dims printed before a shape is cut short.
    public static let shapeLimit = 8
    /// Items printed before a list is cut short.
    public static let listLimit = 20

    /// `s` with `quote`, backslashes, control characters (C0, DEL, C1) and
    /// invisible format or separator characters (general category Cf, Zl, Zp:
    /// zero-width spaces, bidi overrides, line separators) escaped, so a hostile
    /// name can neither forge nor hide text on a terminal, nor pass for another
    /// name: `conv1.weight\u{200b}` is not shown as `conv1.weight`.
    public static func escaped(_ s: String, quote: Unicode.Scalar) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case quote: out += "\\"; out.unicodeScalars.append(u)
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if isHidden(u) {
                    out += "\\u{" + String(u.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    /// Control characters and the invisible format and separator characters.
    static func isHidden(_ u: Unicode.Scalar) -> Bool {
        if u.value < 0x20 || (0x7F..<0xA0).contains(u.value) { return true }
        switch u.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    /// `[1, 2, 3]`; past `limit` dims, the first `limit` then `… (N dims)`.
    public static func shape(_ dims: [Int64], limit: Int = shapeLimit) -> String {
        var parts = dims.prefix(limit).map(String.init)
        if dims.count > limit { parts.append("… (\(dims.count) dims)") }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    /// The items joined by `separator`; past `limit` items, the first `limit`
    /// then `… and N more`.
    public static func list(_ items: [String], separator: String = ", ", limit: Int = listLimit) -> String {
        var parts = Array(items.prefix(limit))
        if items.count > limit { parts.append("… and \(items.count - limit) more") }
        return parts.joined(separator: separator)
    }
}
