import Foundation
import Testing
@testable import ResNetCLI
import ResNetKernelsReference

/// Pins `resnet-check plan` text on the reference kernels (the same plan on every CPU) for a
/// float and an int8 fixture, batched and image by image, and its help.
struct PlanCLITests {
    static let cases: [(fixture: String, args: [String], golden: String)] = [
        ("v1.5", ["--threads", "1"], "plan-v1.5-reference.txt"),
        // Two images on two threads: a plan for one image a thread.
        ("v1.5", ["--batch", "2", "--threads", "2"], "plan-v1.5-reference-batch2.txt"),
        ("quantized/v1.5-qop", ["--threads", "1"], "plan-quantized-v1.5-qop-reference.txt"),
    ]

    @Test(arguments: cases.indices)
    func golden(_ i: Int) throws {
        let c = Self.cases[i]
        let r = try CLI.run("resnet-check", ["plan", "fixtures/\(c.fixture)/model.onnx", "--kernels", "reference"] + c.args, cwd: CLI.repo)
        #expect(r.status == 0, "\(r.stderr)")
        try CLI.expectGolden(r.stdout, c.golden)
    }

    /// On AVX2 (every x86-64-v3 CPU plans alike): channels-last tensors, layout copies, Winograd's
    /// scratch, and an int8 model's byte images, whose producers leave their floats unwritten.
    static let simdCases: [(fixture: String, golden: String)] = [
        ("real/torchvision-resnet18-w16-legacy", "plan-real-torchvision-resnet18-w16-legacy-avx2.txt"),
        ("quantized/v1.5-qop", "plan-quantized-v1.5-qop-avx2.txt"),
    ]

    @Test(arguments: simdCases.indices)
    func goldenAVX2(_ i: Int) throws {
        let c = Self.simdCases[i]
        guard KernelSet.avx2.isSupported else { return }  // this CPU lacks AVX2
        let r = try CLI.run("resnet-check", ["plan", "fixtures/\(c.fixture)/model.onnx", "--kernels", "avx2", "--threads", "1"], cwd: CLI.repo)
        #expect(r.status == 0, "\(r.stderr)")
        try CLI.expectGolden(r.stdout, c.golden)
    }

    @Test func help() throws {
        let r = try CLI.run("resnet-check", ["plan", "--help"], cwd: CLI.repo)
        #expect(r.status == 0)
        try CLI.expectGolden(r.stdout, "plan-help.txt")
    }
}
