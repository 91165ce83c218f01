import ResNetIR
// Strict RFC 8259 JSON for the .rnw header (schemas/rnw.md, "Header JSON is
// strict"). Foundation's parsers cannot be made strict enough: JSONDecoder
// keeps the first of two duplicate keys where Python keeps the last (two
// readers, two models from one file), and they accept trailing commas, a BOM,
// UTF-16/32, NaN and comments depending on the platform. This parser is
// hand-written over the header bytes:
//
// - bounds-checked: every read goes through `peek`/`at`, never past the end;
// - not recursive: containers live on an explicit stack bounded by the header
//   depth limit (64), so a hostile header cannot exhaust the call stack;
// - exact: numbers are kept as their literal text and converted by the
//   decoder for the type the schema wants (integers must be integer literals
//   within the type's range, never a float approximation);
// - one typed RNWError per rule, naming the header byte offset or JSON path
//   and what was expected versus found.

/// A parsed JSON value with the header byte offset where it starts.
struct JSONNode {
    var offset: Int
    var value: JSONValue
}

enum JSONValue {
    case null
    case bool(Bool)
    /// The literal as written; it matches RFC 8259's number grammar.
    case number(String)
    /// `hasNUL`: the text contains U+0000 (written as the escape \u0000).
    case string(String, hasNUL: Bool)
    case array([JSONNode])
    case object(JSONObject)

    var kindName: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(n): return "the number \(n)"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// An object's members in file order, with a lookup by exact key: a linear
/// scan while the object is small (the header's objects have at most a dozen
/// keys, and a hash table for each would triple the memory a hostile header of
/// many small objects costs), a hash table past `indexThreshold` members.
struct JSONObject {
    static let indexThreshold = 16
    private(set) var members: [(key: String, value: JSONNode)] = []
    private var index: [ExactKey: Int]?

    /// Position of `key` among the members, compared by code points.
    func position(of key: String) -> Int? {
        if let index { return index[ExactKey(key)] }
        return members.firstIndex { $0.key.utf8.elementsEqual(key.utf8) }
    }

    func member(_ key: String) -> JSONNode? { position(of: key).map { members[$0].value } }

    /// Appends a member whose key is not yet present (the parser checks).
    mutating func append(_ key: String, _ value: JSONNode) {
        members.append((key, value))
        if index != nil {
            index?[ExactKey(key)] = members.count - 1
        } else if members.count > Self.indexThreshold {
            var built: [ExactKey: Int] = [:]
            for (k, m) in members.enumerated() { built[ExactKey(m.key)] = k }
            index = built
        }
    }
}

/// A key compared by its code points (its UTF-8 bytes), as Python compares
/// dict keys. Swift's `String ==` uses canonical equivalence, under which
/// "\u212A" (KELVIN SIGN) equals "K": two keys Python keeps apart.
struct ExactKey: Hashable {
    let text: String
    init(_ text: String) { self.text = text }
    static func == (a: ExactKey, b: ExactKey) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }
    func hash(into hasher: inout Hasher) {
        var t = text
        t.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// A JSON path such as `model.graph.nodes[3].op_type` ("" for the top level).
enum JSONPath {
    static func member(_ parent: String, _ key: String) -> String {
        let plain = !key.isEmpty && key.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D
        }
        if plain { return parent.isEmpty ? key : parent + "." + key }
        return parent + "[" + RNWText.quoted(key) + "]"
    }

    static func element(_ parent: String, _ index: Int) -> String { parent + "[\(index)]" }

    static func of(_ codingPath: [CodingKey]) -> String {
        var out = ""
        for k in codingPath {
            if let i = k.intValue { out = element(out, i) } else { out = member(out, k.stringValue) }
        }
        return out
    }
}

enum StrictJSON {
    // MARK: Encoding

