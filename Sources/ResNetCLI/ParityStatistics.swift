import ResNetExec

/// The element rule of `parity` and the statistics built on it, kept pure so
/// a table test can pin every edge (NaN, ±Inf, the two tolerances).
struct ParityTolerance: Sendable, Equatable {
    var atol: Double
    var rtol: Double
    /// NaN on both sides counts as equal (`--nan-equal`); without it NaN never matches, as in IEEE 754.
    var nanEqual = false
    /// `--tolerance auto`: float32's own noise floor for this output (max |A in float32 - A in float64|)
    /// and the multiple of it an element may differ by; nil with a fixed tolerance.
    var noiseFloor: Double? = nil
    var floorMultiple: Double = 4
}

/// How one element compares with its reference.
enum ElementVerdict: Equatable, Sendable {
    case match
    /// Beyond both atol and rtol x |reference| (Polygraphy's rule).
    case outOfTolerance
    /// NaN on either side, and not NaN on both under --nan-equal.
    case nanMismatch
    /// ±Inf on either side (and no NaN) without the same infinity on the other.
    case infMismatch

    var fails: Bool { self != .match }
}

extension ParityTolerance {
    /// NaN and Inf are decided before any arithmetic: |Inf - Inf| is NaN and
    /// every comparison with NaN is false, so the tolerance test alone would
    /// pass them silently.
    func verdict(actual a: Double, expected b: Double) -> ElementVerdict {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN && nanEqual ? .match : .nanMismatch }
        if a.isInfinite || b.isInfinite { return a == b ? .match : .infMismatch }
        let d = abs(a - b)
        if let floor = noiseFloor, d <= floorMultiple * floor { return .match }
        return d > atol && d > rtol * abs(b) ? .outOfTolerance : .match
    }
}

/// Error statistics of one output against its reference. The summary figures
/// (max/mean abs, max rel, cosine) cover only the pairs where both sides are
/// finite, so one NaN cannot turn them into NaN (or into an unencodable JSON
/// number); pairs with a NaN or Inf are counted separately, and every failing
/// pair, finite or not, is in `failingElements`, which alone decides the verdict.
struct ParityStats: Encodable {
    let name: String
    let shape: [Int]
    let elements: Int
    /// Pairs with both sides finite: what the summary figures are computed over.
    let finitePairs: Int
    /// Pairs with a NaN or ±Inf on either side, matching or not.
    let nonFinitePairs: Int
    let maxAbsError: Double
    let maxRelError: Double
    let meanAbsError: Double
    let cosineSimilarity: Double
    let nanMismatches: Int
    let infMismatches: Int
    /// Every failing element: out of tolerance, NaN mismatches and Inf mismatches.
    let failingElements: Int
    /// For [N, classes] outputs: fraction of samples whose top-1 / top-5 agree.
    let top1Agreement: Double?
    let top5Agreement: Double?
    /// `--tolerance auto`: float32's noise floor for this output and the multiple allowed.
    let noiseFloor: Double?
    let floorMultiple: Double?
    let pass: Bool

    enum CodingKeys: String, CodingKey {
        case name, shape, elements, pass
        case finitePairs = "finite_pairs", nonFinitePairs = "non_finite_pairs"
        case maxAbsError = "max_abs_error", maxRelError = "max_rel_error", meanAbsError = "mean_abs_error"
        case cosineSimilarity = "cosine_similarity"
        case nanMismatches = "nan_mismatches", infMismatches = "inf_mismatches", failingElements = "failing_elements"
        case top1Agreement = "top1_agreement", top5Agreement = "top5_agreement"
        case noiseFloor = "noise_floor", floorMultiple = "floor_multiple"
    }

