import ResNetSystem

/// How many bytes a plan (and a generated input) may allocate. Every size that
/// comes from a model file or a command line is checked against it, with
/// overflow-checked arithmetic, before anything is allocated.
public struct MemoryBudget: Sendable, Equatable, CustomStringConvertible {
    public let bytes: Int

    public init(bytes: Int) { self.bytes = max(0, bytes) }

    /// Half of physical memory (8 GiB where the machine does not say).
    public static var `default`: MemoryBudget {
        MemoryBudget(bytes: (ProcessInfoLite.physicalMemoryBytes() ?? (16 << 30)) / 2)
    }

    public var description: String { MemoryBudget.format(bytes) }

    /// Checks `count` elements of `elementSize` bytes (a product of file or
    /// command-line numbers) against the budget; returns the byte count.
    @discardableResult
    public func check(elements count: Int, elementSize: Int = 4, what: String) throws -> Int {
        let (total, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard count >= 0, !overflow else { throw ExecError.overBudget(what: what, bytes: nil, budget: bytes) }
        guard total <= bytes else { throw ExecError.overBudget(what: what, bytes: total, budget: bytes) }
        return total
    }

    /// Element count of `shape`, overflow-checked, or nil when it does not fit an Int.
    /// Like the IR's: the dims' product with 0s counted as 1 must fit too.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1, extent = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            let (e, eo) = extent.multipliedReportingOverflow(by: max(d, 1))
            if o || eo { return nil }
            (n, extent) = (p, e)
        }
        return n
    }

    /// "12.0 GiB", "512 B": sizes in errors, in binary units.
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = Double(bytes), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        if u == 0 { return "\(bytes) B" }
        let tenths = (v * 10).rounded() / 10
        return "\(tenths) \(units[u])"
    }
}
