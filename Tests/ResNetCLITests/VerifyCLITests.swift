import Foundation
import Testing

struct VerifyCLITests {
    @Test func helpIsComplete() throws {
        let r = try CLI.run("resnet-check", ["verify", "--help"], cwd: CLI.repo)
        #expect(r.status == 0)
        try CLI.expectGolden(r.stdout, "verify-help.txt")
        let top = try CLI.run("resnet-check", ["--help"], cwd: CLI.repo)
        try CLI.expectGolden(top.stdout, "check-help.txt")
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let file: String
        let status: Int32
        var testDescription: String { name }
    }

    /// Files made in a temp folder from a fixture: intact, corrupted, truncated, foreign.
    static let cases: [Case] = [
        Case(name: "intact-rnw", file: "model.rnw", status: 0),
        Case(name: "intact-onnx", file: "model.onnx", status: 0),
        Case(name: "flipped-tensor-byte", file: "flipped.rnw", status: 1),
        Case(name: "truncated-rnw", file: "truncated.rnw", status: 1),
        Case(name: "dangling-input-onnx", file: "dangling.onnx", status: 1),
        Case(name: "truncated-onnx", file: "truncated.onnx", status: 1),
        Case(name: "not-an-rnw", file: "text.rnw", status: 2),
        // Not a model file at all is exit 2 (unreadable), not 1 (a damaged model).
        Case(name: "empty-rnw", file: "empty.rnw", status: 2),
        Case(name: "empty-onnx", file: "empty.onnx", status: 2),
        Case(name: "text-onnx", file: "text.onnx", status: 2),
        // Its first bytes read as a ModelProto field (6, doc_string): the text test catches it.
        Case(name: "dated-text-onnx", file: "dated.onnx", status: 2),
        Case(name: "missing", file: "missing.rnw", status: 2),
        Case(name: "bad-extension", file: "model.txt", status: 64),
    ]

    @Test(arguments: cases)
    func reportsAndExits(_ c: Case) throws {
        let dir = try CLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let onnx = try Data(contentsOf: URL(fileURLWithPath: CLI.repo + "/fixtures/v1/model.onnx"))
        try onnx.write(to: URL(fileURLWithPath: dir + "/model.onnx"))
        try onnx.prefix(5000).write(to: URL(fileURLWithPath: dir + "/truncated.onnx"))
        let convert = try CLI.run("resnet-convert", ["model.onnx", "model.rnw", "-q"], cwd: dir)
        #expect(convert.status == 0)
        var rnw = try Data(contentsOf: URL(fileURLWithPath: dir + "/model.rnw"))
        try rnw.prefix(rnw.count - 100).write(to: URL(fileURLWithPath: dir + "/truncated.rnw"))
        rnw[rnw.count - 200] ^= 0x10  // 200 bytes before the end: inside fc.weight, the last large tensor
        try rnw.write(to: URL(fileURLWithPath: dir + "/flipped.rnw"))
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: dir + "/text.rnw"))
        try Data().write(to: URL(fileURLWithPath: dir + "/empty.rnw"))
        try Data().write(to: URL(fileURLWithPath: dir + "/empty.onnx"))
        try Data("this is not a model\n".utf8).write(to: URL(fileURLWithPath: dir + "/text.onnx"))
        try Data("2024-01-01: notes on the model, long enough to hold a 48-byte field\n".utf8)
            .write(to: URL(fileURLWithPath: dir + "/dated.onnx"))
        // A node reading a value nothing produces: rename one Relu input in the protobuf bytes.
        let dangling = Data(onnx).replacing(Data("layer1.0.bn1".utf8), with: Data("layer1.0.bnX".utf8), maxReplacements: 1)
        try dangling.write(to: URL(fileURLWithPath: dir + "/dangling.onnx"))
        let r = try CLI.run("resnet-check", ["verify", c.file], cwd: dir)
        #expect(r.status == c.status, "\(c.name): \(r.stdout) \(r.stderr)")
        try CLI.expectGolden(r.stdout + r.stderr, "verify-\(c.name).txt")
    }
}
