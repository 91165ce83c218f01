import Foundation
import Testing
import ResNetFuzz
import ResNetIR
import ResNetONNX
import ResNetRNW
import ResNetSafetensors

/// Every input a fuzzer found (fixtures/fuzz/ENTRY/, saved by scripts/fuzz) is
/// replayed through the entry that found it: a regression is a crash here. The
/// small fixtures (the fuzzers' seeds) go through every entry too, so the
/// round-trip invariants in FuzzEntry are checked on real models in each run.
struct FuzzReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func files(_ folder: String) -> [String] {
        let dir = root.appendingPathComponent(folder).path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { dir + "/" + $0 }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let entry: FuzzEntry
        let path: String
        var testDescription: String { "\(entry.rawValue): \(URL(fileURLWithPath: path).lastPathComponent)" }
    }

    static let findings: [Case] = FuzzEntry.allCases.flatMap { e in files("fixtures/fuzz/\(e.rawValue)").map { Case(entry: e, path: $0) } }

    @Test("every saved fuzz finding replays without a crash", arguments: findings)
    func replayFinding(_ c: Case) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: c.path)))
        c.entry.run(bytes)
    }

    /// The models scripts/fuzz seeds from: every own fixture's model.onnx (and its
    /// .rnw and .safetensors, written here), each through every entry.
    static let seeds: [String] = files("fixtures").map { $0 + "/model.onnx" }.filter { FileManager.default.fileExists(atPath: $0) }

    @Test("the seeds pass every entry, round-trip invariants included")
    func seedsThroughEveryEntry() throws {
        #expect(Self.seeds.count >= 10, "expected the fixture seeds to be present")
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-seeds-\(getpid())").path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        for path in Self.seeds {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let rnwPath = tmp + "/model.rnw"
            // From the path, so a fixture with external data converts too.
            try RNWWriter.write(try ONNXReader.read(path: path).model, to: rnwPath)
            let rnw = try [UInt8](Data(contentsOf: URL(fileURLWithPath: rnwPath)))
            let weights = try SafetensorsWriter.encode(try ONNXReader.read(path: path).model.graph.initializers.compactMap { t in
                SafetensorsDType(t.dataType).map { SafetensorsTensor(name: t.name, dtype: $0, shape: t.dims, data: t.data) }
            }, metadata: [StringPair("format", "pt")])
            for e in FuzzEntry.allCases { e.run(bytes); e.run(rnw); e.run(weights) }
        }
    }

    /// scripts/fuzz seeds the safetensors fuzzer from fixtures/safetensors too.
    @Test("the safetensors fixtures pass every entry")
    func safetensorsFixturesThroughEveryEntry() throws {
        let hostile = Self.files("fixtures/safetensors/hostile")
        #expect(hostile.count >= 10, "expected the hostile safetensors fixtures to be present")
        for path in hostile {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            for e in FuzzEntry.allCases { e.run(bytes) }
        }
    }
}