    /// Refuses anything but UTF-8 without a BOM: byte order marks, UTF-16/32
    /// (recognised by the NUL bytes an ASCII first character leaves, as
    /// RFC 4627 §3 describes), and every ill-formed UTF-8 sequence of the
    /// Unicode standard's Table 3-7: stray continuation bytes, truncated
    /// sequences, overlong encodings, UTF-16 surrogates, code points past
    /// U+10FFFF, and the bytes C0, C1, F5...FF that never occur.
    static func checkEncoding(_ b: UnsafeRawBufferPointer) throws {
        let n = b.count
        func starts(_ prefix: [UInt8]) -> Bool { n >= prefix.count && b.prefix(prefix.count).elementsEqual(prefix) }
        // Longest first: UTF-32LE's BOM begins with UTF-16LE's.
        for (bom, name) in [([0x00, 0x00, 0xFE, 0xFF], "UTF-32BE"), ([0xFF, 0xFE, 0x00, 0x00], "UTF-32LE"),
                            ([0xEF, 0xBB, 0xBF], "UTF-8"), ([0xFE, 0xFF], "UTF-16BE"), ([0xFF, 0xFE], "UTF-16LE")] as [([UInt8], String)]
        where starts(bom) {
            throw RNWError.headerByteOrderMark(encoding: name, found: bom)
        }
        if n >= 4, b[0] == 0, b[1] == 0, b[2] == 0, b[3] != 0 { throw RNWError.headerNotUTF8(encoding: "UTF-32BE") }
        if n >= 4, b[0] != 0, b[1] == 0, b[2] == 0, b[3] == 0 { throw RNWError.headerNotUTF8(encoding: "UTF-32LE") }
        if n >= 2, b[0] == 0, b[1] != 0 { throw RNWError.headerNotUTF8(encoding: "UTF-16BE") }
        if n >= 2, b[0] != 0, b[1] == 0 { throw RNWError.headerNotUTF8(encoding: "UTF-16LE") }

        guard let p = UTF8Validation.firstProblem(b) else { return }
        let reason: String
        switch p.kind {
        case .strayContinuation: reason = "continuation byte without a lead byte"
        case .overlongASCII: reason = "overlong encoding (of an ASCII character)"
        case .invalidByte: reason = "byte \(RNWText.hexByte(p.lead)) never occurs in UTF-8 (it would encode past U+10FFFF)"
        case .truncated: reason = "sequence cut short by the end of the header"
        case .secondNotContinuation: reason = "lead byte not followed by a continuation byte"
        case .overlong: reason = "overlong encoding (a shorter sequence encodes this code point)"
        case .surrogate: reason = "UTF-16 surrogate (U+D800...U+DFFF) encoded in UTF-8"
        case .pastMax: reason = "code point past U+10FFFF"
        case .laterNotContinuation: reason = "lead byte not followed by enough continuation bytes"
        }
        throw RNWError.headerInvalidUTF8(offset: p.offset, bytes: Array(b[p.offset..<min(n, p.offset + p.length)]), reason: reason)
    }

    // MARK: Parsing

    /// Parses `bytes` (the whole header) as exactly one JSON value. Offsets in
    /// errors are within the header, except `headerTooDeep`'s, which is a file
    /// offset (`fileOffset` + header offset) as the reader has always reported.
    static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int, fileOffset: Int) throws -> JSONNode {
        try checkEncoding(bytes)
        var p = Parser(b: bytes, maxDepth: maxDepth, fileOffset: fileOffset)
        return try p.run()
    }

    private struct Frame {
        let isObject: Bool
        let start: Int
        var items: [JSONNode] = []
        var object = JSONObject()
        var pendingKey: String?
    }

    private struct Parser {
        let b: UnsafeRawBufferPointer
        let maxDepth: Int
        let fileOffset: Int
        var i = 0
        var stack: [Frame] = []

        init(b: UnsafeRawBufferPointer, maxDepth: Int, fileOffset: Int) {
            self.b = b
            self.maxDepth = maxDepth
            self.fileOffset = fileOffset
        }

        func peek(_ k: Int = 0) -> UInt8? { i + k < b.count ? b[i + k] : nil }

        mutating func skipWhitespace() {
            while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
        }

        // MARK: Paths and errors

