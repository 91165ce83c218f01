import ResNetIR
import ResNetSafetensors
import Testing

/// A file from header text and data bytes; `length` overrides the stated header length.
func safetensorsFile(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    safetensorsFile(bytes: Array(header.utf8), data: data, length: length)
}

func safetensorsFile(bytes header: [UInt8], data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let n = length ?? UInt64(header.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + header + data
}

/// One hostile file per refusal, with the exact error and a word its message must hold.
struct HostileCase: CustomTestStringConvertible, Sendable {
    let name: String
    let file: [UInt8]
    let expected: SafetensorsError
    let mentions: String
    var testDescription: String { name }
}

let f32x2 = #""dtype":"F32","shape":[2]"#

let hostileCases: [HostileCase] = [
    HostileCase(name: "truncated before the length", file: [1, 0, 0], expected: .fileTooShort(size: 3), mentions: "8-byte"),
    HostileCase(name: "header length past the file", file: safetensorsFile("{}", length: 100),
                expected: .headerLengthPastFile(length: 100, available: 2), mentions: "past the end"),
    HostileCase(name: "header length huge", file: safetensorsFile("{}", length: UInt64.max),
                expected: .headerLengthTooLarge(length: UInt64.max, maximum: SafetensorsReader.maxHeaderLength), mentions: "limit"),
    HostileCase(name: "header length 2^63 (would be negative as Int64)", file: safetensorsFile("{}", length: 1 << 63),
                expected: .headerLengthTooLarge(length: 1 << 63, maximum: SafetensorsReader.maxHeaderLength), mentions: "limit"),
    HostileCase(name: "truncated data", file: safetensorsFile("{\"w\":{\(f32x2),\"data_offsets\":[0,8]}}", data: [0, 0, 0, 0]),
                expected: .offsetPastData(tensor: "w", end: 8, dataLength: 4), mentions: "'w'"),
    HostileCase(name: "non-UTF-8 key", file: safetensorsFile(bytes: Array("{\"w".utf8) + [0xFF] + Array("\":{}}".utf8)),
                expected: .headerNotUTF8(offset: 11, reason: "byte 0xff never occurs in UTF-8"), mentions: "UTF-8"),
    HostileCase(name: "overlong UTF-8", file: safetensorsFile(bytes: Array("{\"".utf8) + [0xC0, 0xAF] + Array("\":{}}".utf8)),
                expected: .headerNotUTF8(offset: 10, reason: "overlong encoding (lead byte 0xc0)"), mentions: "overlong"),
    HostileCase(name: "UTF-8 BOM", file: safetensorsFile(bytes: [0xEF, 0xBB, 0xBF] + Array("{}".utf8)),
                expected: .headerNotObject(found: "byte 0xEF"), mentions: "'{'"),
    HostileCase(name: "array at the top", file: safetensorsFile("[]"), expected: .headerNotObject(found: "'[' (0x5B)"), mentions: "object"),
    HostileCase(name: "invalid JSON: trailing comma", file: safetensorsFile("{\"w\":{\(f32x2),}}"),
                expected: .headerSyntax(offset: 40, expected: "a string key in tensor 'w'", found: "'}' (0x7D)"), mentions: "'w'"),
    HostileCase(name: "invalid JSON: unterminated", file: safetensorsFile("{\"w\":{\"dtype\":\"F32"),
                expected: .headerSyntax(offset: 26, expected: "'\"' closing a string", found: "the end of the header"), mentions: "end"),
    HostileCase(name: "invalid JSON: leading zero", file: safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[02]}}"),
                expected: .headerSyntax(offset: 38, expected: "no leading zero (JSON numbers have none)", found: "'2' (0x32)"), mentions: "zero"),
    HostileCase(name: "raw control character in a key", file: safetensorsFile("{\"w\n\":{}}"),
                expected: .headerSyntax(offset: 11, expected: "a character in a string (control characters must be escaped)", found: "byte 0x0A"),
                mentions: "control"),
    HostileCase(name: "lone surrogate escape", file: safetensorsFile("{\"\\ud800\":{}}"),
                expected: .headerSyntax(offset: 16, expected: "a \\u low surrogate after a high one", found: "'\"' (0x22)"), mentions: "surrogate"),
    HostileCase(name: "something after the object", file: safetensorsFile("{} x"),
                expected: .headerTrailingData(offset: 11, byte: UInt8(ascii: "x")), mentions: "only JSON whitespace"),
    HostileCase(name: "form feed after the object (not JSON whitespace)", file: safetensorsFile("{} \u{0C}"),
                expected: .headerTrailingData(offset: 11, byte: 0x0C), mentions: "byte 0x0C"),
    HostileCase(name: "no-break space after the object", file: safetensorsFile("{}\u{A0}"),
                expected: .headerTrailingData(offset: 10, byte: 0xC2), mentions: "byte 0xC2"),
    HostileCase(name: "whitespace before the object", file: safetensorsFile(" {}"),
                expected: .headerNotObject(found: "byte 0x20"), mentions: "'{'"),
    HostileCase(name: "__metadata__ misspelt null", file: safetensorsFile("{\"__metadata__\":nul}"),
                expected: .wrongJSONType(path: "__metadata__", expected: "an object of strings or null", found: "null", offset: 24), mentions: "__metadata__"),
    HostileCase(name: "__metadata__ value null", file: safetensorsFile("{\"__metadata__\":{\"a\":null}}"),
                expected: .wrongJSONType(path: "__metadata__['a']", expected: "a string", found: "null", offset: 29), mentions: "'a'"),
    // Nesting depth is bounded by the schema: each of these would nest 100,000 levels.
    HostileCase(name: "deep objects in an entry", file: safetensorsFile("{\"w\":" + String(repeating: "{\"a\":", count: 100_000)),
                expected: .unknownField(tensor: "w", field: "a"), mentions: "unknown field"),
    HostileCase(name: "deep arrays as an entry", file: safetensorsFile("{\"w\":" + String(repeating: "[", count: 100_000)),
                expected: .wrongJSONType(path: "'w'", expected: "an object with dtype, shape and data_offsets", found: "an array", offset: 13),
                mentions: "'w'"),
    HostileCase(name: "deep arrays in a shape", file: safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"shape\":" + String(repeating: "[", count: 100_000)),
                expected: .wrongJSONType(path: "'w'.shape[0]", expected: "an integer", found: "an array", offset: 37), mentions: "'w'"),
    HostileCase(name: "deep objects in __metadata__", file: safetensorsFile("{\"__metadata__\":{\"a\":" + String(repeating: "{", count: 100_000)),
                expected: .wrongJSONType(path: "__metadata__['a']", expected: "a string", found: "an object", offset: 29), mentions: "'a'"),
    HostileCase(name: "duplicate tensor key",
                file: safetensorsFile("{\"w\":{\(f32x2),\"data_offsets\":[0,8]},\"w\":{\(f32x2),\"data_offsets\":[8,16]}}", data: .init(repeating: 0, count: 16)),
                expected: .duplicateKey(key: "w", within: "the header", offset: 62), mentions: "'w'"),
    HostileCase(name: "duplicate field in an entry", file: safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\"}}"),
                expected: .duplicateKey(key: "dtype", within: "tensor 'w'", offset: 28), mentions: "'w'"),
    HostileCase(name: "duplicate metadata key", file: safetensorsFile("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}"),
                expected: .duplicateKey(key: "a", within: "__metadata__", offset: 33), mentions: "'a'"),
    HostileCase(name: "metadata value not a string", file: safetensorsFile("{\"__metadata__\":{\"format\":1}}"),
                expected: .wrongJSONType(path: "__metadata__['format']", expected: "a string", found: "a number", offset: 34), mentions: "format"),
    HostileCase(name: "entry not an object", file: safetensorsFile("{\"w\":5}"),
                expected: .wrongJSONType(path: "'w'", expected: "an object with dtype, shape and data_offsets", found: "a number", offset: 13),
                mentions: "'w'"),
    HostileCase(name: "missing data_offsets", file: safetensorsFile("{\"w\":{\(f32x2)}}"),
                expected: .missingField(tensor: "w", field: "data_offsets"), mentions: "'w'"),
    HostileCase(name: "unknown field", file: safetensorsFile("{\"w\":{\(f32x2),\"data_offsets\":[0,8],\"crc\":0}}"),
                expected: .unknownField(tensor: "w", field: "crc"), mentions: "'w'"),
    HostileCase(name: "unknown dtype", file: safetensorsFile("{\"w\":{\"dtype\":\"F128\",\"shape\":[2],\"data_offsets\":[0,32]}}"),
                expected: .unknownDType(tensor: "w", dtype: "F128"), mentions: "'w'"),
    HostileCase(name: "negative dim", file: safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}"),
                expected: .badDimension(tensor: "w", index: 0, literal: "-2", reason: "negative"), mentions: "'w'"),
    HostileCase(name: "float dim", file: safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}"),
                expected: .badDimension(tensor: "w", index: 0, literal: "2.0", reason: "not an integer (fraction or exponent)"), mentions: "'w'"),
    HostileCase(name: "exponent dim", file: safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,1e3],\"data_offsets\":[0,8]}}"),
                expected: .badDimension(tensor: "w", index: 1, literal: "1e3", reason: "not an integer (fraction or exponent)"), mentions: "'w'"),
    HostileCase(name: "dim past Int64", file: safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[9223372036854775808],\"data_offsets\":[0,8]}}"),
                expected: .badDimension(tensor: "w", index: 0, literal: "9223372036854775808", reason: "past 2^63 - 1"), mentions: "'w'"),
    HostileCase(name: "dim a string", file: safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}"),
                expected: .wrongJSONType(path: "'w'.shape[0]", expected: "an integer", found: "a string", offset: 37), mentions: "'w'"),
    HostileCase(name: "negative offset", file: safetensorsFile("{\"w\":{\(f32x2),\"data_offsets\":[-8,0]}}"),
                expected: .badOffset(tensor: "w", literal: "-8", reason: "negative"), mentions: "'w'"),
    HostileCase(name: "offsets not a pair", file: safetensorsFile("{\"w\":{\(f32x2),\"data_offsets\":[0]}}"),
                expected: .offsetsNotAPair(tensor: "w", count: 1), mentions: "'w'"),
    HostileCase(name: "offsets reversed", file: safetensorsFile("{\"w\":{\(f32x2),\"data_offsets\":[8,0]}}"),
                expected: .offsetsReversed(tensor: "w", begin: 8, end: 0), mentions: "'w'"),
    HostileCase(name: "byte count overflows", file: safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}"),
                expected: .byteCountOverflow(tensor: "w", dtype: "F32", shape: [1 << 62, 4]), mentions: "'w'"),
    HostileCase(name: "empty shape whose extent overflows",
                file: safetensorsFile("{\"w\":{\"dtype\":\"F32\",\"shape\":[0,4611686018427387904,4611686018427387904],\"data_offsets\":[0,0]}}"),
                expected: .shapeExtentOverflow(tensor: "w", dtype: "F32", shape: [0, 1 << 62, 1 << 62]), mentions: "extent"),
    HostileCase(name: "dtype x shape != bytes", file: safetensorsFile("{\"w\":{\(f32x2),\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
                expected: .byteCountMismatch(tensor: "w", dtype: "F32", shape: [2], expected: 8, actual: 4), mentions: "'w'"),
    HostileCase(name: "gap between tensors",
                file: safetensorsFile("{\"a\":{\(f32x2),\"data_offsets\":[0,8]},\"b\":{\(f32x2),\"data_offsets\":[12,20]}}", data: .init(repeating: 0, count: 20)),
                expected: .offsetGap(tensor: "b", begin: 12, expected: 8, after: "a"), mentions: "'b'"),
    HostileCase(name: "gap at the start", file: safetensorsFile("{\"a\":{\(f32x2),\"data_offsets\":[4,12]}}", data: .init(repeating: 0, count: 12)),
                expected: .offsetGap(tensor: "a", begin: 4, expected: 0, after: nil), mentions: "'a'"),
    HostileCase(name: "overlapping tensors",
                file: safetensorsFile("{\"a\":{\(f32x2),\"data_offsets\":[0,8]},\"b\":{\(f32x2),\"data_offsets\":[4,12]}}", data: .init(repeating: 0, count: 12)),
                expected: .offsetOverlap(tensor: "b", begin: 4, previous: "a", previousEnd: 8), mentions: "'a'"),
    HostileCase(name: "two tensors aliasing one range",
                file: safetensorsFile("{\"a\":{\(f32x2),\"data_offsets\":[0,8]},\"b\":{\(f32x2),\"data_offsets\":[0,8]}}", data: .init(repeating: 0, count: 8)),
                expected: .offsetOverlap(tensor: "b", begin: 0, previous: "a", previousEnd: 8), mentions: "'b'"),
    HostileCase(name: "offset out of range", file: safetensorsFile("{\"a\":{\(f32x2),\"data_offsets\":[1000,1008]}}", data: .init(repeating: 0, count: 8)),
                expected: .offsetPastData(tensor: "a", end: 1008, dataLength: 8), mentions: "'a'"),
    HostileCase(name: "bytes after the last tensor", file: safetensorsFile("{\"a\":{\(f32x2),\"data_offsets\":[0,8]}}", data: .init(repeating: 0, count: 9)),
                expected: .dataNotCovered(coveredTo: 8, dataLength: 9), mentions: "unclaimed"),
]

