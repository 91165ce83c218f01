import Foundation
import ResNetCLI
import ResNetCheck
import ResNetIR
import ResNetONNX
import ResNetRNW
import ResNetSafetensors
import ResNetShapes

/// What each fuzzer (Fuzz/, scripts/fuzz) feeds one input to. A typed error is
/// the expected answer to bad bytes; a finding is anything else: a trap, a
/// hang, an allocation past libFuzzer's -rss_limit_mb, or a broken invariant
/// (checked with `invariant`, a fatalError libFuzzer reports as a crash).
/// The tests replay every saved finding (fixtures/fuzz) through the same entries.
public enum FuzzEntry: String, CaseIterable, Sendable {
    case onnx, rnw, ci, safetensors

    public func run(_ bytes: [UInt8]) {
        switch self {
        case .onnx: Self.onnxReader(bytes)
        case .rnw: Self.rnwReader(bytes)
        case .ci: Self.ciGate(bytes)
        case .safetensors: Self.safetensorsReader(bytes)
        }
    }

    /// The ONNX reader; what it accepts goes through the model-level rules, and
    /// must survive a round trip: written back and read again, nothing differs.
    static func onnxReader(_ bytes: [UInt8]) {
        guard let r = try? ONNXReader.read(bytes: bytes, name: "fuzz.onnx") else { return }
        _ = GraphValidation.problems(r.model.graph)
        _ = ONNXValidation.findings(r.model)
        roundTrip(r.model, format: "onnx", write: { try ONNXWriter.write($0, to: $1) }, read: { try ONNXReader.read(path: $0).model })
    }

    /// The .rnw reader with data checksums on; what it accepts must survive a
    /// round trip through the writer unchanged.
    static func rnwReader(_ bytes: [UInt8]) {
        guard let r = try? RNWReader.read(bytes: bytes) else { return }
        _ = GraphValidation.problems(r.model.graph)
        roundTrip(r.model, format: "rnw", write: { try RNWWriter.write($0, to: $1) }, read: { try RNWReader.read(path: $0).model })
    }

    /// The .safetensors reader; the writer must take everything it accepts, and
    /// reading that back must give the same metadata and tensors (names, dtypes,
    /// shapes, bytes), written again byte for byte the same (the writer's order
    /// is canonical, so the file's own order does not matter).
    static func safetensorsReader(_ bytes: [UInt8]) {
        guard let r = try? SafetensorsReader.read(bytes: bytes) else { return }
        let written: [UInt8], again: SafetensorsContents
        do {
            written = try SafetensorsWriter.encode(r.tensors, metadata: r.metadata)
            again = try SafetensorsReader.read(bytes: written)
        } catch {
            invariant(false, "safetensors round trip of what the reader accepted failed: \(error)")
            return
        }
        // Keyed by bytes: String equality would merge canonically equivalent names.
        func byName(_ c: SafetensorsContents) -> [[UInt8]: SafetensorsTensor] {
            Dictionary(c.tensors.map { (Array($0.name.utf8), $0) }, uniquingKeysWith: { a, _ in a })
        }
        let (before, after) = (byName(r), byName(again))
        invariant(r.tensors.count == again.tensors.count && before.count == r.tensors.count,
                  "safetensors round trip: \(r.tensors.count) tensors read, \(again.tensors.count) after writing")
        for (name, t) in before {
            guard let u = after[name] else { invariant(false, "safetensors round trip lost tensor \(SafetensorsText.quoted(t.name))"); return }
            invariant(u.dtype == t.dtype && u.shape == t.shape && u.data.bytesEqual(t.data),
                      "safetensors round trip changed tensor \(SafetensorsText.quoted(t.name))")
        }
        func sorted(_ m: [StringPair]) -> [[UInt8]] {
            m.map { Array($0.key.utf8) + [0xFF] + Array($0.value.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        }
        invariant(sorted(r.metadata) == sorted(again.metadata), "safetensors round trip changed __metadata__")
        invariant((try? SafetensorsWriter.encode(again.tensors, metadata: again.metadata)) == written,
                  "safetensors: writing what was read back gave other bytes")
    }

    /// Writes a model a reader accepted and reads it back. A typed refusal to write is
    /// fine; refusing to read what was written, or reading back something else, is a
    /// finding, and the trap is how a fuzz harness reports one (this target only).
    static func roundTrip(_ model: Model, format: String, write: (Model, String) throws -> Void, read: (String) throws -> Model) {
        let path = scratchDirectory + "/roundtrip." + format
        guard (try? write(model, path)) != nil else { return }
        let again: Model
        do { again = try read(path) } catch {
            invariant(false, "the .\(format) reader refuses what the writer wrote from a model it read: \(error)")
            return
        }
        let d = ModelComparison.differences(again, model, candidate: "written", original: "read")
        invariant(d.isEmpty, ".\(format) round trip changed the model: \(d.first?.node ?? ""): \(d.first?.message ?? "")")
    }

    /// `resnet-check ci FILE` end to end (every step, a smoke run under a 16 MiB
    /// budget, every report format). The bytes go through a file because ci
    /// reads models by path: .rnw when they start with its magic, else .onnx.
    static func ciGate(_ bytes: [UInt8]) {
        let isRNW = bytes.starts(with: RNWLayout.magic)
        let path = scratchDirectory + "/model." + (isRNW ? "rnw" : "onnx")
        // Both traps are the harness's own set-up failing (a full /dev/shm, our own fixed
        // arguments), never the input: stopping the fuzzer with the reason is the answer.
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            fatalError("cannot write the fuzz input to \(path)")
        }
        guard var command = try? CICommand.parse([path, "--max-memory", "16M", "--size", "8"]) else {
            fatalError("ci's own arguments did not parse")
        }
        guard let report = try? command.evaluate() else { return }  // unreadable: exit 2
        for format in CICommand.Format.allCases {
            command.format = format
            _ = try? command.render(report)
        }
    }

    /// One folder per process under /dev/shm (or the temporary folder), so
    /// parallel fuzzers (-jobs) do not write each other's inputs.
    static let scratchDirectory: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let dir = base + "/resnet-fuzz-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()
}

/// Replay mode of the fuzz executables when built without libFuzzer:
/// `fuzz-onnx FILE...` runs each file through the entry, so a saved finding can
/// be reproduced under a debugger or after a fix.
public enum FuzzReplay {
    public static func main(_ entry: FuzzEntry) {
        let files = CommandLine.arguments.dropFirst()
        guard !files.isEmpty else {
            FileHandle.standardError.write(Data("usage: fuzz-\(entry.rawValue) FILE...  (scripts/fuzz builds the libFuzzer version)\n".utf8))
            exit(64)
        }
        for f in files {
            guard let data = FileManager.default.contents(atPath: f) else {
                FileHandle.standardError.write(Data("fuzz-\(entry.rawValue): cannot read \(f)\n".utf8))
                exit(2)
            }
            entry.run(Array(data))
            print("\(f): ok")
        }
    }
}

/// A broken invariant is a finding: libFuzzer reports a trap as a crash and saves
/// the input, which is why this harness (and only it) traps on purpose. fatalError
/// keeps its message in -O builds (precondition's is dropped), so the log says what broke.
func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
