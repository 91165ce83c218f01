import Foundation
import Testing

/// Runs the built executables as a user would and pins their output in golden
/// files (Tests/ResNetCLITests/Golden). `UPDATE_GOLDEN=1 swift test` rewrites
/// them; review the diff before committing.
enum CLI {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let goldenDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Golden"

    /// The folder holding the built products (beside the test bundle).
    static var binDir: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: dir.path + "/resnet-convert") {
            dir = dir.deletingLastPathComponent()
        }
        return dir.path
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ tool: String, _ args: [String], cwd: String) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/" + tool)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "100"
        env["NO_COLOR"] = "1"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    /// Compares `text` with Golden/<name>; rewrites it under UPDATE_GOLDEN=1.
    static func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = goldenDir + "/" + name
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: goldenDir, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        guard let golden = try? String(contentsOfFile: path, encoding: .utf8) else {
            Issue.record("missing golden file \(name); run UPDATE_GOLDEN=1 swift test", sourceLocation: sourceLocation)
            return
        }
        #expect(text == golden, "output differs from Golden/\(name)", sourceLocation: sourceLocation)
    }

    static func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "rt-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}

struct ConvertCLITests {
    @Test func helpIsComplete() throws {
        let r = try CLI.run("resnet-convert", ["--help"], cwd: CLI.repo)
        #expect(r.status == 0)
        try CLI.expectGolden(r.stdout, "convert-help.txt")
        for option in ["--external-data", "--quiet", "Exit codes"] { #expect(r.stdout.contains(option)) }
    }

    struct ErrorCase: CustomTestStringConvertible, Sendable {
        let name: String
        let args: [String]
        let status: Int32
        var testDescription: String { name }
    }

    /// Each failure: its exit code, its message pinned, and no output file left.
    static let errorCases: [ErrorCase] = [
        ErrorCase(name: "missing-input", args: ["missing.onnx", "out.onnx"], status: 2),
        ErrorCase(name: "truncated-input", args: ["truncated.onnx", "out.onnx"], status: 2),
        ErrorCase(name: "text-input", args: ["notes.onnx", "out.onnx"], status: 2),
        ErrorCase(name: "folder-input", args: ["folder.onnx", "out.onnx"], status: 2),
        ErrorCase(name: "unknown-extension", args: ["model.onnx", "out.txt"], status: 64),
        ErrorCase(name: "overwrite-input", args: ["model.onnx", "model.onnx"], status: 64),
        ErrorCase(name: "missing-argument", args: ["model.onnx"], status: 64),
        ErrorCase(name: "output-folder-missing", args: ["model.onnx", "no/such/dir/out.onnx"], status: 2),
        ErrorCase(name: "safetensors-without-arch", args: ["weights.safetensors", "out.onnx"], status: 64),
        ErrorCase(name: "safetensors-missing", args: ["missing.safetensors", "out.onnx", "--arch", "resnet18"], status: 2),
        ErrorCase(name: "safetensors-text-input", args: ["notes.onnx", "out.safetensors"], status: 2),
    ]

    @Test(arguments: errorCases)
    func failsWithCodeAndMessage(_ c: ErrorCase) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Data(contentsOf: URL(fileURLWithPath: CLI.repo + "/fixtures/v1/model.onnx"))
        try model.write(to: URL(fileURLWithPath: dir + "/model.onnx"))
        try model.prefix(1000).write(to: URL(fileURLWithPath: dir + "/truncated.onnx"))
        try Data("this is not a model\n".utf8).write(to: URL(fileURLWithPath: dir + "/notes.onnx"))
        try FileManager.default.createDirectory(atPath: dir + "/folder.onnx", withIntermediateDirectories: false)
        let r = try CLI.run("resnet-convert", c.args, cwd: dir)
        #expect(r.status == c.status, "\(c.name): \(r.stderr)")
        #expect(r.stdout.isEmpty)
        try CLI.expectGolden(r.stderr, "convert-\(c.name).txt")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files == ["folder.onnx", "model.onnx", "notes.onnx", "truncated.onnx"], "left behind: \(files)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/model.onnx")) == model)
    }

    @Test func convertsAFixture() throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run("resnet-convert", [CLI.repo + "/fixtures/v2/model.onnx", "v2.onnx"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("wrote v2.onnx: 77 tensors, "), "\(r.stdout)")
        #expect(r.stdout.hasSuffix(" MB/s\n"))
        let quiet = try CLI.run("resnet-convert", [CLI.repo + "/fixtures/v2/model.onnx", "v2q.onnx", "-q"], cwd: dir)
        #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty)
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/v2.onnx"))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: dir + "/v2q.onnx"))), "conversion is deterministic")
    }
}
