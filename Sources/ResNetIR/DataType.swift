/// Element type of a tensor. Raw values are ONNX's `TensorProto.DataType`
/// numbers, which `.rnw` uses too, so no mapping table can drift.
public enum DataType: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7
    case string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13
    case complex64 = 14, complex128 = 15, bfloat16 = 16
    case float8e4m3fn = 17, float8e4m3fnuz = 18, float8e5m2 = 19, float8e5m2fnuz = 20
    case uint4 = 21, int4 = 22, float4e2m1 = 23, float8e8m0 = 24, uint2 = 25, int2 = 26
    case float6e2m3 = 27, float6e3m2 = 28

    /// Bits one element occupies in ONNX's raw (little-endian, fixed-width)
    /// layout; nil for strings, which have no fixed width. 4-, 2- and 6-bit
    /// types pack several elements per byte (see `byteCount(elements:)`).
    public var bitsPerElement: Int? {
        switch self {
        case .string: return nil
        case .bool, .uint8, .int8, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float8e8m0:
            return 8
        case .uint16, .int16, .float16, .bfloat16: return 16
        case .float, .int32, .uint32: return 32
        case .int64, .uint64, .double, .complex64: return 64
        case .complex128: return 128
        case .uint4, .int4, .float4e2m1: return 4
        case .uint2, .int2: return 2
        case .float6e2m3, .float6e3m2: return 6
        }
    }

    /// Bytes of raw data `elements` elements occupy (sub-byte types round up to
    /// whole bytes, as ONNX packs them), or nil on overflow or for strings.
    public func byteCount(elements: Int) -> Int? {
        guard let bits = bitsPerElement, elements >= 0 else { return nil }
        let (totalBits, overflow) = elements.multipliedReportingOverflow(by: bits)
        guard !overflow else { return nil }
        return totalBits / 8 + (totalBits % 8 == 0 ? 0 : 1)
    }

    /// ONNX's upper-case name, as in error messages and the spec.
    public var description: String {
        switch self {
        case .float: return "FLOAT"
        case .uint8: return "UINT8"
        case .int8: return "INT8"
        case .uint16: return "UINT16"
        case .int16: return "INT16"
        case .int32: return "INT32"
        case .int64: return "INT64"
        case .string: return "STRING"
        case .bool: return "BOOL"
        case .float16: return "FLOAT16"
        case .double: return "DOUBLE"
        case .uint32: return "UINT32"
        case .uint64: return "UINT64"
        case .complex64: return "COMPLEX64"
        case .complex128: return "COMPLEX128"
        case .bfloat16: return "BFLOAT16"
        case .float8e4m3fn: return "FLOAT8E4M3FN"
        case .float8e4m3fnuz: return "FLOAT8E4M3FNUZ"
        case .float8e5m2: return "FLOAT8E5M2"
        case .float8e5m2fnuz: return "FLOAT8E5M2FNUZ"
        case .uint4: return "UINT4"
        case .int4: return "INT4"
        case .float4e2m1: return "FLOAT4E2M1"
        case .float8e8m0: return "FLOAT8E8M0"
        case .uint2: return "UINT2"
        case .int2: return "INT2"
        case .float6e2m3: return "FLOAT6E2M3"
        case .float6e3m2: return "FLOAT6E3M2"
        }
    }
}

/// Number of elements of a tensor with these dims, or nil if a dim is negative
/// or the product overflows Int. The product of the dims with 0s counted as 1
/// must fit too: a [0, 2^32, 2^32] tensor is empty, but every stride, inner
/// count or kernel volume computed from its dims would overflow.
public func elementCount(_ dims: [Int64]) -> Int? {
    var count = 1, extent = 1
    for d in dims {
        guard let d = Int(exactly: d), d >= 0 else { return nil }
        let (p, overflow) = count.multipliedReportingOverflow(by: d)
        let (e, extentOverflow) = extent.multipliedReportingOverflow(by: max(d, 1))
        guard !overflow, !extentOverflow else { return nil }
        (count, extent) = (p, e)
    }
    return count
}
