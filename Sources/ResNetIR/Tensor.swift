/// A constant tensor (an initializer, a Constant's value, a tensor attribute).
///
/// Data is always held in ONNX's raw layout: fixed-width little-endian
/// elements, row-major; sub-byte types packed low nibble first. Strings are the
/// one exception and live in `strings`. Loaders normalise every ONNX encoding
/// (raw_data, float_data, int32_data, ...) to this, so later layers see one form.
public struct Tensor: Sendable {
    public var name: String
    public var dataType: DataType
    public var dims: [Int64]
    /// Raw element bytes; empty for STRING tensors.
    public var data: TensorBytes
    /// Elements of a STRING tensor, as bytes (ONNX does not require UTF-8 here).
    public var strings: [[UInt8]]
    public var docString: String
    /// ONNX's chunking (rarely written); kept so a round trip loses nothing.
    public var segment: Segment?
    public var metadata: [StringPair]

    public struct Segment: Sendable, Equatable {
        public var begin: Int64
        public var end: Int64
        public init(begin: Int64, end: Int64) { self.begin = begin; self.end = end }
    }

    public init(name: String, dataType: DataType, dims: [Int64], data: TensorBytes,
                strings: [[UInt8]] = [], docString: String = "", segment: Segment? = nil,
                metadata: [StringPair] = []) {
        self.name = name
        self.dataType = dataType
        self.dims = dims
        self.data = data
        self.strings = strings
        self.docString = docString
        self.segment = segment
        self.metadata = metadata
    }

    /// Element count, or nil if dims are negative or their product overflows.
    public var elementCount: Int? { ResNetIR.elementCount(dims) }

    /// Bytes the raw data must have for these dims and type, or nil (overflow, strings).
    public var expectedByteCount: Int? {
        guard let n = elementCount else { return nil }
        return dataType.byteCount(elements: n)
    }
}

/// A sparse constant: `values` at coordinates `indices` of a tensor of shape `dims`.
public struct SparseTensor: Sendable {
    public var values: Tensor
    public var indices: Tensor
    public var dims: [Int64]
    public init(values: Tensor, indices: Tensor, dims: [Int64]) {
        self.values = values
        self.indices = indices
        self.dims = dims
    }
}

/// A key/value string pair (ONNX StringStringEntryProto); order is kept.
public struct StringPair: Sendable, Equatable, Hashable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}