        /// Path of the value being read at stack depth `depth` (all frames' current children).
        func path(frames depth: Int) -> String {
            var out = ""
            for f in stack.prefix(depth) {
                if f.isObject {
                    guard let k = f.pendingKey else { break }
                    out = JSONPath.member(out, k)
                } else {
                    out = JSONPath.element(out, f.items.count)
                }
            }
            return out
        }
        var valuePath: String { path(frames: stack.count) }
        var containerPath: String { path(frames: stack.count - 1) }

        /// The error for an unexpected byte (or the end) where `expected` was due:
        /// a comment or a single quote get their own errors, anything else is a
        /// syntax error naming the byte offset, the path, expected and found.
        func unexpected(_ expected: String) -> RNWError {
            guard let c = peek() else {
                return .headerInvalid(path: valuePath, reason: "\(RNWText.at(i)): expected \(expected), found the end of the header")
            }
            if c == 0x2F, let d = peek(1), d == 0x2F || d == 0x2A { return .headerComment(offset: i) }
            if c == 0x27 { return .headerSingleQuote(offset: i) }
            return .headerInvalid(path: valuePath, reason: "\(RNWText.at(i)): expected \(expected), found \(RNWText.describeByte(c))")
        }

        // MARK: Driver

        enum State { case value, afterValue }

        mutating func run() throws -> JSONNode {
            var state = State.value
            skipWhitespace()
            while true {
                switch state {
                case .value:
                    // A scalar or an empty container is finished at once; an
                    // opened container stays in .value for its first member.
                    if let node = try value() {
                        if let top = try attach(node) { return top }
                        state = .afterValue
                    }
                case .afterValue:
                    skipWhitespace()
                    guard let top = stack.last else { throw unexpected("the end of the header") }
                    let close: UInt8 = top.isObject ? 0x7D : 0x5D
                    if peek() == 0x2C {
                        let comma = i
                        i += 1
                        skipWhitespace()
                        if peek() == close { throw RNWError.headerTrailingComma(offset: comma, path: containerPath) }
                        if top.isObject { try key() }
                        state = .value
                    } else if peek() == close {
                        i += 1
                        let frame = stack.removeLast()
                        let node = frame.isObject ? JSONNode(offset: frame.start, value: .object(frame.object))
                                                  : JSONNode(offset: frame.start, value: .array(frame.items))
                        if let top = try attach(node) { return top }
                    } else {
                        throw unexpected(top.isObject ? "',' or '}'" : "',' or ']'")
                    }
                }
            }
        }

        /// Adds a finished value to its container. Returns the value when it is
        /// the top-level one, which must be followed by whitespace only.
        mutating func attach(_ node: JSONNode) throws -> JSONNode? {
            guard !stack.isEmpty else {
                skipWhitespace()
                if let c = peek() {
                    if c == 0x2F, let d = peek(1), d == 0x2F || d == 0x2A { throw RNWError.headerComment(offset: i) }
                    throw RNWError.headerTrailingData(offset: i, found: RNWText.describeByte(c))
                }
                return node
            }
            let top = stack.count - 1
            if stack[top].isObject {
                stack[top].object.append(stack[top].pendingKey ?? "", node)
                stack[top].pendingKey = nil
            } else {
                stack[top].items.append(node)
            }
            return nil
        }

