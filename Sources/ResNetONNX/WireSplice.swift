import ResNetIR
import ResNetSystem

/// Writes a slim ModelProto (packed by protobuf-c, every TensorProto.raw_data
/// an 8-byte index into `tensors`) to a file with the real tensor bytes in
/// place of the indices and every enclosing length prefix corrected. Tensor
/// bytes stream from where they are (a mapped input file, say) straight to
/// the output: the writer never builds a second copy of the weights.
struct WireSplicer {
    let schema: WireSchema
    let tensors: [TensorBytes]
    /// Expanded size of each sub-message, keyed by where its content starts in the slim bytes.
    private var sizes: [Int: Int] = [:]

    init(schema: WireSchema, tensors: [TensorBytes]) {
        self.schema = schema
        self.tensors = tensors
    }

    /// Writes the expanded model to `out`. Refuses one over protobuf's 2 GiB
    /// message limit before writing a byte (readers would reject it).
    static func write(slim: [UInt8], schema: WireSchema, tensors: [TensorBytes], to out: AtomicFileWriter,
                      root: Int? = nil) throws {
        var splicer = WireSplicer(schema: schema, tensors: tensors)
        let root = root ?? schema.root
        try slim.withUnsafeBytes { bytes in
            let whole = 0..<bytes.count
            let total = try splicer.expandedSize(bytes, type: root, range: whole)
            guard total <= Int(Int32.max) else { throw ONNXError.modelTooLargeForProtobuf(bytes: total) }
            try splicer.emit(bytes, type: root, range: whole, to: out)
        }
    }

    private struct Field {
        let start: Int       // first byte of the tag
        let payload: Range<Int>
        let tagEnd: Int      // first byte after the tag
        let kind: WireSchema.FieldKind?
    }

    /// Iterates the fields of one message. The slim bytes come from protobuf-c's
    /// own pack, so a malformed field here is a bug; it is reported, not trusted.
    private func forEachField(_ bytes: UnsafeRawBufferPointer, type: Int, range: Range<Int>,
                              _ body: (Field) throws -> Void) throws {
        let message = schema.messages[type]
        var offset = range.lowerBound
        while offset < range.upperBound {
            let start = offset
            guard let (tag, afterTag) = Varint.read(bytes, at: offset, end: range.upperBound) else {
                throw ONNXError.packFailed(reason: "malformed tag at byte \(offset) of the packed model")
            }
            var payload = afterTag..<afterTag
            switch Int(tag & 7) {
            case WireType.varint:
                guard let (_, next) = Varint.read(bytes, at: afterTag, end: range.upperBound) else {
                    throw ONNXError.packFailed(reason: "malformed varint at byte \(afterTag)")
                }
                payload = afterTag..<next
            case WireType.fixed64: payload = afterTag..<(afterTag + 8)
            case WireType.fixed32: payload = afterTag..<(afterTag + 4)
            case WireType.lengthDelimited:
                guard let (length, next) = Varint.read(bytes, at: afterTag, end: range.upperBound),
                      length <= UInt64(range.upperBound - next) else {
                    throw ONNXError.packFailed(reason: "bad length at byte \(afterTag)")
                }
                payload = next..<(next + Int(length))
            default:
                throw ONNXError.packFailed(reason: "wire type \(tag & 7) at byte \(offset)")
            }
            guard payload.upperBound <= range.upperBound else {
                throw ONNXError.packFailed(reason: "field past the end at byte \(offset)")
            }
            let kind = message.fields[UInt32(truncatingIfNeeded: tag >> 3)]?.kind
            try body(Field(start: start, payload: payload, tagEnd: afterTag, kind: kind))
            offset = payload.upperBound
        }
    }

    private func tensorIndex(_ bytes: UnsafeRawBufferPointer, _ payload: Range<Int>) throws -> Int {
        guard payload.count == 8 else { throw ONNXError.packFailed(reason: "raw_data placeholder of \(payload.count) bytes") }
        var index: UInt64 = 0
        for i in 0..<8 { index |= UInt64(bytes[payload.lowerBound + i]) << (8 * UInt64(i)) }
        guard let i = Int(exactly: index), i < tensors.count else {
            throw ONNXError.packFailed(reason: "raw_data placeholder \(index) of \(tensors.count)")
        }
        return i
    }

    private mutating func expandedSize(_ bytes: UnsafeRawBufferPointer, type: Int, range: Range<Int>) throws -> Int {
        var total = 0
        try forEachField(bytes, type: type, range: range) { f in
            let tagSize = f.tagEnd - f.start
            switch f.kind {
            case let .message(child)?:
                let n = try expandedSize(bytes, type: child, range: f.payload)
                total += tagSize + Varint.size(UInt64(n)) + n
            case .tensorRawData?:
                let n = tensors[try tensorIndex(bytes, f.payload)].count
                total += tagSize + Varint.size(UInt64(n)) + n
            default:
                total += f.payload.upperBound - f.start
            }
        }
        sizes[range.lowerBound] = total
        return total
    }

    private func emit(_ bytes: UnsafeRawBufferPointer, type: Int, range: Range<Int>, to out: AtomicFileWriter) throws {
        // Unchanged fields are copied in runs; a run ends at a field that changes.
        var runStart = range.lowerBound
        func flushRun(upTo end: Int) throws {
            if end > runStart { try out.write(UnsafeRawBufferPointer(rebasing: bytes[runStart..<end])) }
        }
        try forEachField(bytes, type: type, range: range) { f in
            switch f.kind {
            case let .message(child)?:
                try flushRun(upTo: f.start)
                guard let n = sizes[f.payload.lowerBound] else {
                    throw ONNXError.packFailed(reason: "no size for message at byte \(f.payload.lowerBound)")
                }
                var header = Array(UnsafeRawBufferPointer(rebasing: bytes[f.start..<f.tagEnd]))
                Varint.append(UInt64(n), to: &header)
                try out.write(header)
                try emit(bytes, type: child, range: f.payload, to: out)
                runStart = f.payload.upperBound
            case .tensorRawData?:
                try flushRun(upTo: f.start)
                let data = tensors[try tensorIndex(bytes, f.payload)]
                var header = Array(UnsafeRawBufferPointer(rebasing: bytes[f.start..<f.tagEnd]))
                Varint.append(UInt64(data.count), to: &header)
                try out.write(header)
                try data.withUnsafeBytes { try out.write($0) }
                runStart = f.payload.upperBound
            default:
                break
            }
        }
        try flushRun(upTo: range.upperBound)
    }
}
