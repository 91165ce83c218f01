import ResNetKernelsReference

/// Weights packed at plan time, shared by the plans of one Executor: the per-thread plans of a
/// batch run image by image (one per thread; resnet50's packed weights are 100 MB, which each
/// plan would otherwise hold again), and the plans of other input shapes. Packed weights are
/// read-only once built, so plans running side by side may share them.
///
/// A key names the node (its first output: unique in a valid graph) and everything the packing
/// depends on besides the weights (the kind of product, its panel rows), so two plans that pack
/// a node differently never share.
final class PreparedWeights {
    private var packed: [String: [PackedA]] = [:]
    /// Other kinds of packing (the integer products' weights with their requantizations), by key.
    private var others: [String: Any] = [:]

    /// The weights packed under `key`, else `charge()` (the plan's budget check) then `make()`.
    /// A plan reusing another's packing charges nothing: it allocates nothing.
    func packed(_ key: String, charge: () throws -> Void, make: () throws -> [PackedA]) rethrows -> [PackedA] {
        if let p = packed[key] { return p }
        try charge()
        let p = try make()
        packed[key] = p
        return p
    }

    /// `packed` for any other kind of packing `V` (read-only once built, as PackedA is).
    func shared<V>(_ key: String, charge: () throws -> Void, make: () throws -> V) rethrows -> V {
        if let v = others[key] as? V { return v }
        try charge()
        let v = try make()
        others[key] = v
        return v
    }

    /// A cache that reads this one's packings and keeps its own new ones apart until `commit`:
    /// plans that may yet be discarded (the per-thread plans of a batch, when they do not fit)
    /// leave nothing behind.
    func trial() -> PreparedWeights {
        let t = PreparedWeights()
        t.packed = packed
        t.others = others
        return t
    }

    /// Keeps the packings `trial` made.
    func commit(_ trial: PreparedWeights) {
        packed.merge(trial.packed) { current, _ in current }
        others.merge(trial.others) { current, _ in current }
    }
}
