import Foundation
import Testing
import ResNetExec
import ResNetIR
import ResNetONNX

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/fixtures"
    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .filter { FileManager.default.fileExists(atPath: "\(root)/\($0)/test_data_set_0/output_0.pb") }.sorted()
    }

    static func floats(_ t: Tensor) -> [Float] {
        t.data.withUnsafeBytes { raw in (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) } }
    }

    /// (input, input shape, expected output) of test_data_set_K.
    static func dataSet(_ name: String, _ k: Int) throws -> ([Float], [Int], [Float]) {
        let dir = "\(root)/\(name)/test_data_set_\(k)"
        let x = try ONNXReader.readTensor(path: dir + "/input_0.pb")
        let y = try ONNXReader.readTensor(path: dir + "/output_0.pb")
        return (floats(x), x.dims.map { Int($0) }, floats(y))
    }
}

/// Every fixture through the executor against onnxruntime's stored outputs:
/// within atol 1e-4 and rtol 1e-4 (an element fails only when it exceeds both,
/// as in Polygraphy), identical top-5, at batch 1 and 2, SIMD and reference kernels.
struct FixtureParityTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let fixture: String, reference: Bool
        var testDescription: String { "\(fixture)\(reference ? " (reference kernels)" : "")" }
    }
    static let cases: [Case] = Fixtures.names.flatMap { [Case(fixture: $0, reference: false), Case(fixture: $0, reference: true)] }

    @Test(arguments: cases)
    func matchesOnnxruntime(_ c: Case) throws {
        let model = try ONNXReader.read(path: "\(Fixtures.root)/\(c.fixture)/model.onnx").model
        let executor = Executor(model: model, options: ExecOptions(referenceKernels: c.reference))
        for k in 0..<2 {
            let (x, shape, expected) = try Fixtures.dataSet(c.fixture, k)
            let y = try executor.run(x, shape: shape)[0].values
            #expect(y.count == expected.count)
            var failing = 0, worst: Float = 0
            for (a, b) in zip(y, expected) {
                let d = abs(a - b)
                // Written as "not within" so a NaN on either side (every comparison false) fails
                // rather than slipping through; a == b lets equal infinities match (their d is NaN).
                if !(a == b || d <= 1e-4 || d <= 1e-4 * abs(b)) { failing += 1 }
                if !(d <= worst) { worst = d }  // NaN sticks in the message instead of being dropped by max
            }
            #expect(failing == 0, "\(c) set \(k): \(failing) elements out of tolerance, max abs diff \(worst)")
            let classes = shape[0] > 0 ? y.count / shape[0] : 0
            if classes >= 5 {
                for n in 0..<shape[0] {
                    func top5(_ v: [Float]) -> [Int] { Array(v[(n * classes)..<((n + 1) * classes)].enumerated().sorted { $0.element > $1.element }.prefix(5).map(\.offset)) }
                    #expect(top5(y) == top5(expected), "\(c) set \(k) sample \(n): top-5 differs")
                }
            }
        }
    }
}

/// `run` hands back float32 whatever the plan computes in: the float32 plan's values as they
/// stand, the float64 plan's rounded once (ExecutionPlanOf.float32, which skips the generic
/// per-element conversion), each equal to its own runExact.
struct RunOutputTests {
    @Test func runMatchesRunExactInBothPrecisions() throws {
        let name = try #require(Fixtures.names.first)
        let model = try ONNXReader.read(path: "\(Fixtures.root)/\(name)/model.onnx").model
        let (x, shape, _) = try Fixtures.dataSet(name, 0)
        let executor = Executor(model: model, options: ExecOptions())
        let single = try executor.plan(inputShape: shape)
        let (ran, exact) = (try single.run(x), try single.runExact(x))
        #expect(ran.map(\.values) == exact.map(\.values))
        let double = try executor.planFloat64(inputShape: shape)
        let (ran64, exact64) = (try double.run(x), try double.runExact(x))
        #expect(ran64.map(\.shape) == exact64.map(\.shape))
        #expect(ran64.map(\.values) == exact64.map { $0.values.map { Float($0) } })
        #expect(ran64.first?.values.isEmpty == false)
    }
}
