import ResNetIR

/// Why a .safetensors file was refused (or could not be written). One case per
/// failure; each message says what, where (file byte offset or tensor name)
/// and expected vs actual. Path-free: the CLI prefixes the file name.
///
/// Offsets named in messages are file offsets: the header starts at byte 8.
public enum SafetensorsError: Error, Equatable, Sendable {
    // MARK: Layout: the 8-byte length and the header's extent
    case fileTooShort(size: Int)
    case headerLengthTooLarge(length: UInt64, maximum: Int)
    case headerLengthPastFile(length: UInt64, available: Int)

    // MARK: Header text
    case headerNotUTF8(offset: Int, reason: String)
    case headerNotObject(found: String)
    case headerSyntax(offset: Int, expected: String, found: String)
    case headerTrailingData(offset: Int, byte: UInt8)
    case duplicateKey(key: String, within: String, offset: Int)
    case wrongJSONType(path: String, expected: String, found: String, offset: Int)

    // MARK: Tensor entries
    case missingField(tensor: String, field: String)
    case unknownField(tensor: String, field: String)
    case unknownDType(tensor: String, dtype: String)
    case badDimension(tensor: String, index: Int, literal: String, reason: String)
    case badOffset(tensor: String, literal: String, reason: String)
    case offsetsNotAPair(tensor: String, count: Int)
    case offsetsReversed(tensor: String, begin: Int, end: Int)
    case byteCountOverflow(tensor: String, dtype: String, shape: [Int64])
    /// Zero elements, but the product of the nonzero dims (what strides are computed from) overflows.
    case shapeExtentOverflow(tensor: String, dtype: String, shape: [Int64])
    case byteCountMismatch(tensor: String, dtype: String, shape: [Int64], expected: Int, actual: Int)

    // MARK: Data section: tensors sorted by offset must tile it exactly
    case offsetGap(tensor: String, begin: Int, expected: Int, after: String?)
    case offsetOverlap(tensor: String, begin: Int, previous: String, previousEnd: Int)
    case offsetPastData(tensor: String, end: Int, dataLength: Int)
    case dataNotCovered(coveredTo: Int, dataLength: Int)

    // MARK: Writing
    case duplicateTensorName(name: String)
    case reservedTensorName(name: String)
    case duplicateMetadataKey(key: String)
    case unsupportedDataType(tensor: String, dataType: String)
    case tensorDataMismatch(tensor: String, expected: Int, actual: Int)
}

