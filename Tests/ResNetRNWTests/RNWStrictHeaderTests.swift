import Foundation
import Testing
import ResNetIR
@testable import ResNetRNW

/// The header JSON is strict RFC 8259 (schemas/rnw.md, "Header JSON is
/// strict"): one case per rule, each ending in its own named error, then
/// what stays allowed, then a sweep of every single-byte change of a real
/// header. The cases run on the parsing layer, `RNWHeaderJSON.decode`, over
/// the header bytes of a file the writer made.
struct RNWStrictHeaderTests {
    struct EditFailed: Error { let what: String }

    /// The header bytes of `rnwBytes(model)`.
    static func header(_ model: Model = tinyModel()) throws -> [UInt8] {
        let b = try rnwBytes(model)
        let h = Int(Patch.readLE(UInt64.self, b, at: 16))
        return Array(b[64..<(64 + h)])
    }

    static func decode(_ bytes: [UInt8]) throws -> HeaderDTO {
        try bytes.withUnsafeBytes { try RNWHeaderJSON.decode($0) }
    }

    /// Replaces the first `old` in the header text by `new` (bytes), failing if absent.
    static func sub(_ old: String, _ new: [UInt8]) -> @Sendable ([UInt8]) throws -> [UInt8] {
        { h in
            let o = Array(old.utf8)
            guard let at = (0...(h.count - o.count)).first(where: { h[$0..<($0 + o.count)].elementsEqual(o) }) else {
                throw EditFailed(what: "'\(old)' not in the header")
            }
            var out = h
            out.replaceSubrange(at..<(at + o.count), with: new)
            return out
        }
    }
    static func sub(_ old: String, _ new: String) -> @Sendable ([UInt8]) throws -> [UInt8] { sub(old, Array(new.utf8)) }

    /// Offset of the first `text` in the header.
    static func offset(of text: String, in h: [UInt8]) -> Int {
        let t = Array(text.utf8)
        return (0...(h.count - t.count)).first { h[$0..<($0 + t.count)].elementsEqual(t) } ?? -1
    }

