import Foundation
import Testing
@testable import ResNetCLI

/// parity's element rule at its edges: NaN, ±Inf, and each tolerance alone.
struct ParityElementRuleTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let actual: Double, expected: Double
        let atol: Double, rtol: Double
        let nanEqual: Bool
        let verdict: ElementVerdict
        var testDescription: String { name }
        init(_ name: String, _ actual: Double, _ expected: Double, atol: Double = 1e-4, rtol: Double = 1e-4,
             nanEqual: Bool = false, _ verdict: ElementVerdict) {
            (self.name, self.actual, self.expected, self.atol, self.rtol, self.nanEqual, self.verdict) =
                (name, actual, expected, atol, rtol, nanEqual, verdict)
        }
    }

    static let inf = Double.infinity, nan = Double.nan
    static let cases: [Case] = [
        Case("NaN/NaN without --nan-equal", nan, nan, .nanMismatch),
        Case("NaN/NaN with --nan-equal", nan, nan, nanEqual: true, .match),
        Case("NaN/1", nan, 1, .nanMismatch),
        Case("1/NaN", 1, nan, .nanMismatch),
        Case("NaN/1 with --nan-equal", nan, 1, nanEqual: true, .nanMismatch),
        Case("NaN/1 with huge tolerances", nan, 1, atol: 1e300, rtol: 1e300, .nanMismatch),
        Case("Inf/NaN is a NaN mismatch", inf, nan, .nanMismatch),
        Case("Inf/Inf", inf, inf, .match),
        Case("-Inf/-Inf", -inf, -inf, .match),
        Case("Inf/-Inf", inf, -inf, .infMismatch),
        Case("-Inf/Inf", -inf, inf, .infMismatch),
        Case("Inf/1e38", inf, 1e38, .infMismatch),
        Case("1e38/Inf", 1e38, inf, .infMismatch),
        Case("Inf/1e38 with huge tolerances", inf, 1e38, atol: 1e300, rtol: 1e300, .infMismatch),
        Case("equal", 0.5, 0.5, atol: 0, rtol: 0, .match),
        Case("-0/0 at zero tolerance", -0.0, 0, atol: 0, rtol: 0, .match),
        Case("one ulp at zero tolerance", Double(Float(1).nextUp), 1, atol: 0, rtol: 0, .outOfTolerance),
        Case("within atol", 1.00005, 1, atol: 1e-4, rtol: 0, .match),
        Case("outside atol", 1.001, 1, atol: 1e-4, rtol: 0, .outOfTolerance),
        Case("within rtol", 1000.5, 1000, atol: 0, rtol: 1e-3, .match),
        Case("outside rtol", 1002, 1000, atol: 0, rtol: 1e-3, .outOfTolerance),
        Case("rtol is relative to the reference", 2, 1, atol: 0, rtol: 0.6, .outOfTolerance),
        Case("rtol is relative to the reference (swapped)", 1, 2, atol: 0, rtol: 0.6, .match),
        Case("outside atol but within rtol passes", 1.005, 1, atol: 1e-4, rtol: 1e-2, .match),
        Case("outside rtol but within atol passes", 0.00105, 0.001, atol: 1e-4, rtol: 1e-2, .match),
        Case("outside both", 1.05, 1, atol: 1e-2, rtol: 1e-2, .outOfTolerance),
        Case("largest floats of opposite sign", Double(Float.greatestFiniteMagnitude), -Double(Float.greatestFiniteMagnitude),
             .outOfTolerance),
    ]

    @Test(arguments: cases)
    func verdict(_ c: Case) {
        let t = ParityTolerance(atol: c.atol, rtol: c.rtol, nanEqual: c.nanEqual)
        #expect(t.verdict(actual: c.actual, expected: c.expected) == c.verdict)
    }
}

/// The statistics over a whole output: failures counted element by element,
/// summary figures over finite pairs only, always encodable as JSON.
struct ParityStatsTests {
    static let tol = ParityTolerance(atol: 1e-4, rtol: 1e-4)

    static func stats(_ a: [Float], _ b: [Float], _ t: ParityTolerance = tol, shape: [Int]? = nil) -> ParityStats {
        ParityStats(name: "y", shape: shape ?? [a.count], actual: a, expected: b, tolerance: t)
    }