extension SafetensorsError: CustomStringConvertible {
    public var description: String {
        let q = SafetensorsText.quoted
        switch self {
        case let .fileTooShort(size):
            return "file is \(size) bytes; a .safetensors file starts with an 8-byte header length"
        case let .headerLengthTooLarge(length, maximum):
            return "header length \(length) (bytes 0-7) is past the limit of \(maximum) bytes"
        case let .headerLengthPastFile(length, available):
            return "header length \(length) (bytes 0-7) runs past the end of the file: \(available) bytes follow the length"
        case let .headerNotUTF8(offset, reason):
            return "header is not UTF-8 at byte \(offset): \(reason)"
        case let .headerNotObject(found):
            return "header must be a JSON object starting with '{' at byte 8, found \(found)"
        case let .headerSyntax(offset, expected, found):
            return "header JSON at byte \(offset): expected \(expected), found \(found)"
        case let .headerTrailingData(offset, byte):
            return "header has \(SafetensorsText.describe(byte: byte)) at byte \(offset) after the JSON object; only JSON whitespace (space, tab, newline, carriage return) may pad it"
        case let .duplicateKey(key, within, offset):
            return "duplicate key \(q(key)) in \(within) at byte \(offset) (readers disagree on which one wins)"
        case let .wrongJSONType(path, expected, found, offset):
            return "header \(path) at byte \(offset): expected \(expected), found \(found)"
        case let .missingField(tensor, field):
            return "tensor \(q(tensor)) has no \"\(field)\""
        case let .unknownField(tensor, field):
            return "tensor \(q(tensor)) has an unknown field \(q(field)) (expected dtype, shape, data_offsets)"
        case let .unknownDType(tensor, dtype):
            return "tensor \(q(tensor)) has unknown dtype \(q(dtype)) (expected one of \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .badDimension(tensor, index, literal, reason):
            return "tensor \(q(tensor)) shape[\(index)] is \(literal): \(reason)"
        case let .badOffset(tensor, literal, reason):
            return "tensor \(q(tensor)) data_offsets holds \(literal): \(reason)"
        case let .offsetsNotAPair(tensor, count):
            return "tensor \(q(tensor)) data_offsets has \(count) numbers, expected 2 [begin, end]"
        case let .offsetsReversed(tensor, begin, end):
            return "tensor \(q(tensor)) data_offsets [\(begin), \(end)] ends before it begins"
        case let .byteCountOverflow(tensor, dtype, shape):
            return "tensor \(q(tensor)) \(dtype) \(MessageText.shape(shape)): byte count overflows 64 bits"
        case let .shapeExtentOverflow(tensor, dtype, shape):
            return "tensor \(q(tensor)) \(dtype) \(MessageText.shape(shape)) has 0 elements, but the shape's extent (the product of its nonzero dims) overflows 64 bits"
        case let .byteCountMismatch(tensor, dtype, shape, expected, actual):
            return "tensor \(q(tensor)) \(dtype) \(MessageText.shape(shape)) needs \(expected) bytes, data_offsets span \(actual)"
        case let .offsetGap(tensor, begin, expected, after):
            let prior = after.map { "after \(q($0)) ends" } ?? "at the start of the data section"
            return "tensor \(q(tensor)) begins at data offset \(begin), expected \(expected) (\(prior)): \(begin - expected) unclaimed bytes"
        case let .offsetOverlap(tensor, begin, previous, previousEnd):
            return "tensor \(q(tensor)) begins at data offset \(begin), inside \(q(previous)) which ends at \(previousEnd)"
        case let .offsetPastData(tensor, end, dataLength):
            return "tensor \(q(tensor)) ends at data offset \(end), past the data section's \(dataLength) bytes"
        case let .dataNotCovered(coveredTo, dataLength):
            return "tensors cover data offsets 0..<\(coveredTo), but the data section has \(dataLength) bytes (\(dataLength - coveredTo) unclaimed)"
        case let .duplicateTensorName(name):
            return "two tensors are named \(q(name)); safetensors keys must be unique"
        case let .reservedTensorName(name):
            return "a tensor is named \(q(name)), the key safetensors reserves for the file's metadata"
        case let .duplicateMetadataKey(key):
            return "two metadata entries have the key \(q(key)); __metadata__ keys must be unique"
        case let .unsupportedDataType(tensor, dataType):
            return "tensor \(q(tensor)) is \(dataType), which safetensors cannot hold"
        case let .tensorDataMismatch(tensor, expected, actual):
            return "tensor \(q(tensor)) has \(actual) bytes of data, its dtype and shape need \(expected)"
        }
    }
}

/// Text helpers for messages: names from a file may hold anything.
public enum SafetensorsText {
    /// Why a shape's size cannot be computed (elementCount or byteCount gave
    /// nil; the dims are known to be >= 0): its extent overflows although it
    /// holds nothing, or its byte count overflows.
    static func sizeError(tensor: String, dtype: SafetensorsDType, shape: [Int64]) -> SafetensorsError {
        if shape.contains(0) { return .shapeExtentOverflow(tensor: tensor, dtype: dtype.rawValue, shape: shape) }
        return .byteCountOverflow(tensor: tensor, dtype: dtype.rawValue, shape: shape)
    }

    /// 'name' with control characters, invisible format and separator
    /// characters, quotes and backslashes escaped (MessageText.escaped), so a
    /// hostile key can neither forge nor hide text on a terminal.
    public static func quoted(_ s: String) -> String { "'" + MessageText.escaped(s, quote: "'") + "'" }

    static func describe(byte: UInt8) -> String {
        let hex = "0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))' (\(hex))" }
        return "byte \(hex)"
    }
}
