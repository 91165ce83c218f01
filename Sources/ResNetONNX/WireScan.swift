/// Limits the pre-scan enforces before protobuf-c decodes anything. protobuf-c's
/// unpack recurses once per nesting level and allocates a struct per message,
/// so an unchecked hostile file could crash it (deep nesting) or make it
/// allocate far more than the file's size (many tiny messages).
public struct ONNXReadLimits: Sendable {
    /// Deepest message nesting accepted. A ResNet is 4 deep (Model > Graph >
    /// Node > Attribute); subgraphs in If/Loop add 3 per level.
    public var maxDepth = 100
    /// Most protobuf messages accepted in one file (resnet152 has ~6,000).
    public var maxMessages = 20_000_000
    /// Most bytes protobuf-c may allocate for the slim model (weights excluded),
    /// whatever the file's size.
    public var maxDecodedBytes = 2 << 30
    /// Below `maxDecodedBytes`, the allocation may also be at most this many
    /// bytes plus `decodedBytesPerFileByte` times the file's size: a real
    /// graph decodes to a few times its wire size, a file of empty messages
    /// to ~60x, so a small hostile file cannot ask for gigabytes.
    public var decodedBytesBase = 64 << 20
    public var decodedBytesPerFileByte = 32
    public init() {}

    func decodedByteLimit(fileSize: Int) -> Int {
        let relative = decodedBytesBase.addingReportingOverflow(
            fileSize.multipliedReportingOverflow(by: decodedBytesPerFileByte).partialValue)
        return relative.overflow ? maxDecodedBytes : min(maxDecodedBytes, relative.partialValue)
    }
}

/// The pre-scan's product: the model with every TensorProto.raw_data replaced
/// by an 8-byte little-endian index into `rawDataSpans`, the file ranges where
/// those bytes really are. protobuf-c decodes the slim copy (a few KB for a
/// ResNet) and the weights are used in place from the mapped file: no copy.
struct SlimModel {
    var bytes: [UInt8]
    var rawDataSpans: [Range<Int>]
    var droppedUnknownFields: Int
}

/// Walks the protobuf wire format of a ModelProto with every length, depth and
/// count checked against the bytes available and `ONNXReadLimits`, and emits
/// the slim copy. Everything stays inside the caller's `withUnsafeBytes` call.
struct WireScanner {
    let schema: WireSchema
    let limits: ONNXReadLimits
    let file: String
    private(set) var spans: [Range<Int>] = []
    private(set) var messageCount = 0
    private(set) var estimatedBytes = 0
    private(set) var droppedUnknownFields = 0
    private var decodedByteLimit = 0
    /// Field names from the root to the current message, for error messages only.
    private var context: [String] = []

    init(schema: WireSchema, limits: ONNXReadLimits, file: String) {
        self.schema = schema
        self.limits = limits
        self.file = file
    }

    /// `root`: the message type the bytes hold (ModelProto unless given, e.g. TensorProto).
    static func slimModel(_ bytes: UnsafeRawBufferPointer, schema: WireSchema, limits: ONNXReadLimits,
                          file: String, root: Int? = nil) throws -> SlimModel {
        guard bytes.count > 0 else { throw ONNXError.emptyFile(file: file) }
        let root = root ?? schema.root
        var scanner = WireScanner(schema: schema, limits: limits, file: file)
        scanner.context = [schema.messages[root].name]
        scanner.decodedByteLimit = limits.decodedByteLimit(fileSize: bytes.count)
        var out: [UInt8] = []
        out.reserveCapacity(min(bytes.count, 1 << 16))
        try scanner.scanMessage(bytes, type: root, range: 0..<bytes.count, depth: 1, into: &out)
        return SlimModel(bytes: out, rawDataSpans: scanner.spans, droppedUnknownFields: scanner.droppedUnknownFields)
    }

    private var where_: String { context.joined(separator: ".") }

    private mutating func charge(_ bytes: Int) throws {
        estimatedBytes = estimatedBytes.addingReportingOverflow(bytes).partialValue
        if estimatedBytes > decodedByteLimit || estimatedBytes < 0 {
            throw ONNXError.decodedSizeTooLarge(file: file, estimatedBytes: estimatedBytes, limit: decodedByteLimit)
        }
    }

