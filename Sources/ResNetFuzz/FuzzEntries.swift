import Foundation
import ResNetCLI
import ResNetCheck
import ResNetIR
import ResNetONNX
import ResNetRNW
import ResNetShapes

/// What each fuzzer (Fuzz/, scripts/fuzz) feeds one input to. A typed error is
/// the expected answer to bad bytes; a finding is anything else: a trap, a
/// hang, an allocation past libFuzzer's -rss_limit_mb, or a broken invariant
/// (checked with `invariant`, a fatalError libFuzzer reports as a crash).
/// The tests replay every saved finding (fixtures/fuzz) through the same entries.
public enum FuzzEntry: String, CaseIterable, Sendable {
    case onnx, rnw, ci

    public func run(_ bytes: [UInt8]) {
        switch self {
        case .onnx: Self.onnxReader(bytes)
        case .rnw: Self.rnwReader(bytes)
        case .ci: Self.ciGate(bytes)
        }
    }

    /// The ONNX reader; what it accepts goes through the model-level rules, and
    /// must survive a round trip: written back and read again, nothing differs.
    static func onnxReader(_ bytes: [UInt8]) {
        guard let r = try? ONNXReader.read(bytes: bytes, name: "fuzz.onnx") else { return }
        _ = GraphValidation.problems(r.model.graph)
        _ = ONNXValidation.findings(r.model)
        let path = scratchDirectory + "/roundtrip.onnx"
        guard (try? ONNXWriter.write(r.model, to: path)) != nil else { return }  // a typed refusal is fine
        let again: ONNXReadResult
        do { again = try ONNXReader.read(path: path) } catch {
            fatalError("the ONNX reader refuses what the writer wrote from a model it read: \(error)")
        }
        let d = ModelComparison.differences(again.model, r.model, candidate: "written", original: "read")
        invariant(d.isEmpty, "ONNX round trip changed the model: \(d[0].node): \(d[0].message)")
    }

    /// The .rnw reader with data checksums on; what it accepts must survive a
    /// round trip through the writer unchanged.
    static func rnwReader(_ bytes: [UInt8]) {
        guard let r = try? RNWReader.read(bytes: bytes) else { return }
        _ = GraphValidation.problems(r.model.graph)
        let path = scratchDirectory + "/roundtrip.rnw"
        guard (try? RNWWriter.write(r.model, to: path)) != nil else { return }
        let again: RNWReadResult
        do { again = try RNWReader.read(path: path) } catch {
            fatalError("the .rnw reader refuses what the writer wrote from a file it read: \(error)")
        }
        let d = ModelComparison.differences(again.model, r.model, candidate: "written", original: "read")
        invariant(d.isEmpty, ".rnw round trip changed the model: \(d[0].node): \(d[0].message)")
    }

    /// `resnet-check ci FILE` end to end (every step, a smoke run under a 16 MiB
    /// budget, every report format). The bytes go through a file because ci
    /// reads models by path: .rnw when they start with its magic, else .onnx.
    static func ciGate(_ bytes: [UInt8]) {
        let isRNW = bytes.starts(with: RNWLayout.magic)
        let path = scratchDirectory + "/model." + (isRNW ? "rnw" : "onnx")
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

/// A broken invariant is a finding: fatalError keeps its message in -O builds
/// (precondition's is dropped), so libFuzzer's log says what broke.
func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