    static func utf16(_ h: [UInt8], bigEndian: Bool) -> [UInt8] {
        String(decoding: h, as: UTF8.self).utf16.flatMap { u in bigEndian ? [UInt8(u >> 8), UInt8(u & 0xFF)] : [UInt8(u & 0xFF), UInt8(u >> 8)] }
    }
    static func utf32(_ h: [UInt8], bigEndian: Bool) -> [UInt8] {
        String(decoding: h, as: UTF8.self).unicodeScalars.flatMap { s -> [UInt8] in
            let le = (0..<4).map { UInt8(truncatingIfNeeded: s.value >> (8 * $0)) }
            return bigEndian ? le.reversed() : le
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let expected: String
        let edit: @Sendable ([UInt8]) throws -> [UInt8]
        /// Checks the error's where and expected-vs-actual (given the unedited header).
        var check: @Sendable (RNWError, [UInt8]) -> Bool = { _, _ in true }
        var testDescription: String { name }
    }

    // The tiny model's header has, among others: "alpha" float attribute
    // 0.10000000149011612, "ir_version":8, tensors[0] = conv.weight with
    // "crc32", "dims":[2,1,1,1], "length":8, "offset":N, an input shape
    // ["N",1,2,2], and "initializers":[0,1,2,3].
    static let cases: [Case] = [
        // UTF-8 only.
        Case(name: "UTF-8 byte order mark", expected: "headerByteOrderMark", edit: { [0xEF, 0xBB, 0xBF] + $0 },
             check: { e, _ in e == .headerByteOrderMark(encoding: "UTF-8", found: [0xEF, 0xBB, 0xBF]) }),
        Case(name: "UTF-16LE with its BOM", expected: "headerByteOrderMark", edit: { [0xFF, 0xFE] + utf16($0, bigEndian: false) },
             check: { e, _ in e == .headerByteOrderMark(encoding: "UTF-16LE", found: [0xFF, 0xFE]) }),
        Case(name: "UTF-16BE with its BOM", expected: "headerByteOrderMark", edit: { [0xFE, 0xFF] + utf16($0, bigEndian: true) }),
        Case(name: "UTF-32LE with its BOM", expected: "headerByteOrderMark", edit: { [0xFF, 0xFE, 0, 0] + utf32($0, bigEndian: false) },
             check: { e, _ in e == .headerByteOrderMark(encoding: "UTF-32LE", found: [0xFF, 0xFE, 0, 0]) }),
        Case(name: "UTF-16LE without a BOM", expected: "headerNotUTF8", edit: { utf16($0, bigEndian: false) },
             check: { e, _ in e == .headerNotUTF8(encoding: "UTF-16LE") }),
        Case(name: "UTF-16BE without a BOM", expected: "headerNotUTF8", edit: { utf16($0, bigEndian: true) },
             check: { e, _ in e == .headerNotUTF8(encoding: "UTF-16BE") }),
        Case(name: "UTF-32BE without a BOM", expected: "headerNotUTF8", edit: { utf32($0, bigEndian: true) },
             check: { e, _ in e == .headerNotUTF8(encoding: "UTF-32BE") }),
        Case(name: "byte FF in a string", expected: "headerInvalidUTF8", edit: sub("\"tiny\"", [0x22, 0x74, 0xFF, 0x22]),
             check: { e, h in
                 guard case let .headerInvalidUTF8(offset, bytes, _) = e else { return false }
                 return offset == Self.offset(of: "\"tiny\"", in: h) + 2 && bytes == [0xFF]
             }),
        Case(name: "continuation byte without a lead", expected: "headerInvalidUTF8", edit: sub("tiny", [0x74, 0x80, 0x79])),
        Case(name: "sequence cut short", expected: "headerInvalidUTF8", edit: sub("tiny", [0x74, 0xE2, 0x82, 0x79])),
        Case(name: "overlong '/' (C0 AF)", expected: "headerInvalidUTF8", edit: sub("tiny", [0x74, 0xC0, 0xAF]),
             check: { e, _ in if case let .headerInvalidUTF8(_, b, r) = e { return b == [0xC0, 0xAF] && r.contains("overlong") }; return false }),
        Case(name: "overlong 3-byte (E0 80 AF)", expected: "headerInvalidUTF8", edit: sub("tiny", [0x74, 0xE0, 0x80, 0xAF]),
             check: { e, _ in if case let .headerInvalidUTF8(_, _, r) = e { return r.contains("overlong") }; return false }),
        Case(name: "overlong 4-byte (F0 80 80 AF)", expected: "headerInvalidUTF8", edit: sub("tiny", [0x74, 0xF0, 0x80, 0x80, 0xAF]),
             check: { e, _ in if case let .headerInvalidUTF8(_, _, r) = e { return r.contains("overlong") }; return false }),
        Case(name: "surrogate U+D800 in UTF-8 (ED A0 80)", expected: "headerInvalidUTF8", edit: sub("tiny", [0x74, 0xED, 0xA0, 0x80]),
             check: { e, _ in if case let .headerInvalidUTF8(_, b, r) = e { return b == [0xED, 0xA0, 0x80] && r.contains("surrogate") }; return false }),
        Case(name: "past U+10FFFF (F4 90 80 80)", expected: "headerInvalidUTF8", edit: sub("tiny", [0x74, 0xF4, 0x90, 0x80, 0x80]),
             check: { e, _ in if case let .headerInvalidUTF8(_, _, r) = e { return r.contains("10FFFF") }; return false }),
        Case(name: "byte F5", expected: "headerInvalidUTF8", edit: sub("tiny", [0x74, 0xF5, 0x80, 0x80, 0x80])),

        // Strings: no raw control characters, no NUL, valid escapes.
        Case(name: "raw NUL in a string", expected: "headerControlCharacter", edit: sub("tiny", [0x74, 0x00, 0x79]),
             check: { e, h in e == .headerControlCharacter(offset: Self.offset(of: "tiny", in: h) + 1, byte: 0) }),
        Case(name: "raw tab in a string", expected: "headerControlCharacter", edit: sub("tiny", "t\ty")),
        Case(name: "raw newline in a string", expected: "headerControlCharacter", edit: sub("tiny", "t\ny")),
        Case(name: "escaped NUL in a tensor name", expected: "headerNUL",
             edit: sub("\"name\":\"conv.weight\"", "\"name\":\"conv\\u0000weight\""),
             check: { e, _ in if case let .headerNUL(path, _) = e { return path == "tensors[0].name" }; return false }),
        Case(name: "lone high surrogate escape", expected: "headerBadEscape", edit: sub("tiny", "\\ud800y")),
        Case(name: "lone low surrogate escape", expected: "headerBadEscape", edit: sub("tiny", "\\udc00y")),
        Case(name: "high surrogate then a non-surrogate", expected: "headerBadEscape", edit: sub("tiny", "\\ud800\\u0041")),
        Case(name: "unknown escape \\x", expected: "headerBadEscape", edit: sub("tiny", "\\x41")),
        Case(name: "short \\u escape", expected: "headerBadEscape", edit: sub("tiny", "\\u12\"")),

        // Syntax leniencies.
        Case(name: "trailing comma in an array", expected: "headerTrailingComma", edit: sub("[0,1,2,3]", "[0,1,2,3,]"),
             check: { e, h in e == .headerTrailingComma(offset: Self.offset(of: "[0,1,2,3]", in: h) + 8, path: "model.graph.initializers") }),
        Case(name: "trailing comma in an object", expected: "headerTrailingComma", edit: sub("\"version\":\"0.1.0\"}", "\"version\":\"0.1.0\",}"),
             check: { e, _ in if case let .headerTrailingComma(_, path) = e { return path == "producer" }; return false }),
        Case(name: "trailing comma, whitespace before the bracket", expected: "headerTrailingComma", edit: sub("[0,1,2,3]", "[0,1,2,3 , \n]")),
        Case(name: "line comment", expected: "headerComment", edit: sub("\"ir_version\"", "// v\n\"ir_version\""),
             check: { e, h in e == .headerComment(offset: Self.offset(of: "\"ir_version\"", in: h)) }),
        Case(name: "block comment", expected: "headerComment", edit: sub("[0,1,2,3]", "[0,1,/* two */2,3]")),
        Case(name: "comment after the value", expected: "headerComment", edit: { $0 + Array("// end".utf8) }),
        Case(name: "single-quoted string", expected: "headerSingleQuote", edit: sub("\"tiny\"", "'tiny'")),
        Case(name: "single-quoted key", expected: "headerSingleQuote", edit: sub("\"ir_version\"", "'ir_version'")),
        Case(name: "NaN", expected: "headerNonFiniteNumber", edit: sub("0.10000000149011612", "NaN"),
             check: { e, h in e == .headerNonFiniteNumber(offset: Self.offset(of: "0.10000000149011612", in: h), found: "NaN") }),
        Case(name: "Infinity", expected: "headerNonFiniteNumber", edit: sub("0.10000000149011612", "Infinity")),
        Case(name: "-Infinity", expected: "headerNonFiniteNumber", edit: sub("0.10000000149011612", "-Infinity")),
        Case(name: "leading zero", expected: "headerLeadingZero", edit: sub("\"ir_version\":8", "\"ir_version\":08"),
             check: { e, h in e == .headerLeadingZero(offset: Self.offset(of: "\"ir_version\":8", in: h) + 13, found: "08") }),
        Case(name: "negative with a leading zero", expected: "headerLeadingZero", edit: sub("\"ir_version\":8", "\"ir_version\":-08")),
        Case(name: "leading zero in a float", expected: "headerLeadingZero", edit: sub("0.10000000149011612", "00.1")),
        Case(name: "leading '+'", expected: "headerLeadingPlus", edit: sub("\"ir_version\":8", "\"ir_version\":+8"),
             check: { e, _ in if case let .headerLeadingPlus(_, found) = e { return found == "+8" }; return false }),
        Case(name: "a second top-level value", expected: "headerTrailingData", edit: { $0 + Array(" {}".utf8) },
             check: { e, h in e == .headerTrailingData(offset: h.count + 1, found: "'{'") }),
        Case(name: "garbage after the value", expected: "headerTrailingData", edit: { $0 + Array("x".utf8) }),
        Case(name: "NUL padding after the value", expected: "headerTrailingData", edit: { $0 + [0, 0, 0, 0] }),

        // Duplicate keys, in any object.
        Case(name: "duplicate top-level key", expected: "headerDuplicateKey",
             edit: sub("\"producer\":", "\"producer\":{\"name\":\"evil\",\"version\":\"1\"},\"producer\":"),
             check: { e, h in
                 guard case let .headerDuplicateKey(path, key, offset, first) = e else { return false }
                 return path == "producer" && key == "producer" && first == Self.offset(of: "\"producer\":", in: h) + 11
                     && offset == first + 30
             }),
        Case(name: "duplicate key in a tensor entry", expected: "headerDuplicateKey",
             edit: sub("\"dtype\":\"FLOAT\"", "\"dtype\":\"FLOAT\",\"dtype\":\"INT64\""),
             check: { e, _ in if case let .headerDuplicateKey(path, key, _, _) = e { return path == "tensors[0].dtype" && key == "dtype" }; return false }),
        Case(name: "duplicate key deep in the graph", expected: "headerDuplicateKey",
             edit: sub("\"op_type\":\"Conv\"", "\"op_type\":\"Conv\",\"op_type\":\"Relu\""),
             check: { e, _ in if case let .headerDuplicateKey(path, _, _, _) = e { return path == "model.graph.nodes[0].op_type" }; return false }),
        Case(name: "duplicate key spelled with an escape", expected: "headerDuplicateKey",
             edit: sub("\"dtype\":\"FLOAT\"", "\"dtype\":\"FLOAT\",\"\\u0064type\":\"INT64\"")),
        Case(name: "duplicate unknown key", expected: "headerDuplicateKey", edit: sub("{\"model\":", "{\"x\":1,\"x\":2,\"model\":"),
             check: { e, _ in if case let .headerDuplicateKey(path, _, _, _) = e { return path == "x" }; return false }),

        // Numbers exact: integer fields take integer literals within range.
        Case(name: "offset written 1.0-style", expected: "headerNotInteger", edit: { h in
            let o = Self.offsetValue(h)
            return try sub("\"offset\":\(o)", "\"offset\":\(o).0")(h)
        }, check: { e, _ in if case let .headerNotInteger(path, _) = e { return path == "tensors[0].offset" }; return false }),
        Case(name: "length with an exponent (8e0)", expected: "headerNotInteger", edit: sub("\"length\":8", "\"length\":8e0")),
        Case(name: "dim 2.0", expected: "headerNotInteger", edit: sub("\"dims\":[2,1,1,1]", "\"dims\":[2.0,1,1,1]"),
             check: { e, _ in e == .headerNotInteger(path: "tensors[0].dims[0]", found: "2.0") }),
        Case(name: "shape dim 1.5 (neither integer nor symbol)", expected: "headerNotInteger", edit: sub("[\"N\",1,2,2]", "[\"N\",1.5,2,2]")),
        Case(name: "ir_version 2^63", expected: "headerNumberOutOfRange",
             edit: sub("\"ir_version\":8", "\"ir_version\":9223372036854775808"),
             check: { e, _ in if case let .headerNumberOutOfRange(path, found, _) = e { return path == "model.ir_version" && found == "9223372036854775808" }; return false }),
        Case(name: "ir_version below Int64.min", expected: "headerNumberOutOfRange",
             edit: sub("\"ir_version\":8", "\"ir_version\":-9223372036854775809")),
        Case(name: "negative offset", expected: "headerNumberOutOfRange", edit: { h in try sub("\"offset\":\(Self.offsetValue(h))", "\"offset\":-64")(h) },
             check: { e, _ in e == .headerNumberOutOfRange(path: "tensors[0].offset", found: "-64", expected: "an integer in 0...\(Int.max)") }),
        Case(name: "negative length", expected: "headerNumberOutOfRange", edit: sub("\"length\":8", "\"length\":-8")),
        Case(name: "elem_type past Int32", expected: "headerNumberOutOfRange", edit: sub("\"elem_type\":1", "\"elem_type\":4294967297")),
        Case(name: "float attribute past float32", expected: "headerNumberOutOfRange", edit: sub("0.10000000149011612", "1e39")),
        Case(name: "float attribute past float64", expected: "headerNumberOutOfRange", edit: sub("0.10000000149011612", "1e400")),

        // CRC strings in the one form.
        Case(name: "CRC in upper case", expected: "headerCRCNotCanonical", edit: { h in try Self.crc(h) { $0.uppercased() } },
             check: { e, _ in if case let .headerCRCNotCanonical(path, _) = e { return path == "tensors[0].crc32" }; return false }),
        Case(name: "CRC with 0x", expected: "headerCRCNotCanonical", edit: { h in try Self.crc(h) { "0x" + $0 } }),
        Case(name: "CRC with 7 digits", expected: "headerCRCNotCanonical", edit: { h in try Self.crc(h) { String($0.dropFirst()) } }),
        Case(name: "CRC not hex at all", expected: "headerInvalid", edit: { h in try Self.crc(h) { _ in "zzzzzzzz" } }),

        // Depth.
        Case(name: "65 levels", expected: "headerTooDeep",
             edit: sub("{\"model\":", "{\"deep\":" + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + ",\"model\":"),
             check: { e, _ in e == .headerTooDeep(offset: 64 + 8 + 63, maximum: 64) }),
        Case(name: "65 levels of objects", expected: "headerTooDeep",
             edit: sub("{\"model\":", "{\"deep\":" + String(repeating: "{\"a\":", count: 64) + "0" + String(repeating: "}", count: 64) + ",\"model\":")),

        // Everything else stays headerInvalid, with the offset in the reason.
        Case(name: "unquoted key", expected: "headerInvalid", edit: sub("\"ir_version\"", "ir_version"),
             check: { e, _ in if case let .headerInvalid(path, reason) = e { return path == "model" && reason.contains("header byte") }; return false }),
        Case(name: "missing colon", expected: "headerInvalid", edit: sub("\"ir_version\":8", "\"ir_version\" 8")),
        Case(name: "unterminated string", expected: "headerInvalid", edit: { h in Array(h[..<(Self.offset(of: "tiny", in: h) + 4)]) },
             check: { e, _ in if case let .headerInvalid(_, reason) = e { return reason.contains("not closed") }; return false }),
        Case(name: "whitespace only", expected: "headerInvalid", edit: { _ in Array("  ".utf8) }),
        Case(name: "top level is an array", expected: "headerInvalid", edit: { _ in Array("[]".utf8) }),
        Case(name: "form feed as whitespace", expected: "headerInvalid", edit: sub("{\"model\":", "{\u{0C}\"model\":")),
        Case(name: "required key missing", expected: "headerInvalid", edit: sub("\"dtype\":\"FLOAT\",", "")),
        Case(name: "wrong type (string for an integer)", expected: "headerInvalid", edit: sub("\"ir_version\":8", "\"ir_version\":\"8\""),
             check: { e, _ in if case let .headerInvalid(path, _) = e { return path == "model.ir_version" }; return false }),
    ]

    /// tensors[0].offset as written.
    static func offsetValue(_ h: [UInt8]) -> Int {
        (try? decode(h))?.tensors.first?.offset ?? -1
    }

    /// Rewrites tensors[0].crc32.
    static func crc(_ h: [UInt8], _ f: (String) -> String) throws -> [UInt8] {
        guard let c = (try? decode(h))?.tensors.first?.crc32 else { throw EditFailed(what: "no crc32") }
        return try sub("\"crc32\":\"\(c)\"", "\"crc32\":\"\(f(c))\"")(h)
    }

    @Test(arguments: cases)
    func refusedWithItsOwnError(_ c: Case) throws {
        let original = try Self.header()
        let edited = try c.edit(original)
        #expect(edited != original, "\(c.name): the edit changed nothing")
        do {
            _ = try Self.decode(edited)
            Issue.record("\(c.name): accepted, expected \(c.expected)")
        } catch let e as RNWError {
            #expect(errorName(e) == c.expected, "\(c.name): \(e)")
            #expect(c.check(e, original), "\(c.name): wrong where/what: \(e)")
            #expect(!e.description.isEmpty)
        }
    }

    /// Every rule has its own error: the table's expected names, less the
    /// generic `headerInvalid`, are distinct per rule and all used.
    @Test func everyRuleHasItsOwnError() {
        let names = Set(Self.cases.map(\.expected))
        #expect(names == ["headerByteOrderMark", "headerNotUTF8", "headerInvalidUTF8", "headerControlCharacter", "headerNUL",
                          "headerBadEscape", "headerTrailingComma", "headerComment", "headerSingleQuote", "headerNonFiniteNumber",
                          "headerLeadingZero", "headerLeadingPlus", "headerTrailingData", "headerDuplicateKey", "headerNotInteger",
                          "headerNumberOutOfRange", "headerCRCNotCanonical", "headerTooDeep", "headerInvalid"])
    }

    // MARK: What stays allowed

    @Test func writerHeadersParseAsFoundationParsesThem() throws {
        for model in [tinyModel(), Self.edgeModel()] {
            let h = try Self.header(model)
            let strict = try Self.decode(h)
            let lenient = try JSONDecoder().decode(HeaderDTO.self, from: Data(h))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            #expect(try encoder.encode(strict) == encoder.encode(lenient))
            #expect(Array(try encoder.encode(strict)) == h, "decode then encode gives the header's bytes back")
        }
    }

    /// Floats at their edges, NUL and non-UTF-8 bytes in string attributes,
    /// symbols and unknown dims: all written by the writer, all read back.
    static func edgeModel() -> Model {
        var m = tinyModel()
        let floats: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.0, .nan, .infinity,
                               -.infinity, 1e-45, 3.4028235e38, 16_777_217]
        m.graph.nodes[0].attributes += [
            Attribute(name: "edge_floats", value: .floats(floats)),
            Attribute(name: "nul_text", value: .string([0x61, 0x00, 0x62])),
            Attribute(name: "raw_bytes", value: .string([0xFF, 0xFE, 0x00])),
            Attribute(name: "control_text", value: .string(Array("tab\there \u{1F} \"q\" \\ / é 𝄞".utf8))),
            Attribute(name: "big_ints", value: .ints([.max, .min, 0, -1])),
        ]
        m.graph.outputs[0] = ValueInfo(name: "y", type: TypeDescriptor(.tensor(elemType: 1, shape: [Dim(.unknown), Dim(.symbol("N"), denotation: "DATA_BATCH"), .known(0)])))
        return m
    }

    @Test func edgeValuesRoundTrip() throws {
        let r = try readRNW(try rnwBytes(Self.edgeModel()))
        let attrs = r.model.graph.nodes[0].attributes
        func value(_ name: String) -> Attribute.Value? { attrs.first { $0.name == name }?.value }
        guard case let .string(nul)? = value("nul_text"), case let .string(raw)? = value("raw_bytes"),
              case let .ints(ints)? = value("big_ints") else {
            Issue.record("attributes lost"); return
        }
        #expect(nul == [0x61, 0x00, 0x62] && raw == [0xFF, 0xFE, 0x00] && ints == [.max, .min, 0, -1])
        guard case let .floats(f)? = attrs.first(where: { $0.name == "edge_floats" })?.value else {
            Issue.record("edge_floats lost"); return
        }
        let want = Self.edgeModel().graph.nodes[0].attributes.first { $0.name == "edge_floats" }
        guard case let .floats(w)? = want?.value else { return }
        #expect(f.count == w.count && zip(f, w).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
        // And through the strict parser directly.
        _ = try Self.decode(try Self.header(Self.edgeModel()))
    }

    @Test func allowedForms() throws {
        let h = try Self.header()
        let allowed: [(String, @Sendable ([UInt8]) throws -> [UInt8])] = [
            ("whitespace around everything", { h in
                let t = String(decoding: h, as: UTF8.self)
                    .replacingOccurrences(of: ",", with: " ,\n\t")
                    .replacingOccurrences(of: ":", with: "\r\n: ")
                return Array((" \n" + t + " \r\n\t").utf8)
            }),
            ("escapes in strings", Self.sub("\"tiny\"", "\"t\\u0069\\n\\\"\\\\\\/\\b\\f\\r\\t\\ud834\\udd1e\"")),
            ("upper-case hex in \\u escapes", Self.sub("\"tiny\"", "\"\\u00E9\\uD834\\uDD1E\"")),
            ("unknown keys, kept apart by code point (K and KELVIN SIGN)",
             Self.sub("{\"model\":", "{\"K\":1,\"\\u212a\":2,\"\u{212A}x\":3,\"model\":")),
            ("-0 for an integer", Self.sub("\"ir_version\":8", "\"ir_version\":-0")),
            ("float with exponent", Self.sub("0.10000000149011612", "1.0000000149011612E-1")),
            ("nesting of exactly 64 levels", Self.sub("{\"model\":", "{\"deep\":" + String(repeating: "[", count: 63)
                                                                 + String(repeating: "]", count: 63) + ",\"model\":")),
            ("Int64 extremes", Self.sub("\"ir_version\":8", "\"ir_version\":-9223372036854775808,\"model_version\":9223372036854775807")),
            ("null for an optional key", Self.sub("\"ir_version\":8", "\"ir_version\":null")),
            ("DEL and non-ASCII raw in strings", Self.sub("\"tiny\"", "\"t\u{7F}é😀\"")),
        ]
        for (name, edit) in allowed {
            do { _ = try Self.decode(try edit(h)) } catch { Issue.record("\(name): refused: \(error)") }
        }
    }

    // MARK: Sweep

    /// Every single-byte change (each bit flipped, and each of a set of
    /// syntax-relevant bytes written in) and every truncation of a real
    /// header ends in a typed RNWError or a valid parse, never a trap.
    @Test func everySingleByteChangeIsTypedOrValid() throws {
        let h = try Self.header()
        let replacements: [UInt8] = [0x00, 0x09, 0x20, 0x22, 0x27, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x3A, 0x45, 0x49, 0x4E,
                                     0x5B, 0x5C, 0x5D, 0x65, 0x75, 0x7B, 0x7D, 0x7F, 0x80, 0xBF, 0xC0, 0xE0, 0xED, 0xF4, 0xFF]
        var outcomes: [String: Int] = [:]
        var total = 0
        func run(_ bytes: [UInt8]) {
            total += 1
            do {
                _ = try Self.decode(bytes)
                outcomes["valid", default: 0] += 1
            } catch let e as RNWError {
                outcomes[errorName(e), default: 0] += 1
            } catch {
                Issue.record("untyped error \(error)")
            }
        }
        for i in h.indices {
            for bit in 0..<8 {
                var m = h
                m[i] ^= 1 << bit
                run(m)
            }
            for r in replacements where r != h[i] {
                var m = h
                m[i] = r
                run(m)
            }
            run(Array(h[0..<i]))
            var without = h
            without.remove(at: i)
            run(without)
        }
        #expect(total >= 40 * h.count)
        #expect((outcomes["valid"] ?? 0) > 0 && outcomes.count > 12, "\(outcomes)")
    }

    // MARK: Messages

    @Test func messagesNameWhatWhereAndExpected() {
        let e = RNWError.headerDuplicateKey(path: "tensors[0].dtype", key: "dtype", offset: 120, firstValueOffset: 100)
        #expect(e.description == "header at tensors[0].dtype: duplicate key \"dtype\" at header byte 120 (file byte 184), first given with the value at header byte 100 (file byte 164); expected each key once (JSON readers disagree on which one wins)")
        #expect(RNWError.headerTrailingComma(offset: 5, path: "model.graph.initializers").description
                == "header at model.graph.initializers: trailing comma at header byte 5 (file byte 69), expected another element or member after ','")
        // User text is quoted and escaped, never printed raw.
        let hostile = RNWError.headerDuplicateKey(path: "x", key: "\u{1B}[31mred\n", offset: 0, firstValueOffset: 0).description
        #expect(!hostile.contains("\u{1B}") && !hostile.contains("\n") && hostile.contains("\\u001b[31mred\\u000a"))
        #expect(JSONPath.member("a", "b.c") == "a[\"b.c\"]" && JSONPath.member("", "k") == "k")
    }
}
