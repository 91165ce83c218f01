import ResNetIR

/// One tensor entry of a safetensors header, checked for its own consistency
/// (known dtype, dims >= 0, offsets a pair of integers, dtype x shape = bytes);
/// how the entries tile the data section is SafetensorsReader's business.
struct HeaderEntry {
    let name: String
    let dtype: SafetensorsDType
    let shape: [Int64]
    /// Offsets relative to the start of the data section, as the format stores them.
    let begin: Int
    let end: Int
}

struct ParsedHeader {
    var metadata: [StringPair] = []
    var entries: [HeaderEntry] = []
}

/// A strict parser for exactly the JSON a safetensors header may hold:
/// `{"__metadata__": {string: string} or null, NAME: {"dtype": s, "shape": [int],
/// "data_offsets": [int, int]}, ...}` followed by optional JSON whitespace.
///
/// Schema-directed rather than a general JSON tree: every value is checked
/// against what its place allows as it is read, so a hostile header costs no
/// more memory than the entries it describes, and there is no recursion (the
/// schema nests three levels, which bounds the depth: a `{` or `[` where the
/// schema wants a scalar or a known field is refused on its first byte, as
/// wrongJSONType or unknownField, however deep it would go). RFC 8259
/// throughout: UTF-8 only, no trailing commas, comments, leading zeros or raw
/// control characters in strings; and beyond it, no duplicate keys at any level, compared by their bytes, because
/// readers disagree on which of two equal keys wins.
struct SafetensorsHeaderParser {
    /// Sound to keep: a parser exists only inside `parse`, which is called with
    /// a buffer valid for the whole call (SafetensorsReader passes the header's
    /// bytes from inside the file's withUnsafeBytes), and neither the parser nor
    /// the pointer escapes it: the ParsedHeader returned holds copies (Strings,
    /// integers). Its subscript is unchecked in -O builds, so every read is guarded
    /// by an index test first (`peek`, `i < b.count`, slices ending at `i`).
    private let b: UnsafeRawBufferPointer
    /// File offset of the header's first byte, for messages.
    private let base: Int
    private var i = 0

    static func parse(_ bytes: UnsafeRawBufferPointer, fileOffset: Int) throws -> ParsedHeader {
        try SafetensorsUTF8.check(bytes, fileOffset: fileOffset)
        var p = SafetensorsHeaderParser(b: bytes, base: fileOffset)
        return try p.header()
    }

    private init(b: UnsafeRawBufferPointer, base: Int) {
        self.b = b
        self.base = base
    }

    // MARK: Structure

    private mutating func header() throws -> ParsedHeader {
        guard b.first == UInt8(ascii: "{") else {
            throw SafetensorsError.headerNotObject(found: b.first.map(SafetensorsText.describe(byte:)) ?? "an empty header")
        }
        var out = ParsedHeader()
        var seen = Set<[UInt8]>()
        try members(in: "the header") { p, key, keyBytes, keyOffset in
            guard seen.insert(keyBytes).inserted else {
                throw SafetensorsError.duplicateKey(key: key, within: "the header", offset: keyOffset)
            }
            if keyBytes.elementsEqual("__metadata__".utf8) {
                out.metadata = try p.metadata()
            } else {
                out.entries.append(try p.entry(name: key))
            }
        }
        // Writers pad the header with spaces (for alignment), and the reference reader
        // (serde_json) accepts any JSON whitespace after the object; nothing else may follow.
        skipWhitespace()
        if i < b.count { throw SafetensorsError.headerTrailingData(offset: base + i, byte: b[i]) }
        return out
    }

