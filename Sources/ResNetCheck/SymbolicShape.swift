import ResNetIR

/// One dimension during inference: a number, a symbol such as "N", or unknown.
public enum SDim: Hashable, Sendable, CustomStringConvertible {
    case known(Int64)
    case symbol(String)
    case unknown

    public var description: String {
        switch self {
        case let .known(v): return String(v)
        case let .symbol(s): return s
        case .unknown: return "?"
        }
    }

    public var value: Int64? { if case let .known(v) = self { return v }; return nil }

    init(_ d: Dim) {
        switch d.value {
        case let .known(v): self = .known(v)
        case let .symbol(s): self = .symbol(s)
        case .unknown: self = .unknown
        }
    }

    /// Symbolic arithmetic for shape computations (Shape -> Mul/Add -> ConstantOfShape).
    static func * (a: SDim, b: SDim) -> SDim {
        switch (a, b) {
        case let (.known(x), .known(y)): return .known(x &* y)
        case (.known(0), _), (_, .known(0)): return .known(0)
        case (.known(1), let s), (let s, .known(1)): return s
        default: return .unknown
        }
    }

    static func + (a: SDim, b: SDim) -> SDim {
        switch (a, b) {
        case let (.known(x), .known(y)): return .known(x &+ y)
        case (.known(0), let s), (let s, .known(0)): return s
        default: return .unknown
        }
    }
}

public typealias SShape = [SDim]

/// Text such as "[N, 64, 56, 56]" ("[?]" for unknown rank).
public func describe(_ shape: SShape?) -> String {
    guard let shape else { return "[?]" }
    return "[" + shape.map(\.description).joined(separator: ", ") + "]"
}

/// What inference knows about one value: element type, shape, and for small
/// integer tensors (shapes, axes, pads) their values, possibly symbolic.
struct ValueFacts {
    var elemType: Int32
    var shape: SShape?
    var values: [SDim]?
    /// The value is an initializer or computed only from constants.
    var isConstant = false

    static let unknown = ValueFacts(elemType: 0, shape: nil, values: nil)

    /// Known integer values, if every one is a number.
    var ints: [Int64]? {
        guard let values else { return nil }
        let v = values.compactMap(\.value)
        return v.count == values.count ? v : nil
    }

    /// Facts of an initializer or a Constant's tensor (values kept for small int tensors).
    init(tensor t: Tensor) {
        elemType = t.dataType.rawValue
        shape = t.dims.map { .known($0) }
        isConstant = true
        if (t.dataType == .int64 || t.dataType == .int32), let n = t.elementCount, n <= 64 {
            let width = t.dataType == .int64 ? 8 : 4
            values = t.data.withUnsafeBytes { raw -> [SDim] in
                guard raw.count == n * width else { return [] }
                return (0..<n).map { i in
                    width == 8 ? .known(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                        : .known(Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))))
                }
            }
            if values?.count != n { values = nil }
        }
    }

    init(elemType: Int32, shape: SShape?, values: [SDim]? = nil, isConstant: Bool = false) {
        self.elemType = elemType
        self.shape = shape
        self.values = values
        self.isConstant = isConstant
    }
}