    /// Every key is always present (null when not applicable), so consumers can rely on them.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(shape, forKey: .shape)
        try c.encode(elements, forKey: .elements)
        try c.encode(finitePairs, forKey: .finitePairs)
        try c.encode(nonFinitePairs, forKey: .nonFinitePairs)
        try c.encode(maxAbsError, forKey: .maxAbsError)
        try c.encode(maxRelError, forKey: .maxRelError)
        try c.encode(meanAbsError, forKey: .meanAbsError)
        try c.encode(cosineSimilarity, forKey: .cosineSimilarity)
        try c.encode(nanMismatches, forKey: .nanMismatches)
        try c.encode(infMismatches, forKey: .infMismatches)
        try c.encode(failingElements, forKey: .failingElements)
        try c.encode(top1Agreement, forKey: .top1Agreement)
        try c.encode(top5Agreement, forKey: .top5Agreement)
        try c.encode(noiseFloor, forKey: .noiseFloor)
        try c.encode(floorMultiple, forKey: .floorMultiple)
        try c.encode(pass, forKey: .pass)
    }

    init(name: String, shape: [Int], actual: [Float], expected: [Float], tolerance: ParityTolerance) {
        self.name = name
        self.shape = shape
        elements = expected.count
        var maxAbs = 0.0, maxRel = 0.0, sumAbs = 0.0, dot = 0.0, na = 0.0, nb = 0.0
        var finite = 0, nans = 0, infs = 0, failing = 0
        for (fa, fb) in zip(actual, expected) {
            let (a, b) = (Double(fa), Double(fb))
            switch tolerance.verdict(actual: a, expected: b) {
            case .match: break
            case .outOfTolerance: failing += 1
            case .nanMismatch: failing += 1; nans += 1
            case .infMismatch: failing += 1; infs += 1
            }
            guard a.isFinite && b.isFinite else { continue }
            // Float inputs widened to Double: no difference or product below can overflow.
            finite += 1
            let d = abs(a - b)
            maxAbs = max(maxAbs, d)
            if b != 0 { maxRel = max(maxRel, d / abs(b)) } else if d > 0 { maxRel = .infinity }
            sumAbs += d
            dot += a * b; na += a * a; nb += b * b
        }
        // A count mismatch is a failure even when every compared pair matched.
        if actual.count != expected.count { failing = max(failing, 1) }
        finitePairs = finite
        nonFinitePairs = min(actual.count, expected.count) - finite
        maxAbsError = maxAbs
        // JSON has no infinity: "relative to an exact 0" is reported as the largest finite Double.
        maxRelError = maxRel.isFinite ? maxRel : Double.greatestFiniteMagnitude
        meanAbsError = finite == 0 ? 0 : sumAbs / Double(finite)
        cosineSimilarity = na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / (na.squareRoot() * nb.squareRoot())
        nanMismatches = nans
        infMismatches = infs
        failingElements = failing
        if shape.count == 2, shape[1] >= 5, shape[0] > 0, actual.count == expected.count,
           MemoryBudget.elementCount(shape) == expected.count {
            let (n, c) = (shape[0], shape[1])
            func top(_ v: [Float], _ i: Int, _ k: Int) -> [Int] { TopK.indices(v[(i * c)..<((i + 1) * c)], k) }
            top1Agreement = Double((0..<n).filter { top(actual, $0, 1) == top(expected, $0, 1) }.count) / Double(n)
            top5Agreement = Double((0..<n).filter { Set(top(actual, $0, 5)) == Set(top(expected, $0, 5)) }.count) / Double(n)
        } else {
            top1Agreement = nil
            top5Agreement = nil
        }
        noiseFloor = tolerance.noiseFloor
        floorMultiple = tolerance.noiseFloor == nil ? nil : tolerance.floorMultiple
        pass = failing == 0 && (top5Agreement ?? 1) == 1
    }

    /// Whether every finite error is within `multiple` x `floor` (the hint for a failing fixed tolerance).
    static func withinFloor(actual: [Float], expected: [Float], floor: Double, multiple: Double) -> Bool {
        actual.count == expected.count && zip(actual, expected).allSatisfy { a, b in
            a.isFinite && b.isFinite && abs(Double(a) - Double(b)) <= multiple * floor
        }
    }
}

/// Float32's own rounding noise for a model and input: the largest difference
/// between its float32 outputs and a float64 run of the same plan (reference kernels).
enum NoiseFloor {
    static func measure(_ executor: Executor, input: [Float], shape: [Int], float32: [ExecOutput]) throws -> [Double] {
        let exact = try executor.planFloat64(inputShape: shape).runExact(input)
        return zip(float32, exact).map { f, d in
            var worst = 0.0
            for (a, b) in zip(f.values, d.values) where a.isFinite && b.isFinite { worst = max(worst, abs(Double(a) - b)) }
            return worst
        }
    }
}

/// Top-k class indices under a total order. `sorted { $0 > $1 }` is not a
/// strict weak ordering once a NaN is present, which leaves the result
/// unspecified; here NaN ranks below every number and ties go to the lower index.
enum TopK {
    static func indices(_ row: ArraySlice<Float>, _ k: Int) -> [Int] {
        func before(_ x: (offset: Int, element: Float), _ y: (offset: Int, element: Float)) -> Bool {
            switch (x.element.isNaN, y.element.isNaN) {
            case (false, true): return true
            case (true, false): return false
            case (true, true): return x.offset < y.offset
            case (false, false): return x.element != y.element ? x.element > y.element : x.offset < y.offset
            }
        }
        return Array(row.enumerated().sorted(by: before).prefix(k).map(\.offset))
    }
}
