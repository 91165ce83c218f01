/// Why an .rnw file was refused. One case per failure; each says what, where
/// (file offset, header path or tensor name) and expected vs actual.
public enum RNWError: Error, Equatable, Sendable {
    // MARK: Not a (supported) .rnw file: "unreadable"
    case tooSmall(size: Int, minimum: Int)
    case badMagic(found: [UInt8])
    case newerMajorVersion(found: UInt16, supported: UInt16)

    // MARK: Preamble and trailer
    case preambleChecksumMismatch(expected: UInt32, actual: UInt32)
    case unknownFlags(UInt32)
    case reservedNotZero(field: String, value: UInt64)
    case headerLengthOutOfRange(length: UInt64, maximum: Int)
    case badAlignment(UInt32)
    case dataOffsetMismatch(expected: Int, actual: UInt64)
    case tensorCountTooLarge(count: UInt64, maximum: Int)
    case fileSizeMismatch(expected: String, actual: Int)
    case missingEndMagic(offset: Int)

    // MARK: Header
    case headerChecksumMismatch(expected: UInt32, actual: UInt32)
    case headerTooDeep(offset: Int, maximum: Int)
    case headerInvalid(path: String, reason: String)
    case tensorCountMismatch(preamble: UInt64, header: Int)
    case nameTooLong(tensor: Int, bytes: Int, maximum: Int)
    case rankTooLarge(tensor: String, rank: Int, maximum: Int)
    case unknownDataType(tensor: String, name: String)
    case invalidStorage(tensor: String, storage: String, dataType: String)
    case invalidDims(tensor: String, dims: [Int64])
    case lengthMismatch(tensor: String, expected: Int, actual: Int)
    case badTensorReference(path: String, index: Int, count: Int)
    case badBase64(path: String)

    // MARK: Header JSON: strict RFC 8259 (schemas/rnw.md, "Header JSON is strict").
    // Offsets are within the header (file offset = 64 + offset); paths are JSON paths.
    // Other syntax errors, wrong JSON types and missing keys are `headerInvalid`.
    case headerByteOrderMark(encoding: String, found: [UInt8])
    case headerNotUTF8(encoding: String)
    case headerInvalidUTF8(offset: Int, bytes: [UInt8], reason: String)
    case headerControlCharacter(offset: Int, byte: UInt8)
    case headerBadEscape(offset: Int, found: String, reason: String)
    case headerNUL(path: String, offset: Int)
    case headerTrailingComma(offset: Int, path: String)
    case headerComment(offset: Int)
    case headerSingleQuote(offset: Int)
    case headerNonFiniteNumber(offset: Int, found: String)
    case headerLeadingZero(offset: Int, found: String)
    case headerLeadingPlus(offset: Int, found: String)
    case headerTrailingData(offset: Int, found: String)
    case headerDuplicateKey(path: String, key: String, offset: Int, firstValueOffset: Int)
    case headerNotInteger(path: String, found: String)
    case headerNumberOutOfRange(path: String, found: String, expected: String)
    case headerCRCNotCanonical(path: String, found: String)

    // MARK: Data section
    case misplacedTensor(tensor: String, expectedOffset: Int, actualOffset: Int)
    case dataLengthMismatch(expected: Int, actual: UInt64)
    case tensorChecksumMismatch(tensor: String, offset: Int, expected: UInt32, actual: UInt32)
    case paddingNotZero(offset: Int)
    case fileChecksumMismatch(expected: UInt32, actual: UInt32)

    // MARK: Writing
    case tooManyTensors(count: Int)
    case tensorDataMismatch(tensor: String, expected: Int, actual: Int)

    /// True when the file is not an .rnw this reader can read at all (exit 2);
    /// false when it is one and is damaged or inconsistent (exit 1 for `verify`).
    public var isUnreadable: Bool {
        switch self {
        case .tooSmall, .badMagic, .newerMajorVersion: return true
        default: return false
        }
    }
}

