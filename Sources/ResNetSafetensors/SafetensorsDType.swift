import ResNetIR

/// The element types a .safetensors header may name, spelled as the format
/// does. Only whole-byte types: the sub-byte F4/F6 kinds pack elements across
/// bytes in ways ResNetIR does not model, so they are refused as unknown.
public enum SafetensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL", u8 = "U8", i8 = "I8"
    case f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case f64 = "F64", i64 = "I64", u64 = "U64", c64 = "C64"

    /// The matching ResNetIR (ONNX) element type.
    public var dataType: DataType {
        switch self {
        case .bool: return .bool
        case .u8: return .uint8
        case .i8: return .int8
        case .f8e5m2: return .float8e5m2
        case .f8e4m3: return .float8e4m3fn
        case .f8e8m0: return .float8e8m0
        case .i16: return .int16
        case .u16: return .uint16
        case .f16: return .float16
        case .bf16: return .bfloat16
        case .i32: return .int32
        case .u32: return .uint32
        case .f32: return .float
        case .f64: return .double
        case .i64: return .int64
        case .u64: return .uint64
        case .c64: return .complex64
        }
    }

    /// The safetensors spelling of an ONNX element type, or nil if the format has none.
    public init?(_ dataType: DataType) {
        guard let match = Self.allCases.first(where: { $0.dataType == dataType }) else { return nil }
        self = match
    }

    /// Looks `name` up by its bytes: String == would match canonically
    /// equivalent spellings that another reader treats as different names.
    init?(exactly name: String) {
        guard let match = Self.allCases.first(where: { $0.rawValue.utf8.elementsEqual(name.utf8) }) else { return nil }
        self = match
    }

    /// Bytes `elements` elements occupy, or nil on overflow.
    func byteCount(elements: Int) -> Int? { dataType.byteCount(elements: elements) }
}