/// What the reference reader (serde_json) accepts that a strict reading might not.
let lenientCases: [(name: String, file: [UInt8], metadata: [StringPair], tensors: Int)] = [
    ("newline after the object", safetensorsFile("{}\n"), [], 0),
    ("every JSON whitespace after the object", safetensorsFile("{} \t\r\n \n"), [], 0),
    ("__metadata__ null", safetensorsFile("{\"__metadata__\":null}"), [], 0),
    ("__metadata__ null among tensors", safetensorsFile("{\"__metadata__\" : null ,\"w\":{\(f32x2),\"data_offsets\":[0,8]}}\n",
                                                         data: .init(repeating: 0, count: 8)), [], 1),
    ("__metadata__ an object", safetensorsFile("{\"__metadata__\":{\"format\":\"pt\"}}\t"), [StringPair("format", "pt")], 0),
]

struct SafetensorsHostileTests {
    @Test(arguments: lenientCases.indices)
    func acceptedAsTheReferenceAcceptsIt(_ k: Int) throws {
        let c = lenientCases[k]
        let contents = try SafetensorsReader.read(bytes: c.file)
        #expect(contents.metadata == c.metadata && contents.tensors.count == c.tensors, "\(c.name)")
    }

    @Test(arguments: hostileCases)
    func refused(_ c: HostileCase) {
        do {
            let contents = try SafetensorsReader.read(bytes: c.file)
            Issue.record("accepted \(contents.tensors.count) tensors")
        } catch let e as SafetensorsError {
            #expect(e == c.expected)
            #expect(e.description.contains(c.mentions), "message: \(e)")
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    /// Every cut of a valid file is refused with a typed error, never a trap.
    @Test func everyTruncationIsRefused() throws {
        let valid = try SafetensorsWriter.encode([
            SafetensorsTensor(name: "a", dtype: .f32, shape: [2, 2], data: TensorBytes([UInt8](repeating: 1, count: 16))),
            SafetensorsTensor(name: "b", dtype: .i64, shape: [], data: TensorBytes([UInt8](repeating: 2, count: 8))),
        ], metadata: [StringPair("format", "pt")])
        _ = try SafetensorsReader.read(bytes: valid)
        for n in 0..<valid.count {
            #expect(throws: SafetensorsError.self) { try SafetensorsReader.read(bytes: Array(valid[..<n])) }
        }
    }

    /// Flipping any one byte of a valid file either reads or throws a typed error.
    @Test func everyByteFlipIsHandled() throws {
        let valid = try SafetensorsWriter.encode([
            SafetensorsTensor(name: "layer1.0.conv1.weight", dtype: .f16, shape: [3, 1], data: TensorBytes([UInt8](repeating: 7, count: 6))),
        ], metadata: [StringPair("format", "pt")])
        for i in 0..<valid.count {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var bytes = valid
                bytes[i] ^= flip
                do { _ = try SafetensorsReader.read(bytes: bytes) } catch is SafetensorsError {} catch {
                    Issue.record("byte \(i) ^ \(flip): untyped error \(error)")
                }
            }
        }
    }
}