        /// Reads a value. Scalars are returned; `[` and `{` push a frame and
        /// return nil, or return the empty container when it closes at once.
        mutating func value() throws -> JSONNode? {
            skipWhitespace()
            let start = i
            guard let c = peek() else { throw unexpected("a value") }
            switch c {
            case 0x7B, 0x5B:  // { [
                guard stack.count < maxDepth else {
                    throw RNWError.headerTooDeep(offset: fileOffset + i, maximum: maxDepth)
                }
                let isObject = c == 0x7B
                i += 1
                skipWhitespace()
                if peek() == (isObject ? 0x7D : 0x5D) {
                    i += 1
                    return JSONNode(offset: start, value: isObject ? .object(JSONObject()) : .array([]))
                }
                stack.append(Frame(isObject: isObject, start: start))
                if isObject {
                    if peek() == 0x2C { throw unexpected("a key or '}'") }
                    try key()
                } else if peek() == 0x2C {
                    throw unexpected("a value or ']'")
                }
                return nil
            case 0x22:
                let (s, nul) = try string()
                return JSONNode(offset: start, value: .string(s, hasNUL: nul))
            case 0x2D, 0x30...0x39:
                return JSONNode(offset: start, value: .number(try number()))
            case 0x2B:  // +
                throw RNWError.headerLeadingPlus(offset: start, found: RNWText.token(b, from: start))
            case 0x74: try literal("true"); return JSONNode(offset: start, value: .bool(true))
            case 0x66: try literal("false"); return JSONNode(offset: start, value: .bool(false))
            case 0x6E: try literal("null"); return JSONNode(offset: start, value: .null)
            case 0x4E where matches("NaN"), 0x49 where matches("Infinity"):
                throw RNWError.headerNonFiniteNumber(offset: start, found: RNWText.token(b, from: start))
            default:
                throw unexpected("a value")
            }
        }

        func matches(_ word: String, at offset: Int? = nil) -> Bool {
            let from = offset ?? i
            let w = Array(word.utf8)
            return from + w.count <= b.count && b[from..<(from + w.count)].elementsEqual(w)
        }

        mutating func literal(_ word: String) throws {
            guard matches(word) else {
                throw RNWError.headerInvalid(path: valuePath, reason: "\(RNWText.at(i)): expected \(word), found '\(RNWText.token(b, from: i))'")
            }
            i += word.utf8.count
        }

        /// Reads `"key"` then `:` for the object on top of the stack, refusing a
        /// key the object already has.
        mutating func key() throws {
            skipWhitespace()
            let start = i
            guard peek() == 0x22 else { throw unexpected("a key (a string in double quotes)") }
            let (k, _) = try string()
            let top = stack.count - 1
            if let first = stack[top].object.position(of: k) {
                let firstOffset = stack[top].object.members[first].value.offset
                throw RNWError.headerDuplicateKey(path: JSONPath.member(path(frames: top), k), key: k,
                                                  offset: start, firstValueOffset: firstOffset)
            }
            stack[top].pendingKey = k
            skipWhitespace()
            guard peek() == 0x3A else { throw unexpected("':' after the key") }
            i += 1
            skipWhitespace()
        }

        /// A string from its opening quote; returns the text and whether it holds U+0000.
        mutating func string() throws -> (String, Bool) {
            let open = i
            i += 1
            var out: [UInt8] = []
            var hasNUL = false
            var runStart = i
            while true {
                guard let c = peek() else {
                    throw RNWError.headerInvalid(path: valuePath, reason: "\(RNWText.at(open)): string not closed before the end of the header")
                }
                if c == 0x22 {
                    let text: String
                    if out.isEmpty {
                        text = String(decoding: UnsafeRawBufferPointer(rebasing: b[runStart..<i]), as: UTF8.self)
                    } else {
                        out.append(contentsOf: b[runStart..<i])
                        text = String(decoding: out, as: UTF8.self)
                    }
                    i += 1
                    return (text, hasNUL)
                }
                if c < 0x20 { throw RNWError.headerControlCharacter(offset: i, byte: c) }
                if c != 0x5C { i += 1; continue }
                // An escape.
                out.append(contentsOf: b[runStart..<i])
                let escape = i
                guard let e = peek(1) else { throw RNWError.headerBadEscape(offset: escape, found: "\\", reason: "the header ends inside an escape") }
                i += 2
                switch e {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x2F: out.append(0x2F)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75:
                    let u = try hex4(escape)
                    var scalar: UInt32
                    if u >= 0xD800 && u <= 0xDBFF {
                        guard peek() == 0x5C, peek(1) == 0x75 else {
                            throw RNWError.headerBadEscape(offset: escape, found: RNWText.token(b, from: escape, max: 6),
                                                          reason: "a high surrogate not followed by a \\u low surrogate")
                        }
                        let second = i
                        i += 2
                        let low = try hex4(second)
                        guard low >= 0xDC00 && low <= 0xDFFF else {
                            throw RNWError.headerBadEscape(offset: second, found: RNWText.token(b, from: second, max: 6),
                                                          reason: "expected a low surrogate (\\uDC00...\\uDFFF) after a high one")
                        }
                        scalar = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
                    } else if u >= 0xDC00 && u <= 0xDFFF {
                        throw RNWError.headerBadEscape(offset: escape, found: RNWText.token(b, from: escape, max: 6),
                                                      reason: "a low surrogate without a high one before it")
                    } else {
                        scalar = u
                    }
                    if scalar == 0 { hasNUL = true }
                    guard let us = Unicode.Scalar(scalar) else {  // not reached: surrogates were handled above
                        throw RNWError.headerBadEscape(offset: escape, found: RNWText.token(b, from: escape, max: 6), reason: "not a Unicode scalar")
                    }
                    UTF8.encode(us) { out.append($0) }
                default:
                    throw RNWError.headerBadEscape(offset: escape, found: RNWText.token(b, from: escape, max: 2),
                                                  reason: "expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")
                }
                runStart = i
            }
        }