    /// Scans one message occupying `range` and appends its slim form to `out`.
    private mutating func scanMessage(_ bytes: UnsafeRawBufferPointer, type: Int, range: Range<Int>,
                                      depth: Int, into out: inout [UInt8]) throws {
        messageCount += 1
        if messageCount > limits.maxMessages {
            throw ONNXError.tooManyMessages(file: file, count: messageCount, limit: limits.maxMessages)
        }
        let message = schema.messages[type]
        try charge(message.structSize)
        var offset = range.lowerBound
        let end = range.upperBound
        var seenSingular: Set<UInt32> = []
        while offset < end {
            let fieldStart = offset
            guard let (tag, afterTag) = Varint.read(bytes, at: offset, end: end) else {
                throw ONNXError.malformedVarint(file: file, offset: offset, context: where_)
            }
            let wireType = Int(tag & 7)
            guard tag >> 3 != 0 else {
                throw ONNXError.invalidFieldNumber(file: file, offset: offset, context: where_)
            }
            // Protobuf's largest field number is 2^29 - 1.
            guard tag >> 3 <= 536_870_911 else {
                throw ONNXError.fieldNumberTooLarge(file: file, offset: offset, context: where_, number: tag >> 3)
            }
            let number = UInt32(tag >> 3)
            let field = message.fields[number]
            offset = afterTag

            // Where this field's payload ends, checked against the bytes available.
            var payload = offset..<offset
            switch wireType {
            case WireType.varint:
                guard let (_, next) = Varint.read(bytes, at: offset, end: end) else {
                    throw ONNXError.malformedVarint(file: file, offset: offset, context: where_)
                }
                payload = offset..<next
            case WireType.fixed64, WireType.fixed32:
                let width = wireType == WireType.fixed64 ? 8 : 4
                guard end - offset >= width else {
                    throw ONNXError.truncated(file: file, offset: offset, context: where_, needed: width, available: end - offset)
                }
                payload = offset..<(offset + width)
            case WireType.lengthDelimited:
                guard let (length, next) = Varint.read(bytes, at: offset, end: end) else {
                    throw ONNXError.malformedVarint(file: file, offset: offset, context: where_)
                }
                guard length <= UInt64(end - next) else {
                    let name = field.map { where_ + "." + $0.name } ?? where_ + " field \(number)"
                    throw ONNXError.truncated(file: file, offset: next, context: name,
                                              needed: Int(clamping: length), available: end - next)
                }
                payload = next..<(next + Int(length))
            default:
                throw ONNXError.invalidWireType(file: file, offset: fieldStart, context: where_, wireType: wireType)
            }
            offset = payload.upperBound

            guard let field else {
                // Not in our schema (a newer ONNX, or junk): dropped, and counted.
                droppedUnknownFields += 1
                continue
            }
            try checkWireType(field, wireType: wireType, offset: fieldStart)
            if field.repeated { try charge(8) }  // one array slot per element
            // A singular field given twice: protobuf keeps the last (or merges messages); another reader
            // may keep the first. Two readers, two models: refused.
            if !field.repeated && !seenSingular.insert(number).inserted {
                throw ONNXError.duplicateField(file: file, offset: fieldStart, field: where_ + "." + field.name)
            }

            switch field.kind {
            case let .message(child):
                guard depth < limits.maxDepth else {
                    throw ONNXError.nestingTooDeep(file: file, offset: fieldStart, context: where_, limit: limits.maxDepth)
                }
                context.append(field.name)
                var childBytes: [UInt8] = []
                try scanMessage(bytes, type: child, range: payload, depth: depth + 1, into: &childBytes)
                context.removeLast()
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[fieldStart..<afterTag]))
                Varint.append(UInt64(childBytes.count), to: &out)
                out.append(contentsOf: childBytes)
            case .tensorRawData:
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[fieldStart..<afterTag]))
                Varint.append(8, to: &out)
                var index = UInt64(spans.count).littleEndian
                withUnsafeBytes(of: &index) { out.append(contentsOf: $0) }
                spans.append(payload)
                try charge(8)
            case .bytes:
                try charge(payload.count + 1)
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[fieldStart..<payload.upperBound]))
            case .string:
                try checkString(bytes, payload, field: field.name)
                try charge(payload.count + 1)
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[fieldStart..<payload.upperBound]))
            case let .scalar(elementSize, _):
                // Packed: at most one element per payload byte.
                if wireType == WireType.lengthDelimited {
                    try charge(payload.count.multipliedReportingOverflow(by: elementSize).partialValue)
                }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[fieldStart..<payload.upperBound]))
            }
        }
    }

    /// Fields that name things (values, nodes, operators, domains, keys such as an external
    /// data "location"): no control characters. Other strings (doc_string, metadata values) may
    /// hold newlines and tabs, but no string may hold a NUL.
    static let identifierFields: Set<String> = ["name", "input", "output", "op_type", "domain", "key", "overload",
                                                 "ref_attr_name", "tensor_name", "dim_param", "attribute"]

    private func checkString(_ bytes: UnsafeRawBufferPointer, _ payload: Range<Int>, field: String) throws {
        let identifier = Self.identifierFields.contains(field)
        for i in payload {
            let b = bytes[i]
            if b == 0 || (identifier && (b < 0x20 || b == 0x7f)) {
                throw ONNXError.controlCharacter(file: file, offset: i, field: where_ + "." + field, byte: b)
            }
        }
    }

    private func checkWireType(_ field: WireSchema.Field, wireType: Int, offset: Int) throws {
        let expected: Int
        switch field.kind {
        case .message, .tensorRawData, .bytes, .string:
            expected = WireType.lengthDelimited
        case let .scalar(_, scalarWire):
            // Repeated scalars may be packed into one length-delimited field.
            if field.repeated && wireType == WireType.lengthDelimited { return }
            expected = scalarWire
        }
        guard wireType == expected else {
            throw ONNXError.wrongWireType(file: file, offset: offset, field: where_ + "." + field.name,
                                          expected: expected, actual: wireType)
        }
    }
}