    @Test func oneNaNFailsByCountWhileTheFiguresStayFinite() throws {
        let s = Self.stats([1, .nan, 3, 4.5], [1, 2, 3, 4])
        #expect(!s.pass)
        #expect(s.failingElements == 2 && s.nanMismatches == 1 && s.infMismatches == 0)
        #expect(s.finitePairs == 3 && s.nonFinitePairs == 1)
        #expect(s.maxAbsError == 0.5 && s.meanAbsError == 0.5 / 3)
        #expect(s.cosineSimilarity.isFinite && s.maxRelError.isFinite)
        _ = try JSONEncoder().encode(s)  // a NaN or Inf figure would throw here
    }

    @Test func aNaNAloneFailsEvenWhenTheFiguresLookPerfect() {
        let s = Self.stats([.nan, 2], [1, 2])
        #expect(s.maxAbsError == 0 && s.cosineSimilarity == 1)
        #expect(!s.pass && s.failingElements == 1 && s.nanMismatches == 1)
    }

    @Test func nanOnBothSidesPassesOnlyWithNanEqual() {
        let a: [Float] = [.nan, 1, .nan], b: [Float] = [.nan, 1, .nan]
        let strict = Self.stats(a, b)
        #expect(!strict.pass && strict.nanMismatches == 2 && strict.failingElements == 2)
        let lenient = Self.stats(a, b, ParityTolerance(atol: 1e-4, rtol: 1e-4, nanEqual: true))
        #expect(lenient.pass && lenient.nanMismatches == 0 && lenient.failingElements == 0)
        #expect(lenient.finitePairs == 1 && lenient.nonFinitePairs == 2)
    }

    @Test func infinitiesMustMatchInSign() throws {
        let s = Self.stats([.infinity, -.infinity, .infinity, 1], [.infinity, .infinity, 3e38, 1])
        #expect(!s.pass && s.infMismatches == 2 && s.nanMismatches == 0 && s.failingElements == 2)
        #expect(s.finitePairs == 1 && s.maxAbsError == 0)
        _ = try JSONEncoder().encode(s)
        #expect(Self.stats([.infinity, -.infinity], [.infinity, -.infinity]).pass)
    }

    @Test func outOfToleranceCountsEveryElement() {
        let s = Self.stats([1, 2.5, 3, 5], [1, 2, 3, 4])
        #expect(s.failingElements == 2 && s.nanMismatches == 0 && s.maxAbsError == 1)
        #expect(Self.stats([1, 2], [1, 2]).pass)
    }

    @Test func aCountMismatchFails() {
        #expect(!Self.stats([1, 2], [1, 2, 3]).pass)
    }

    @Test func topFiveWithANaNIsDeterministic() {
        // Class 0 is NaN in A: it ranks last, so A's top-5 is 1...5 and differs from B's 0...4; both top-1s are class 1.
        let a: [Float] = [.nan, 9, 8, 7, 6, 5, 0], b: [Float] = [8.5, 9, 8, 7, 6, 5, 0]
        let s = Self.stats(a, b, shape: [1, 7])
        #expect(s.top5Agreement == 0 && s.top1Agreement == 1)
        #expect(TopK.indices([.nan, 1, .nan, 1, 2][...], 5) == [4, 1, 3, 0, 2])
    }

    @Test func jsonKeysAreSnakeCaseAndAlwaysPresent() throws {
        let data = try JSONEncoder().encode(Self.stats([1], [1]))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["name", "shape", "elements", "finite_pairs", "non_finite_pairs", "max_abs_error",
                                     "max_rel_error", "mean_abs_error", "cosine_similarity", "nan_mismatches",
                                     "inf_mismatches", "failing_elements", "top1_agreement", "top5_agreement", "noise_floor",
                                     "floor_multiple", "pass"])
        #expect(object["top5_agreement"] is NSNull)
        #expect(object["noise_floor"] is NSNull && object["floor_multiple"] is NSNull)
    }
}

/// `--tolerance auto`: an element also passes within the floor multiple x the noise floor, never past it.
struct NoiseFloorRuleTests {
    @Test(arguments: [(0.0009, true), (0.0039, true), (0.0041, false)])
    func withinFloor(_ c: (Double, Bool)) {
        let t = ParityTolerance(atol: 1e-4, rtol: 1e-4, noiseFloor: 1e-3, floorMultiple: 4)
        #expect((t.verdict(actual: 1 + c.0, expected: 1) == .match) == c.1)
    }

    @Test func floorNeverExcusesNaNOrInfinity() {
        let t = ParityTolerance(atol: 1e-4, rtol: 1e-4, noiseFloor: .greatestFiniteMagnitude, floorMultiple: 4)
        #expect(t.verdict(actual: .nan, expected: 1) == .nanMismatch)
        #expect(t.verdict(actual: .infinity, expected: 1) == .infMismatch)
    }
}
