import ResNetIR

/// Converts ONNX's typed tensor fields (float_data, int32_data, ...) to the raw
/// little-endian layout the IR keeps. Which field may hold which type is ONNX's
/// rule (onnx.proto, TensorProto): a mismatch is a `dataFieldMismatch`.
enum TypedTensorData {
    static func fromFloats(_ values: UnsafeBufferPointer<Float>, as type: DataType, path: String) throws -> [UInt8] {
        guard type == .float || type == .complex64 else {
            throw ONNXError.dataFieldMismatch(path: path, field: "float_data", dataType: type.description)
        }
        return littleEndianBytes(values) { $0.bitPattern }
    }

    static func fromDoubles(_ values: UnsafeBufferPointer<Double>, as type: DataType, path: String) throws -> [UInt8] {
        guard type == .double || type == .complex128 else {
            throw ONNXError.dataFieldMismatch(path: path, field: "double_data", dataType: type.description)
        }
        return littleEndianBytes(values) { $0.bitPattern }
    }

    static func fromInt64s(_ values: UnsafeBufferPointer<Int64>, as type: DataType, path: String) throws -> [UInt8] {
        guard type == .int64 else {
            throw ONNXError.dataFieldMismatch(path: path, field: "int64_data", dataType: type.description)
        }
        return littleEndianBytes(values) { UInt64(bitPattern: $0) }
    }

    static func fromUInt64s(_ values: UnsafeBufferPointer<UInt64>, as type: DataType, path: String) throws -> [UInt8] {
        switch type {
        case .uint64: return littleEndianBytes(values) { $0 }
        case .uint32: return littleEndianBytes(values) { UInt32(truncatingIfNeeded: $0) }
        default: throw ONNXError.dataFieldMismatch(path: path, field: "uint64_data", dataType: type.description)
        }
    }

    /// int32_data holds one element per entry for 8-, 16- and 32-bit types, and
    /// one already-packed byte per entry for the 4- and 2-bit types.
    static func fromInt32s(_ values: UnsafeBufferPointer<Int32>, as type: DataType, path: String) throws -> [UInt8] {
        switch type {
        case .int32:
            return littleEndianBytes(values) { UInt32(bitPattern: $0) }
        case .int16, .uint16, .float16, .bfloat16:
            return littleEndianBytes(values) { UInt16(truncatingIfNeeded: $0) }
        case .int8, .uint8, .bool, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0,
             .int4, .uint4, .float4e2m1, .int2, .uint2:
            return values.map { UInt8(truncatingIfNeeded: $0) }
        case .float6e2m3, .float6e3m2:
            throw ONNXError.unsupportedFeature(path: path, feature: "\(type) data in int32_data (use raw_data)")
        default:
            throw ONNXError.dataFieldMismatch(path: path, field: "int32_data", dataType: type.description)
        }
    }

    /// Serialises `values` as fixed-width little-endian integers of type `W`.
    private static func littleEndianBytes<T, W: FixedWidthInteger>(
        _ values: UnsafeBufferPointer<T>, _ bits: (T) -> W
    ) -> [UInt8] {
        let width = MemoryLayout<W>.size
        return [UInt8](unsafeUninitializedCapacity: values.count * width) { out, initialized in
            for (i, v) in values.enumerated() {
                var le = bits(v).littleEndian
                // Sound: `out` has room for values.count * width bytes; slot i*width..<(i+1)*width.
                withUnsafeBytes(of: &le) { src in
                    for b in 0..<width { out[i * width + b] = src[b] }
                }
            }
            initialized = values.count * width
        }
    }
}
