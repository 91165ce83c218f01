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

    public init(_ kind: Kind, attribute: String? = nil, _ message: String, expected: String? = nil, actual: String? = nil) {
        self.kind = kind
        self.attribute = attribute
        self.message = message
        self.expected = expected
        self.actual = actual
    }

    static func invalid(_ message: String, attribute: String? = nil, expected: String? = nil, actual: String? = nil) -> ShapeError {
        ShapeError(.invalid, attribute: attribute, message, expected: expected, actual: actual)
    }

    static func unsupported(_ message: String) -> ShapeError { ShapeError(.unsupported, message) }

    public var description: String {
        var s = message
        if let expected { s += "; expected \(expected)" }
        if let actual { s += ", actual \(actual)" }
        return s
    }
}