        /// Four hex digits after `\u` (the escape starts at `escape`).
        mutating func hex4(_ escape: Int) throws -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let c = peek(), let d = RNWText.hexValue(c) else {
                    throw RNWError.headerBadEscape(offset: escape, found: RNWText.token(b, from: escape, max: 6),
                                                  reason: "expected four hex digits after \\u")
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            return v
        }

        /// A number, by RFC 8259's grammar: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
        mutating func number() throws -> String {
            let start = i
            func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
            func malformed(_ expected: String) -> RNWError {
                .headerInvalid(path: valuePath, reason: "\(RNWText.at(i)): malformed number '\(RNWText.token(b, from: start))': expected \(expected)")
            }
            if peek() == 0x2D {
                if matches("-Infinity", at: start) || matches("-NaN", at: start) {
                    throw RNWError.headerNonFiniteNumber(offset: start, found: RNWText.token(b, from: start))
                }
                i += 1
            }
            if peek() == 0x30 {
                i += 1
                if isDigit(peek()) { throw RNWError.headerLeadingZero(offset: start, found: RNWText.token(b, from: start)) }
            } else if isDigit(peek()) {
                while isDigit(peek()) { i += 1 }
            } else {
                throw malformed("a digit")
            }
            if peek() == 0x2E {
                i += 1
                guard isDigit(peek()) else { throw malformed("a digit after '.'") }
                while isDigit(peek()) { i += 1 }
            }
            if peek() == 0x65 || peek() == 0x45 {
                i += 1
                if peek() == 0x2B || peek() == 0x2D { i += 1 }
                guard isDigit(peek()) else { throw malformed("a digit in the exponent") }
                while isDigit(peek()) { i += 1 }
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        }
    }

    // MARK: Numbers

    enum IntegerLiteral { case value(Int64), notInteger, outOfRange }

    /// An integer literal as Int64: no fraction, no exponent, within Int64
    /// (checked digit by digit, so 9223372036854775808 is out of range rather
    /// than rounded). `-0` is 0.
    static func int64(_ literal: String) -> IntegerLiteral {
        var negative = false
        var v: Int64 = 0
        for (k, c) in literal.utf8.enumerated() {
            if k == 0 && c == 0x2D { negative = true; continue }
            guard c >= 0x30 && c <= 0x39 else { return .notInteger }
            let d = Int64(c - 0x30)
            // Accumulate negatively: Int64.min has no positive counterpart.
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.subtractingReportingOverflow(d)
            if o1 || o2 { return .outOfRange }
            v = s
        }
        if negative { return .value(v) }
        let (p, o) = Int64(0).subtractingReportingOverflow(v)
        return o ? .outOfRange : .value(p)
    }
}
