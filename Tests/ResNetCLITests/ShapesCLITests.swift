import Foundation
import Testing

/// Pins `resnet-check shapes` output for every fixture: text and JSON golden files.
struct ShapesCLITests {
    static let models: [String] = {
        let fm = FileManager.default
        let top = ((try? fm.contentsOfDirectory(atPath: CLI.repo + "/fixtures")) ?? []).filter {
            fm.fileExists(atPath: CLI.repo + "/fixtures/\($0)/model.onnx")
        }
        let defects = ((try? fm.contentsOfDirectory(atPath: CLI.repo + "/fixtures/defects")) ?? []).map { "defects/\($0)" }
        // Real exports by torch's exporters (scripts/make_real_fixtures.py).
        let real = ((try? fm.contentsOfDirectory(atPath: CLI.repo + "/fixtures/real")) ?? []).filter {
            fm.fileExists(atPath: CLI.repo + "/fixtures/real/\($0)/model.onnx")
        }.map { "real/\($0)" }
        return (top + defects + real).sorted()
    }()

    @Test(arguments: models)
    func textAndJSON(_ name: String) throws {
        let path = "fixtures/\(name)/model.onnx"
        let golden = name.replacingOccurrences(of: "/", with: "-")
        let text = try CLI.run("resnet-check", ["shapes", path], cwd: CLI.repo)
        #expect(text.status == (name.hasPrefix("defects/broken-") && name != "defects/broken-odd-sizes" ? 1 : 0), "\(text.stderr)")
        try CLI.expectGolden(text.stdout, "shapes-\(golden).txt")
        let json = try CLI.run("resnet-check", ["shapes", path, "--format", "json"], cwd: CLI.repo)
        #expect(json.status == text.status)
        try CLI.expectGolden(json.stdout, "shapes-\(golden).json")
    }

    @Test func githubAnnotationsAndSweep() throws {
        let broken = try CLI.run("resnet-check", ["shapes", "fixtures/defects/broken-spatial/model.onnx", "--format", "github"], cwd: CLI.repo)
        #expect(broken.status == 1)
        try CLI.expectGolden(broken.stdout, "shapes-github-broken-spatial.txt")
        let sweep = try CLI.run("resnet-check", ["shapes", "fixtures/defects/broken-odd-sizes/model.onnx", "--sweep", "16:40:1"], cwd: CLI.repo)
        #expect(sweep.status == 1)
        try CLI.expectGolden(sweep.stdout, "shapes-sweep-broken-odd-sizes.txt")
        let help = try CLI.run("resnet-check", ["shapes", "--help"], cwd: CLI.repo)
        try CLI.expectGolden(help.stdout, "shapes-help.txt")
    }

    @Test func usageErrors() throws {
        for args in [["shapes", "fixtures/v1/model.onnx", "--sweep", "64:32:1"], ["shapes", "fixtures/v1/model.onnx", "--fail-on", "fatal"],
                     ["shapes", "model.txt"]] {
            let r = try CLI.run("resnet-check", args, cwd: CLI.repo)
            #expect(r.status == 64, "\(args): \(r.stderr)")
        }
        let missing = try CLI.run("resnet-check", ["shapes", "missing.onnx"], cwd: CLI.repo)
        #expect(missing.status == 2)
    }
}