    /// Reads `{ "key": value, ... }`, calling `member` with the cursor on each value.
    private mutating func members(in what: String,
                                  _ member: (inout SafetensorsHeaderParser, String, [UInt8], Int) throws -> Void) throws {
        try expect(UInt8(ascii: "{"), "'{' opening \(what)")
        skipWhitespace()
        if peek == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipWhitespace()
            let keyOffset = base + i
            guard peek == UInt8(ascii: "\"") else { throw syntax("a string key in \(what)") }
            let keyBytes = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after a key")
            skipWhitespace()
            try member(&self, String(decoding: keyBytes, as: UTF8.self), keyBytes, keyOffset)
            skipWhitespace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}' in \(what)")
            return
        }
    }

    private mutating func metadata() throws -> [StringPair] {
        // The reference's metadata is an Option: `null` says there is none.
        if b[i...].starts(with: "null".utf8) {
            i += 4
            return []
        }
        guard peek == UInt8(ascii: "{") else { throw wrongType("__metadata__", "an object of strings or null") }
        var pairs: [StringPair] = []
        var seen = Set<[UInt8]>()
        try members(in: "__metadata__") { p, key, keyBytes, keyOffset in
            guard seen.insert(keyBytes).inserted else {
                throw SafetensorsError.duplicateKey(key: key, within: "__metadata__", offset: keyOffset)
            }
            guard p.peek == UInt8(ascii: "\"") else {
                throw p.wrongType("__metadata__[\(SafetensorsText.quoted(key))]", "a string")
            }
            pairs.append(StringPair(key, String(decoding: try p.string(), as: UTF8.self)))
        }
        return pairs
    }

    private mutating func entry(name: String) throws -> HeaderEntry {
        let path = SafetensorsText.quoted(name)
        guard peek == UInt8(ascii: "{") else { throw wrongType(path, "an object with dtype, shape and data_offsets") }
        var dtype: SafetensorsDType?, shape: [Int64]?, offsets: [Int]?
        var seen = Set<[UInt8]>()
        try members(in: "tensor \(path)") { p, field, fieldBytes, fieldOffset in
            guard seen.insert(fieldBytes).inserted else {
                throw SafetensorsError.duplicateKey(key: field, within: "tensor \(path)", offset: fieldOffset)
            }
            if fieldBytes.elementsEqual("dtype".utf8) {
                guard p.peek == UInt8(ascii: "\"") else { throw p.wrongType("\(path).dtype", "a string") }
                let text = String(decoding: try p.string(), as: UTF8.self)
                guard let d = SafetensorsDType(exactly: text) else { throw SafetensorsError.unknownDType(tensor: name, dtype: text) }
                dtype = d
            } else if fieldBytes.elementsEqual("shape".utf8) {
                shape = try p.integers(path: "\(path).shape").enumerated().map { k, literal in
                    switch IntegerLiteral(literal) {
                    case let .value(v): return v
                    case let .invalid(reason): throw SafetensorsError.badDimension(tensor: name, index: k, literal: literal, reason: reason)
                    }
                }
            } else if fieldBytes.elementsEqual("data_offsets".utf8) {
                offsets = try p.integers(path: "\(path).data_offsets").map { literal in
                    // Int(exactly:): an offset must also be usable as a byte index here.
                    switch IntegerLiteral(literal) {
                    case let .value(v):
                        guard let o = Int(exactly: v) else { throw SafetensorsError.badOffset(tensor: name, literal: literal, reason: "past this machine's address range") }
                        return o
                    case let .invalid(reason): throw SafetensorsError.badOffset(tensor: name, literal: literal, reason: reason)
                    }
                }
            } else {
                throw SafetensorsError.unknownField(tensor: name, field: field)
            }
        }
        guard let dtype else { throw SafetensorsError.missingField(tensor: name, field: "dtype") }
        guard let shape else { throw SafetensorsError.missingField(tensor: name, field: "shape") }
        guard let offsets else { throw SafetensorsError.missingField(tensor: name, field: "data_offsets") }
        guard offsets.count == 2 else { throw SafetensorsError.offsetsNotAPair(tensor: name, count: offsets.count) }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else { throw SafetensorsError.offsetsReversed(tensor: name, begin: begin, end: end) }
        guard let elements = ResNetIR.elementCount(shape), let bytes = dtype.byteCount(elements: elements) else {
            throw SafetensorsText.sizeError(tensor: name, dtype: dtype, shape: shape)
        }
        guard bytes == end - begin else {
            throw SafetensorsError.byteCountMismatch(tensor: name, dtype: dtype.rawValue, shape: shape,
                                                     expected: bytes, actual: end - begin)
        }
        return HeaderEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// `[number, ...]` as the numbers' literal text (classified by the caller).
    private mutating func integers(path: String) throws -> [String] {
        guard peek == UInt8(ascii: "[") else { throw wrongType(path, "an array of integers") }
        i += 1
        var out: [String] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") { i += 1; return out }
        while true {
            skipWhitespace()
            guard let c = peek, c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) else {
                throw wrongType("\(path)[\(out.count)]", "an integer")
            }
            out.append(try number())
            skipWhitespace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']' in \(path)")
            return out
        }
    }

    // MARK: Tokens

    private var peek: UInt8? { i < b.count ? b[i] : nil }

    private mutating func skipWhitespace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
    }

    private mutating func expect(_ c: UInt8, _ what: String) throws {
        guard peek == c else { throw syntax(what) }
        i += 1
    }

    private func found(at k: Int) -> String {
        k < b.count ? SafetensorsText.describe(byte: b[k]) : "the end of the header"
    }

    private func syntax(_ expected: String) -> SafetensorsError {
        .headerSyntax(offset: base + i, expected: expected, found: found(at: i))
    }

    private func wrongType(_ path: String, _ expected: String) -> SafetensorsError {
        let kind: String
        switch peek {
        case UInt8(ascii: "{"): kind = "an object"
        case UInt8(ascii: "["): kind = "an array"
        case UInt8(ascii: "\""): kind = "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): kind = "a boolean"
        case UInt8(ascii: "n"): kind = "null"
        case let c? where c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39): kind = "a number"
        default: kind = found(at: i)
        }
        return .wrongJSONType(path: path, expected: expected, found: kind, offset: base + i)
    }

    /// A string's decoded bytes (the header is already known to be valid UTF-8;
    /// escapes are checked here, including \u surrogate pairs).
    private mutating func string() throws -> [UInt8] {
        try expect(UInt8(ascii: "\""), "'\"'")
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw syntax("'\"' closing a string") }
            if c == UInt8(ascii: "\"") { i += 1; return out }
            if c < 0x20 { throw syntax("a character in a string (control characters must be escaped)") }
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            i += 1
            guard let e = peek else { throw syntax("an escape after '\\'") }
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard peek == UInt8(ascii: "\\"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "u") else {
                        throw syntax("a \\u low surrogate after a high one")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw syntax("a \\u low surrogate (DC00-DFFF)") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw syntax("a \\u escape that is not a lone low surrogate")
                }
                // Not nil: surrogates were handled above and the value is <= 0x10FFFF.
                guard let u = Unicode.Scalar(scalar) else { throw syntax("a Unicode scalar value") }
                out.append(contentsOf: Array(String(u).utf8))
            default:
                i -= 1
                throw syntax("one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u after '\\'")
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let c = peek else { throw syntax("4 hex digits after \\u") }
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw syntax("4 hex digits after \\u")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// An RFC 8259 number's literal text: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func number() throws -> String {
        let start = i
        func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        if peek == UInt8(ascii: "-") { i += 1 }
        guard isDigit(peek) else { throw syntax("a digit") }
        if peek == 0x30 {
            i += 1
            if isDigit(peek) { throw syntax("no leading zero (JSON numbers have none)") }
        } else {
            while isDigit(peek) { i += 1 }
        }
        if peek == UInt8(ascii: ".") {
            i += 1
            guard isDigit(peek) else { throw syntax("a digit after '.'") }
            while isDigit(peek) { i += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            guard isDigit(peek) else { throw syntax("a digit in the exponent") }
            while isDigit(peek) { i += 1 }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
    }
}

/// A JSON number literal read as a non-negative Int64, exactly: `1.0` and
/// `1e3` are not integers here (a float approximation could silently differ).
enum IntegerLiteral {
    case value(Int64)
    case invalid(reason: String)

    init(_ literal: String) {
        if literal.utf8.first == UInt8(ascii: "-") { self = .invalid(reason: "negative"); return }
        guard literal.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            self = .invalid(reason: "not an integer (fraction or exponent)")
            return
        }
        var v: Int64 = 0
        for c in literal.utf8 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(c - 0x30))
            guard !o1, !o2 else { self = .invalid(reason: "past 2^63 - 1"); return }
            v = s
        }
        self = .value(v)
    }
}
