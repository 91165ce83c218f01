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
    /// Packings by key, of whatever kind the key's prefix names ("conv", "gemm", "winograd":
    /// [PackedA]; "qlinearconv": the integer products' weights with their requantizations).
    private var packings: [String: Any] = [:]

    /// The packing under `key`, else `charge()` (the plan's budget check) then `make()`. A plan
    /// reusing another's packing charges nothing: it allocates nothing. Packings are read-only
    /// once built. (A key made for another kind is not taken: it would be made again.)
    func shared<V>(_ key: String, charge: () throws -> Void, make: () throws -> V) rethrows -> V {
        if let v = packings[key] as? V { return v }
        try charge()
        let v = try make()
        packings[key] = v
        return v
    }

    /// A float product's packed weights (`shared`).
    func packed(_ key: String, charge: () throws -> Void, make: () throws -> [PackedA]) rethrows -> [PackedA] {
        try shared(key, charge: charge, make: make)
    }

    /// A cache that reads this one's packings and keeps its own new ones apart until `commit`:
    /// plans that may yet be discarded (the per-thread plans of a batch, when they do not fit)
    /// leave nothing behind.
    func trial() -> PreparedWeights {
        let t = PreparedWeights()
        t.packings = packings
        return t
    }

    /// Keeps the packings `trial` made.
    func commit(_ trial: PreparedWeights) {
        packings.merge(trial.packings) { current, _ in current }
    }
}
