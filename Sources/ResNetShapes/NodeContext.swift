import ResNetIR

/// The inputs and attributes one rule sees. Attribute readers check the
/// attribute's type and range and name it in the error.
public struct NodeContext {
    public let node: Node
    public let inputs: [ValueFacts?]
    public let opset: Int64

    public init(node: Node, inputs: [ValueFacts?], opset: Int64) {
        self.node = node
        self.inputs = inputs
        self.opset = opset
    }

    func input(_ i: Int) -> ValueFacts? { i < inputs.count ? inputs[i] : nil }
    func shape(_ i: Int) -> SShape? { input(i)?.shape }
    var elemType: Int32 { input(0)?.elemType ?? 0 }
    /// Whether optional input `i` is given (a non-empty name).
    func has(_ i: Int) -> Bool { i < node.inputs.count && !node.inputs[i].isEmpty }

    func int(_ name: String, _ fallback: Int64) throws -> Int64 {
        guard let a = node.attribute(name) else { return fallback }
        guard let v = a.int else { throw ShapeError.invalid("attribute '\(name)' is not an INT", attribute: name) }
        return v
    }

    /// An INT attribute that must lie in `range`.
    func int(_ name: String, _ fallback: Int64, in range: ClosedRange<Int64>) throws -> Int64 {
        let v = try int(name, fallback)
        guard range.contains(v) else {
            throw ShapeError.invalid("attribute '\(name)' is \(v)", attribute: name, expected: Self.describe(range), actual: String(v))
        }
        return v
    }

    func ints(_ name: String) throws -> [Int64]? {
        guard let a = node.attribute(name) else { return nil }
        guard let v = a.ints else { throw ShapeError.invalid("attribute '\(name)' is not INTS", attribute: name) }
        return v
    }

    func string(_ name: String) throws -> String? {
        guard let a = node.attribute(name) else { return nil }
        guard let v = a.string else { throw ShapeError.invalid("attribute '\(name)' is not a STRING", attribute: name) }
        return v
    }

    func bool(_ name: String, _ fallback: Bool) throws -> Bool { try int(name, fallback ? 1 : 0, in: 0...1) != 0 }

    /// An int list given as attribute (older opsets) or as input `index` (newer).
    /// nil when neither is given; `.unknown` when the input is given but not a constant.
    func intsFromAttributeOrInput(_ name: String, input index: Int) throws -> IntsArgument {
        if let a = try ints(name) { return .known(a) }
        guard has(index) else { return .absent }
        if let v = input(index)?.ints { return .known(v) }
        return .unknown
    }

    static func describe(_ r: ClosedRange<Int64>) -> String {
        if r.upperBound == .max { return ">= \(r.lowerBound)" }
        if r.lowerBound == .min { return "<= \(r.upperBound)" }
        return "\(r.lowerBound)...\(r.upperBound)"
    }
}

/// An integer list operand: given and known, given but computed at run time, or absent.
enum IntsArgument {
    case known([Int64])
    case unknown
    case absent

    var values: [Int64]? { if case let .known(v) = self { return v }; return nil }
}

/// A normalised axis in 0..<rank, or a shape error naming it.
func normalizedAxis(_ a: Int64, rank: Int, _ what: String = "axis") throws -> Int {
    let r = Int64(rank)
    guard a >= -r && a < r else {
        throw ShapeError.invalid("\(what) \(a) is out of range for rank \(rank)", attribute: what, expected: "\(-r)...\(r - 1)", actual: String(a))
    }
    return Int(a < 0 ? a + r : a)
}

/// Normalised axes with duplicates refused.
func normalizedAxes(_ given: [Int64], rank: Int, _ what: String = "axes") throws -> [Int] {
    let axes = try given.map { try normalizedAxis($0, rank: rank, what) }
    guard Set(axes).count == axes.count else {
        throw ShapeError.invalid("\(what) \(given) repeat an axis", attribute: what, expected: "distinct axes", actual: "\(given)")
    }
    return axes
}
