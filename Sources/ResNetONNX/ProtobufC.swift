// The C boundary of the ONNX layer. Only ProtobufC.swift, ProtobufC+Decode.swift
// and ProtobufC+Encode.swift import the generated protobuf-c code: this file
// holds the library calls (schema from descriptors, unpack, pack) and the
// memory arena; the other two translate C structs to and from the IR.
import ONNXProtoC
import CProtobufC
import ResNetIR

// MARK: - Schema from protobuf-c's descriptors

enum ProtobufCSchema {
    /// The wire schema of ModelProto and everything it contains, built once.
    static let onnxModel: WireSchema = build()

    private static func build() -> WireSchema {
        var messages: [WireSchema.Message] = []
        var indexOf: [String: Int] = [:]
        // Placeholder slots are filled after recursion, so recursive types
        // (GraphProto inside AttributeProto inside GraphProto) terminate.
        func visit(_ d: UnsafePointer<ProtobufCMessageDescriptor>) -> Int {
            let name = String(cString: d.pointee.name)
            if let i = indexOf[name] { return i }
            let index = messages.count
            indexOf[name] = index
            messages.append(WireSchema.Message(name: name, structSize: 0, fields: [:]))
            var fields: [UInt32: WireSchema.Field] = [:]
            for f in UnsafeBufferPointer(start: d.pointee.fields, count: Int(d.pointee.n_fields)) {
                let fieldName = String(cString: f.name)
                let repeated = f.label == PROTOBUF_C_LABEL_REPEATED
                let kind: WireSchema.FieldKind
                switch f.type {
                case PROTOBUF_C_TYPE_MESSAGE:
                    let child = f.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                    kind = .message(visit(child))
                case PROTOBUF_C_TYPE_BYTES where name == "onnx.TensorProto" && fieldName == "raw_data":
                    kind = .tensorRawData
                case PROTOBUF_C_TYPE_STRING:
                    kind = .string
                case PROTOBUF_C_TYPE_BYTES:
                    kind = .bytes
                case PROTOBUF_C_TYPE_SFIXED32, PROTOBUF_C_TYPE_FIXED32, PROTOBUF_C_TYPE_FLOAT:
                    kind = .scalar(elementSize: 4, wireType: WireType.fixed32)
                case PROTOBUF_C_TYPE_SFIXED64, PROTOBUF_C_TYPE_FIXED64, PROTOBUF_C_TYPE_DOUBLE:
                    kind = .scalar(elementSize: 8, wireType: WireType.fixed64)
                case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_UINT64:
                    kind = .scalar(elementSize: 8, wireType: WireType.varint)
                default:  // int32, sint32, uint32, bool, enum: 4 bytes each in protobuf-c
                    kind = .scalar(elementSize: 4, wireType: WireType.varint)
                }
                fields[f.id] = WireSchema.Field(name: fieldName, kind: kind, repeated: repeated)
            }
            messages[index] = WireSchema.Message(name: String(cString: d.pointee.short_name),
                                                 structSize: Int(d.pointee.sizeof_message), fields: fields)
            return index
        }
        let root = withUnsafePointer(to: onnx__model_proto__descriptor) { visit($0) }
        return WireSchema(messages: messages, root: root)
    }
}

// MARK: - Unpack and pack

enum ProtobufC {
    /// Unpacks a (pre-scanned, slim) ModelProto and calls `body` with it; the
    /// C message is freed when `body` returns.
    static func withUnpackedModel<R>(_ bytes: [UInt8], file: String, originalSize: Int,
                                     _ body: (UnsafePointer<Onnx__ModelProto>) throws -> R) throws -> R {
        let model: UnsafeMutablePointer<Onnx__ModelProto>? = bytes.withUnsafeBufferPointer {
            // Sound: protobuf-c reads exactly count bytes from baseAddress and copies
            // what it keeps; the pre-scan bounded depth and allocation sizes.
            onnx__model_proto__unpack(nil, $0.count, $0.baseAddress)
        }
        guard let model else { throw ONNXError.notAModelProto(file: file, size: originalSize) }
        defer { onnx__model_proto__free_unpacked(model, nil) }
        return try body(UnsafePointer(model))
    }

    /// Unpacks a (pre-scanned, slim) TensorProto, as in ONNX test data files.
    static func withUnpackedTensor<R>(_ bytes: [UInt8], file: String, originalSize: Int,
                                      _ body: (UnsafeMutablePointer<Onnx__TensorProto>) throws -> R) throws -> R {
        let tensor: UnsafeMutablePointer<Onnx__TensorProto>? = bytes.withUnsafeBufferPointer {
            // Sound: as for the model: bounded by the pre-scan, protobuf-c copies what it keeps.
            onnx__tensor_proto__unpack(nil, $0.count, $0.baseAddress)
        }
        guard let tensor else { throw ONNXError.notAModelProto(file: file, size: originalSize) }
        defer { onnx__tensor_proto__free_unpacked(tensor, nil) }
        return try body(tensor)
    }