extension RNWError: CustomStringConvertible {
    public var description: String {
        func hex(_ v: UInt32) -> String { "0x" + CRC32.hex(v) }
        func at(_ offset: Int) -> String { RNWText.at(offset) }
        func header(_ path: String) -> String { path.isEmpty ? "header" : "header at \(path)" }
        func q(_ s: String) -> String { RNWText.quoted(s) }
        switch self {
        case let .tooSmall(size, minimum):
            return "file is \(size) bytes; an .rnw file has at least \(minimum) (preamble and trailer)"
        case let .badMagic(found):
            return "not an .rnw file: bytes 0..<8 are \(found.map { String($0, radix: 16) }.joined(separator: " ")), expected 89 52 4e 57 0d 0a 1a 0a"
        case let .newerMajorVersion(found, supported):
            return "written by a newer resnet-tools: format major version \(found), this reader supports \(supported)"
        case let .preambleChecksumMismatch(expected, actual):
            return "preamble (bytes 0..<56) is corrupted: CRC-32 \(hex(actual)), stored \(hex(expected))"
        case let .unknownFlags(flags):
            return "preamble flags (byte 12) are \(hex(flags)), expected 0 (a feature this reader does not know)"
        case let .reservedNotZero(field, value):
            return "reserved \(field) is \(value), expected 0"
        case let .headerLengthOutOfRange(length, maximum):
            return "header length (byte 16) is \(length), expected 2...\(maximum) and within the file"
        case let .badAlignment(value):
            return "alignment (byte 28) is \(value), expected a power of two from \(RNWLayout.minAlignment) to \(RNWLayout.maxAlignment)"
        case let .dataOffsetMismatch(expected, actual):
            return "data offset (byte 32) is \(actual), expected \(expected) (64 + header length, aligned)"
        case let .tensorCountTooLarge(count, maximum):
            return "tensor count (byte 48) is \(count), over the limit of \(maximum)"
        case let .fileSizeMismatch(expected, actual):
            return "file is \(actual) bytes, expected \(expected) (data offset + data length + 16): truncated or extended"
        case let .missingEndMagic(offset):
            return "end marker missing at byte \(offset + 8): the file was cut short or overwritten"
        case let .headerChecksumMismatch(expected, actual):
            return "header (bytes 64..) is corrupted: CRC-32 \(hex(actual)), stored \(hex(expected))"
        case let .headerTooDeep(offset, maximum):
            return "header nests deeper than \(maximum) levels at byte \(offset)"
        case let .headerInvalid(path, reason):
            return "header \(path.isEmpty ? "" : "at \(path) ")is invalid: \(reason)"
        case let .tensorCountMismatch(preamble, header):
            return "header lists \(header) tensors, preamble says \(preamble)"
        case let .nameTooLong(tensor, bytes, maximum):
            return "tensors[\(tensor)]: name of \(bytes) bytes, over the limit of \(maximum)"
        case let .rankTooLarge(tensor, rank, maximum):
            return "tensor '\(tensor)': rank \(rank), over the limit of \(maximum)"
        case let .unknownDataType(tensor, name):
            return "tensor '\(tensor)': unknown dtype '\(name)'"
        case let .invalidStorage(tensor, storage, dataType):
            return "tensor '\(tensor)': storage \(storage) is not allowed for dtype \(dataType) (only FLOAT16 for FLOAT)"
        case let .invalidDims(tensor, dims):
            return "tensor '\(tensor)': dims \(dims) are negative or their byte size overflows"
        case let .lengthMismatch(tensor, expected, actual):
            return "tensor '\(tensor)': length \(actual), its dtype and dims need \(expected)"
        case let .badTensorReference(path, index, count):
            return "header at \(path): tensor index \(index), the table has \(count)"
        case let .badBase64(path):
            return "header at \(path): not valid base64"
        case let .headerByteOrderMark(encoding, found):
            return "header starts with a \(encoding) byte order mark (\(RNWText.hexBytes(found))), expected UTF-8 JSON without a BOM"
        case let .headerNotUTF8(encoding):
            return "header is \(encoding) (NUL bytes beside its first character), expected UTF-8"
        case let .headerInvalidUTF8(offset, bytes, reason):
            return "header is not valid UTF-8 \(at(offset)): bytes \(RNWText.hexBytes(bytes)): \(reason)"
        case let .headerControlCharacter(offset, byte):
            return "header string holds the control character \(RNWText.hexByte(byte)) unescaped \(at(offset)), expected it escaped (\\u00XX)"
        case let .headerBadEscape(offset, found, reason):
            return "header string has the escape '\(found)' \(at(offset)): \(reason)"
        case let .headerNUL(path, offset):
            return "\(header(path)): string \(at(offset)) holds U+0000 (NUL), allowed only in a bytes value's utf8 text"
        case let .headerTrailingComma(offset, path):
            return "\(header(path)): trailing comma \(at(offset)), expected another element or member after ','"
        case let .headerComment(offset):
            return "header has a comment \(at(offset)); JSON has no comments"
        case let .headerSingleQuote(offset):
            return "header has a single quote \(at(offset)), expected a string in double quotes"
        case let .headerNonFiniteNumber(offset, found):
            return "header has the bare literal \(q(found)) \(at(offset)); JSON numbers are finite (a float attribute writes \"NaN\", \"Infinity\", \"-Infinity\" as strings)"
        case let .headerLeadingZero(offset, found):
            return "header number \(q(found)) \(at(offset)) has a leading zero, expected 0 or a number starting with 1-9"
        case let .headerLeadingPlus(offset, found):
            return "header number \(q(found)) \(at(offset)) starts with '+', expected a digit or '-'"
        case let .headerTrailingData(offset, found):
            return "header has \(found) \(at(offset)) after its JSON value, expected only whitespace"
        case let .headerDuplicateKey(path, key, offset, firstValueOffset):
            return "\(header(path)): duplicate key \(q(key)) \(at(offset)), first given with the value \(at(firstValueOffset)); expected each key once (JSON readers disagree on which one wins)"
        case let .headerNotInteger(path, found):
            return "\(header(path)): \(q(found)) is not an integer literal, expected digits without fraction or exponent"
        case let .headerNumberOutOfRange(path, found, expected):
            return "\(header(path)): \(q(found)) is out of range, expected \(expected)"
        case let .headerCRCNotCanonical(path, found):
            return "\(header(path)): CRC-32 written as \(q(found)), expected exactly 8 lower-case hex digits"
        case let .misplacedTensor(tensor, expected, actual):
            return "tensor '\(tensor)': offset \(actual), expected \(expected) (tensors follow each other in table order, aligned)"
        case let .dataLengthMismatch(expected, actual):
            return "data length (byte 40) is \(actual), the tensors end after \(expected)"
        case let .tensorChecksumMismatch(tensor, offset, expected, actual):
            return "tensor '\(tensor)' at byte \(offset) is corrupted: CRC-32 \(hex(actual)), stored \(hex(expected))"
        case let .paddingNotZero(offset):
            return "padding byte at \(offset) is not zero"
        case let .fileChecksumMismatch(expected, actual):
            return "file CRC-32 is \(hex(actual)), trailer stores \(hex(expected))"
        case let .tooManyTensors(count):
            return "\(count) tensors, over the format's limit of \(RNWLayout.maxTensorCount)"
        case let .tensorDataMismatch(tensor, expected, actual):
            return "tensor '\(tensor)' has \(actual) bytes of data, its dtype and dims need \(expected)"
        }
    }
}
