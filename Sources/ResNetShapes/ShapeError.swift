/// Why a shape rule produced no shapes: the node's inputs or attributes break
/// the operator's rules (`invalid`), or the operator is not one the library
/// knows (`unsupported`). The walker adds the node's name.
public struct ShapeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case invalid, unsupported }
    public let kind: Kind
    /// The attribute or input at fault ("strides", "input 1"), when one is.
    public let attribute: String?
    public let message: String
    public let expected: String?
    public let actual: String?
    /// Set when a quantization parameter (scale, zero point, axis) is at fault: the checker gives those their own codes.
    public let quantization: QuantizationFault?

    public init(_ kind: Kind, attribute: String? = nil, _ message: String, expected: String? = nil, actual: String? = nil,
                quantization: QuantizationFault? = nil) {
        self.kind = kind
        self.attribute = attribute
        self.message = message
        self.expected = expected
        self.actual = actual
        self.quantization = quantization
    }

    static func invalid(_ message: String, attribute: String? = nil, expected: String? = nil, actual: String? = nil) -> ShapeError {
        ShapeError(.invalid, attribute: attribute, message, expected: expected, actual: actual)
    }

    static func unsupported(_ message: String) -> ShapeError { ShapeError(.unsupported, message) }

    static func quantization(_ fault: QuantizationFault, _ message: String, attribute: String, expected: String, actual: String) -> ShapeError {
        ShapeError(.invalid, attribute: attribute, message, expected: expected, actual: actual, quantization: fault)
    }

    public var description: String {
        var s = message
        if let expected { s += "; expected \(expected)" }
        if let actual { s += ", actual \(actual)" }
        return s
    }
}

/// Which rule a scale or zero point breaks (ONNX QuantizeLinear/DequantizeLinear and the QLinear* operators).
public enum QuantizationFault: String, Sendable, Equatable, CaseIterable {
    /// A scale that is not FLOAT, FLOAT16 or BFLOAT16.
    case scaleType
    /// A scale that is neither a scalar nor 1-D with one value per channel of the quantized axis.
    case scaleShape
    /// A zero point whose element type the operator does not take (int8/uint8; int32 for a bias).
    case zeroPointType
    /// A zero point whose shape is not its scale's.
    case zeroPointShape
    /// A per-channel axis outside the quantized tensor's rank.
    case axis
}