    static func packTensor(_ tensor: UnsafePointer<Onnx__TensorProto>) -> [UInt8] {
        let size = onnx__tensor_proto__get_packed_size(tensor)
        var out = [UInt8](repeating: 0, count: Int(size))
        _ = out.withUnsafeMutableBufferPointer { onnx__tensor_proto__pack(tensor, $0.baseAddress) }
        return out
    }

    /// Serialises a ModelProto built in an arena.
    static func pack(_ model: UnsafePointer<Onnx__ModelProto>) throws -> [UInt8] {
        let size = onnx__model_proto__get_packed_size(model)
        guard size <= Int32.max else { throw ONNXError.modelTooLargeForProtobuf(bytes: Int(size)) }
        var out = [UInt8](repeating: 0, count: Int(size))
        let written = out.withUnsafeMutableBufferPointer {
            // Sound: the buffer holds get_packed_size bytes, what pack writes.
            onnx__model_proto__pack(model, $0.baseAddress)
        }
        guard written == size else { throw ONNXError.packFailed(reason: "protobuf-c wrote \(written) of \(size) bytes") }
        return out
    }
}

// MARK: - Arena for building C messages

/// Owns every allocation made while building a C ModelProto for packing; all
/// of it is freed together when the arena is released. Used only inside
/// `CArena.with`, so no pointer outlives the memory it points to.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    static func with<R>(_ body: (CArena) throws -> R) rethrows -> R {
        let arena = CArena()
        defer { arena.freeAll() }
        return try body(arena)
    }

    private func freeAll() {
        for p in allocations { p.deallocate() }
        allocations.removeAll()
    }

    /// A zero-filled array of `count` elements (at least one slot, so never NULL).
    func array<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = MemoryLayout<T>.stride * max(count, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: MemoryLayout<T>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A NUL-terminated copy of `s`, or NULL for "" (protobuf-c omits NULL strings,
    /// matching proto2's unset optional field).
    func cString(_ s: String) -> UnsafeMutablePointer<CChar>? {
        guard !s.isEmpty else { return nil }
        return cStringAlways(s)
    }

    /// A NUL-terminated copy of `s`, even when empty (repeated string elements).
    func cStringAlways(_ s: String) -> UnsafeMutablePointer<CChar> {
        var s = s
        return s.withUTF8 { utf8 in
            let p = array(CChar.self, count: utf8.count + 1)  // zero-filled: NUL-terminated
            if let base = utf8.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: utf8.count) }
            return p
        }
    }

    /// A copy of `bytes` as protobuf-c binary data.
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let p = array(UInt8.self, count: bytes.count)
        bytes.withUnsafeBytes { if let base = $0.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: $0.count) } }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }

    /// A copy of `values` as a C array; returns (count, pointer) for protobuf-c's n_/ptr pairs.
    func copy<T>(_ values: [T]) -> (Int, UnsafeMutablePointer<T>?) {
        guard !values.isEmpty else { return (0, nil) }
        let p = array(T.self, count: values.count)
        for (i, v) in values.enumerated() { p[i] = v }
        return (values.count, p)
    }

    /// A C array of message pointers, each built by `make`.
    func messages<Element, M>(_ elements: [Element], _ make: (Element) throws -> UnsafeMutablePointer<M>) rethrows
        -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<M>?>?) {
        guard !elements.isEmpty else { return (0, nil) }
        let p = array(UnsafeMutablePointer<M>?.self, count: elements.count)
        for (i, e) in elements.enumerated() { p[i] = try make(e) }
        return (elements.count, p)
    }

    /// One message struct, initialised by its protobuf-c init function.
    func message<M>(_ initialise: (UnsafeMutablePointer<M>) -> Void) -> UnsafeMutablePointer<M> {
        let p = array(M.self, count: 1)
        initialise(p)
        return p
    }
}

// MARK: - Reading C arrays

/// Views of protobuf-c's (count, pointer) pairs, valid while the message is.
enum CView {
    @inline(__always)
    static func string(_ p: UnsafeMutablePointer<CChar>?) -> String {
        p.map { String(cString: $0) } ?? ""
    }

    @inline(__always)
    static func buffer<T>(_ n: Int, _ p: UnsafeMutablePointer<T>?) -> UnsafeBufferPointer<T> {
        UnsafeBufferPointer(start: n == 0 ? nil : p, count: n)
    }

    static func bytes(_ b: ProtobufCBinaryData) -> [UInt8] {
        Array(UnsafeBufferPointer(start: b.len == 0 ? nil : b.data, count: b.len))
    }

    static func strings(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
        buffer(n, p).map { string($0) }
    }

    /// Non-NULL message pointers of a repeated message field.
    static func messages<M>(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<M>?>?) -> [UnsafeMutablePointer<M>] {
        buffer(n, p).compactMap { $0 }
    }
}
