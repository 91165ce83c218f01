import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import ResNetCheck
@testable import ResNetCLI

/// Pins `resnet-check shapes` output for every fixture: text, JSON and SVG golden
/// files; every SVG must also parse as XML and hold no script or external reference.
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
        // int8 versions made by onnxruntime's quantizer (scripts/make_quantized_fixtures.py).
        let quantized = ((try? fm.contentsOfDirectory(atPath: CLI.repo + "/fixtures/quantized")) ?? []).filter {
            fm.fileExists(atPath: CLI.repo + "/fixtures/quantized/\($0)/model.onnx")
        }.map { "quantized/\($0)" }
        return (top + defects + real + quantized).sorted()
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

        let svgPath = NSTemporaryDirectory() + "shapes-\(golden)-\(getpid()).svg"
        defer { try? FileManager.default.removeItem(atPath: svgPath) }
        let drawn = try CLI.run("resnet-check", ["shapes", path, "--svg", svgPath], cwd: CLI.repo)
        #expect(drawn.status == text.status && drawn.stdout == text.stdout, "--svg changes nothing else: \(drawn.stderr)")
        let svg = try String(contentsOfFile: svgPath, encoding: .utf8)
        try Self.expectSelfContainedSVG(svg)
        try CLI.expectGolden(svg, "shapes-\(golden).svg")
    }

    /// Well-formed XML with an <svg> root; no script, no foreign object, no link or font from outside.
    static func expectSelfContainedSVG(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        final class Elements: NSObject, XMLParserDelegate {
            var names: [String] = []
            var attributes: [String] = []
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                names.append(name)
                self.attributes += Array(attributes.keys) + Array(attributes.values)
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let elements = Elements()
        parser.delegate = elements
        #expect(parser.parse(), "not well-formed XML: \(parser.parserError.map(String.init(describing:)) ?? "?")", sourceLocation: sourceLocation)
        #expect(elements.names.first == "svg", sourceLocation: sourceLocation)
        let allowed: Set = ["svg", "title", "rect", "text", "line", "circle"]
        #expect(Set(elements.names).isSubset(of: allowed), "elements \(Set(elements.names).subtracting(allowed))", sourceLocation: sourceLocation)
        #expect(!elements.attributes.contains { $0.hasPrefix("http") && $0 != "http://www.w3.org/2000/svg" || $0.contains("url(") },
                "an external reference", sourceLocation: sourceLocation)
    }

    /// Node names are the file's to choose: markup in them stays text, and an
    /// --svg that cannot be written (or is not .svg) is refused.
    @Test func hostileNamesStayText() throws {
        let hostile = "</text><script>alert(1)</script>&amp;\"'\u{01}\u{FFFF}"
        var model = try ModelFiles.load(CLI.repo + "/fixtures/v1/model.onnx", verifyData: false).model
        for i in model.graph.nodes.indices { model.graph.nodes[i].name = hostile + String(i) }
        let svg = SVGRendering.svg(ShapeChecker.check(model, file: hostile))
        try Self.expectSelfContainedSVG(svg)
        #expect(!svg.contains("<script"))
        #expect(svg.contains("&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;&quot;&apos;\u{FFFD}\u{FFFD}"))

        let unwritable = try CLI.run("resnet-check", ["shapes", "fixtures/v1/model.onnx", "--svg", "/nonexistent-dir/out.svg"], cwd: CLI.repo)
        #expect(unwritable.status == 2, "an unwritable --svg path is an error: \(unwritable.stderr)")
        let wrongName = try CLI.run("resnet-check", ["shapes", "fixtures/v1/model.onnx", "--svg", "out.png"], cwd: CLI.repo)
        #expect(wrongName.status == 64)
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
