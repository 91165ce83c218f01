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

    public init(_ d: Dim) {
        switch d.value {
        case let .known(v): self = .known(v)
        case let .symbol(s): self = .symbol(s)
        case .unknown: self = .unknown
        }
    }

    /// Checked symbolic product: numbers multiply (overflow is an error), 0 and 1 absorb symbols.
    public static func times(_ a: SDim, _ b: SDim) throws -> SDim {
        switch (a, b) {
        case let (.known(x), .known(y)):
            let (p, o) = x.multipliedReportingOverflow(by: y)
            guard !o else { throw ShapeError.invalid("\(x) x \(y) overflows a 64-bit size") }
            return .known(p)
        case (.known(0), _), (_, .known(0)): return .known(0)
        case (.known(1), let s), (let s, .known(1)): return s
        default: return .unknown
        }
    }

    /// Checked symbolic sum: numbers add (overflow is an error), 0 absorbs symbols.
    public static func plus(_ a: SDim, _ b: SDim) throws -> SDim {
        switch (a, b) {
        case let (.known(x), .known(y)):
            let (s, o) = x.addingReportingOverflow(y)
            guard !o else { throw ShapeError.invalid("\(x) + \(y) overflows a 64-bit size") }
            return .known(s)
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

/// Checked arithmetic on numbers from a file: overflow is a shape error, never a trap.
enum Checked {
    static func add(_ a: Int64, _ b: Int64, _ what: @autoclosure () -> String) throws -> Int64 {
        let (s, o) = a.addingReportingOverflow(b)
        guard !o else { throw ShapeError.invalid("\(what()) overflows: \(a) + \(b)") }
        return s
    }
    static func sub(_ a: Int64, _ b: Int64, _ what: @autoclosure () -> String) throws -> Int64 {
        let (s, o) = a.subtractingReportingOverflow(b)
        guard !o else { throw ShapeError.invalid("\(what()) overflows: \(a) - \(b)") }
        return s
    }
    static func mul(_ a: Int64, _ b: Int64, _ what: @autoclosure () -> String) throws -> Int64 {
        let (p, o) = a.multipliedReportingOverflow(by: b)
        guard !o else { throw ShapeError.invalid("\(what()) overflows: \(a) x \(b)") }
        return p
    }
}

/// Element count of a shape: a number when every dim is known, overflow an error.
/// The known dims' product with 0s counted as 1 must fit as well, so that no
/// stride, inner count or kernel volume of an empty tensor can overflow later.
public func elementCount(_ shape: SShape) throws -> SDim {
    var extent: Int64 = 1
    for d in shape {
        guard let v = d.value else { continue }
        let (e, overflow) = extent.multipliedReportingOverflow(by: max(v, 1))
        guard !overflow else { throw ShapeError.invalid("dims \(describe(shape)) overflow a 64-bit size (zeros aside)", actual: describe(shape)) }
        extent = e
    }
    return try shape.reduce(SDim.known(1)) { try SDim.times($0, $1) }
}

/// Shapes of higher rank than this are refused: nothing in a ResNet comes close,
/// and rank grows by chaining (Gather of indices with their own rank) without bound otherwise.
public let maxRank = 64

/// The number of elements of a fully known shape, or nil.
public func knownCount(_ shape: SShape?) -> Int64? {
    guard let shape else { return nil }
    return try? elementCount(shape).value
}

/// What inference knows about one value: element type, shape, and for small
/// integer tensors (shapes, axes, pads) their values, row-major, possibly symbolic.
public struct ValueFacts: Sendable {
    public var elemType: Int32
    public var shape: SShape?
    public var values: [SDim]?
    /// The value is an initializer or computed only from constants.
    public var isConstant = false

    /// Integer tensors up to this many elements have their values propagated.
    public static let maxFoldedElements = 4096

    public static let unknown = ValueFacts(elemType: 0, shape: nil, values: nil)

    /// Known integer values, if every one is a number.
    public var ints: [Int64]? {
        guard let values else { return nil }
        let v = values.compactMap(\.value)
        return v.count == values.count ? v : nil
    }

    /// Facts of an initializer or a Constant's tensor (values kept for small integer tensors).
    public init(tensor t: Tensor) {
        elemType = t.dataType.rawValue
        shape = t.dims.map { .known($0) }
        isConstant = true
        if t.dataType.isInteger, let n = t.elementCount, n <= ValueFacts.maxFoldedElements, let v = t.integerValues {
            values = v.map { .known($0) }
        }
    }

    public init(elemType: Int32, shape: SShape?, values: [SDim]? = nil, isConstant: Bool = false) {
        self.elemType = elemType
        self.shape = shape
        // Values only travel with a known shape they fill, and only while small.
        if let values, let n = knownCount(shape), n == Int64(values.count), values.count <= ValueFacts.maxFoldedElements {
            self.values = values
        } else {
            self.values = nil
        }
        self.isConstant = isConstant
    }
}

extension DataType {
    /// Integer and BOOL element types: their small tensors are folded as shape arithmetic.
    public var isInteger: Bool {
        switch self {
        case .int64, .int32, .int16, .int8, .uint64, .uint32, .uint16, .uint8, .bool: return true
        default: return false
        }
    }
}
