import ArgumentParser
import ResNetIR
import ResNetONNX
import ResNetSystem

/// `resnet-convert IN OUT`: re-serialises a model through the IR. The direction
/// comes from the file extensions.
public struct ConvertCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "resnet-convert",
        abstract: "Convert a ResNet-family model between file formats.",
        discussion: """
            Reads IN and writes OUT; the formats follow the extensions.
            Supported now: .onnx -> .onnx (re-serialised through resnet-tools' IR, \
            tensor bytes unchanged).

            OUT is written to a temporary file in OUT's folder, fsynced and renamed, \
            so OUT is either complete or untouched; IN is never overwritten.

            Exit codes: 0 converted; 2 IN unreadable or invalid, or OUT not writable; \
            64 usage error.
            """)

    @Argument(help: "Input model (.onnx).")
    public var input: String

    @Argument(help: "Output model (.onnx).")
    public var output: String

    @Flag(help: "Store initializers of 1 KiB or more in OUT.data beside OUT (ONNX external data; needed past 2 GiB).")
    public var externalData = false

    @Flag(name: .shortAndLong, help: "Print nothing on success.")
    public var quiet = false

    public init() {}

    public func validate() throws {
        for (role, path) in [("input", input), ("output", output)] {
            guard ModelFormat(path: path) != nil else {
                throw ValidationError("\(role) '\(path)' has no known extension (expected .onnx)")
            }
        }
    }

    public func run() throws {
        try ToolError.run(tool: "resnet-convert") {
            let start = ProcessInfoLite.monotonicSeconds()
            let read = try ONNXReader.read(path: input)
            for w in read.warnings { ProcessInfoLite.writeStandardError("resnet-convert: warning: \(w)\n") }
            let summary = try ONNXWriter.write(read.model, to: output,
                                               options: ONNXWriteOptions(externalData: externalData),
                                               protectedInputs: [input])
            let seconds = ProcessInfoLite.monotonicSeconds() - start
            if !quiet {
                let bytes = summary.modelBytes + summary.externalDataBytes
                print(ConvertSummary.line(output: output, tensors: summary.tensorCount, bytes: bytes,
                                          externalDataPath: summary.externalDataPath, seconds: seconds))
            }
        }
    }
}

/// File formats the tools know, by extension.
public enum ModelFormat: Equatable {
    case onnx
    public init?(path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".onnx") { self = .onnx } else { return nil }
    }
}

enum ConvertSummary {
    static func line(output: String, tensors: Int, bytes: Int, externalDataPath: String?, seconds: Double) -> String {
        let mb = Double(bytes) / 1e6
        let rate = seconds > 0 ? mb / seconds : 0
        var s = "wrote \(output): \(tensors) tensors, \(bytes) bytes"
        if let externalDataPath { s += " (weights in \(externalDataPath))" }
        s += ", " + format(seconds, 3) + " s, " + format(rate, 0) + " MB/s"
        return s
    }

    /// Fixed-point text for a non-negative value (no Foundation needed).
    static func format(_ v: Double, _ decimals: Int) -> String {
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((max(v, 0) * Double(scale)).rounded())
        guard decimals > 0 else { return String(scaled) }
        let frac = String(scaled % scale)
        return "\(scaled / scale)." + String(repeating: "0", count: decimals - frac.count) + frac
    }
}
