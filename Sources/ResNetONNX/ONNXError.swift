import ResNetIR

/// Why an ONNX file could not be read or written. One case per failure; each
/// message says what went wrong, where (file offset or model path such as
/// `graph.node[12] 'layer1.0.conv1' attribute 'strides'`) and expected vs actual.
public enum ONNXError: Error, Equatable, Sendable {
    // MARK: Wire format (found by the pre-scan, before protobuf-c sees a byte)
    case emptyFile(file: String)
    case truncated(file: String, offset: Int, context: String, needed: Int, available: Int)
    case malformedVarint(file: String, offset: Int, context: String)
    case invalidWireType(file: String, offset: Int, context: String, wireType: Int)
    case wrongWireType(file: String, offset: Int, field: String, expected: Int, actual: Int)
    case invalidFieldNumber(file: String, offset: Int, context: String)
    case fieldNumberTooLarge(file: String, offset: Int, context: String, number: UInt64)
    /// A singular field (ir_version, graph, a node's op_type...) given more than once.
    case duplicateField(file: String, offset: Int, field: String)
    /// A NUL in any string, or a control character in a name (C strings and paths would be cut or confused).
    case controlCharacter(file: String, offset: Int, field: String, byte: UInt8)
    case nestingTooDeep(file: String, offset: Int, context: String, limit: Int)
    case decodedSizeTooLarge(file: String, estimatedBytes: Int, limit: Int)
    case tooManyMessages(file: String, count: Int, limit: Int)
    /// protobuf-c refused the (pre-scanned) message.
    case notAModelProto(file: String, size: Int)

    // MARK: Model structure
    case missingGraph(file: String)
    case unsupportedFeature(path: String, feature: String)
    case unknownAttributeType(path: String, value: Int32)
    case attributeTypeMismatch(path: String, declared: String, present: String)

    // MARK: Tensors
    case unknownDataType(path: String, value: Int32)
    case invalidDims(path: String, dims: [Int64])
    case dataSizeMismatch(path: String, dataType: String, dims: [Int64], expectedBytes: Int, actualBytes: Int)
    case dataFieldMismatch(path: String, field: String, dataType: String)
    case multipleDataFields(path: String, fields: [String])

    // MARK: External data
    case externalDataMissingLocation(path: String)
    case externalDataAbsolutePath(path: String, location: String)
    case externalDataEscapesFolder(path: String, location: String)
    case externalDataNotFound(path: String, location: String)
    case externalDataNotRegularFile(path: String, location: String, kind: String)
    case externalDataBadNumber(path: String, key: String, value: String)
    case externalDataOutOfRange(path: String, location: String, offset: Int, length: Int, fileSize: Int)

    // MARK: Writing
    case tensorTooLargeForProtobuf(path: String, bytes: Int)
    case modelTooLargeForProtobuf(bytes: Int)
    case packFailed(reason: String)
}

extension ONNXError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .emptyFile(file):
            return "\(file): file is empty (0 bytes), expected an ONNX ModelProto"
        case let .truncated(file, offset, context, needed, available):
            return "\(file): truncated at byte \(offset) in \(context): needs \(needed) bytes, \(available) remain"
        case let .malformedVarint(file, offset, context):
            return "\(file): malformed varint at byte \(offset) in \(context) (more than 10 bytes or past the end)"
        case let .invalidWireType(file, offset, context, wireType):
            return "\(file): invalid wire type \(wireType) at byte \(offset) in \(context) (expected 0, 1, 2 or 5)"
        case let .wrongWireType(file, offset, field, expected, actual):
            return "\(file): field \(field) at byte \(offset) has wire type \(actual), expected \(expected)"
        case let .fieldNumberTooLarge(file, offset, context, number):
            return "\(file): field number \(number) at byte \(offset) in \(context) is past protobuf's largest, 536870911"
        case let .duplicateField(file, offset, field):
            return "\(file): field \(field) appears again at byte \(offset); it may appear once (readers disagree on which copy wins)"
        case let .controlCharacter(file, offset, field, byte):
            return "\(file): field \(field) holds byte 0x\(String(byte, radix: 16)) at byte \(offset); \(byte == 0 ? "a NUL would cut the string short in C readers" : "names may not hold control characters")"
        case let .invalidFieldNumber(file, offset, context):
            return "\(file): field number 0 at byte \(offset) in \(context) (field numbers start at 1)"
        case let .nestingTooDeep(file, offset, context, limit):
            return "\(file): messages nested deeper than \(limit) levels at byte \(offset) in \(context)"
        case let .decodedSizeTooLarge(file, estimate, limit):
            return "\(file): decoding would allocate about \(estimate) bytes, over the limit of \(limit)"
        case let .tooManyMessages(file, count, limit):
            return "\(file): \(count)+ protobuf messages, over the limit of \(limit)"
        case let .notAModelProto(file, size):
            return "\(file) (\(size) bytes): not a valid ONNX ModelProto (protobuf-c rejected it)"
        case let .missingGraph(file):
            return "\(file): ModelProto has no graph (field 7), expected one"
        case let .unsupportedFeature(path, feature):
            return "\(path): \(feature) is not supported by resnet-tools"
        case let .unknownAttributeType(path, value):
            return "\(path): unknown attribute type \(value) (expected 1-14)"
        case let .attributeTypeMismatch(path, declared, present):
            return "\(path): attribute declares type \(declared) but carries \(present)"
        case let .unknownDataType(path, value):
            return "\(path): unknown data type \(value) (expected 1-28, see TensorProto.DataType)"
        case let .invalidDims(path, dims):
            return "\(path): dims \(dims) are negative or their product overflows"
        case let .dataSizeMismatch(path, dataType, dims, expected, actual):
            return "\(path): \(dataType) tensor of dims \(dims) needs \(expected) bytes of data, has \(actual)"
        case let .dataFieldMismatch(path, field, dataType):
            return "\(path): \(field) cannot hold \(dataType) elements"
        case let .multipleDataFields(path, fields):
            return "\(path): data in several fields (\(fields.joined(separator: ", "))), expected one"
        case let .externalDataMissingLocation(path):
            return "\(path): external data has no 'location' key"
        case let .externalDataAbsolutePath(path, location):
            return "\(path): external data location '\(location)' is absolute; only paths relative to the model's folder are allowed"
        case let .externalDataEscapesFolder(path, location):
            return "\(path): external data location '\(location)' leads outside the model's folder"
        case let .externalDataNotFound(path, location):
            return "\(path): external data file '\(location)' does not exist"
        case let .externalDataNotRegularFile(path, location, kind):
            return "\(path): external data '\(location)' is a \(kind), expected a regular file"
        case let .externalDataBadNumber(path, key, value):
            return "\(path): external data '\(key)' is '\(value)', expected a non-negative integer"
        case let .externalDataOutOfRange(path, location, offset, length, fileSize):
            return "\(path): external data bytes \(offset)..<\(offset &+ length) lie outside '\(location)' (\(fileSize) bytes)"
        case let .tensorTooLargeForProtobuf(path, bytes):
            return "\(path): \(bytes) bytes cannot be stored inside a protobuf (2 GiB limit); use --external-data"
        case let .modelTooLargeForProtobuf(bytes):
            return "model needs \(bytes) bytes, over protobuf's 2 GiB limit; use --external-data"
        case let .packFailed(reason):
            return "could not serialise the model: \(reason)"
        }
    }
}
