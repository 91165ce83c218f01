/// What the wire pre-scan needs to know about each protobuf message type:
/// which fields are sub-messages (to recurse into), which wire type each field
/// must have, and how much protobuf-c will allocate for it. Built once from
/// protobuf-c's generated descriptors (ProtobufC.swift), so the schema lives in
/// exactly one place: schemas/onnx.proto.
struct WireSchema: Sendable {
    enum FieldKind: Sendable, Equatable {
        /// A sub-message: index into `messages`.
        case message(Int)
        /// TensorProto.raw_data: the bulk bytes, replaced by a span index on read.
        case tensorRawData
        /// bytes: protobuf-c allocates length + 1.
        case bytes
        /// string: likewise; protobuf-c hands it over NUL-terminated, so a NUL inside would cut it short.
        case string
        /// A scalar; `elementSize` is what protobuf-c stores per element,
        /// `wireType` the non-packed wire type (0 varint, 1 fixed64, 5 fixed32).
        case scalar(elementSize: Int, wireType: Int)
    }

    struct Field: Sendable {
        let name: String
        let kind: FieldKind
        let repeated: Bool
    }

    struct Message: Sendable {
        let name: String
        /// sizeof the C struct protobuf-c allocates for one instance.
        let structSize: Int
        let fields: [UInt32: Field]
    }

    let messages: [Message]
    /// Index of ModelProto.
    let root: Int

    /// Index of a message type by its short name ("TensorProto").
    func index(of name: String) -> Int? { messages.firstIndex { $0.name == name } }
}

/// Protobuf wire types.
enum WireType {
    static let varint = 0
    static let fixed64 = 1
    static let lengthDelimited = 2
    static let fixed32 = 5
}

/// Little-endian base-128 varint helpers shared by the scanner and the splicer.
enum Varint {
    /// Bytes needed to encode `value`.
    static func size(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }

    static func append(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Decodes a varint at `offset`; nil if it runs past `end` or exceeds 10 bytes.
    @inline(__always)
    static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int) -> (value: UInt64, next: Int)? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var i = offset
        while i < end && shift < 70 {
            let b = bytes[i]
            i += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 {
                // A 10th byte may only carry the top bit of a 64-bit value.
                if shift == 63 && b > 1 { return nil }
                return (result, i)
            }
            shift += 7
        }
        return nil
    }
}
