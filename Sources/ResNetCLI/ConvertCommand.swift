import ArgumentParser
import ResNetIR
import ResNetONNX
import ResNetRNW
import ResNetSystem

/// `resnet-convert IN OUT`: converts between .onnx and .rnw; the direction
/// comes from the file extensions.
public struct ConvertCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "resnet-convert",
        abstract: "Convert a ResNet-family model between .onnx and .rnw, or to and from .safetensors weights.",
        discussion: """
            Directions follow the extensions: .onnx -> .rnw, .rnw -> .onnx, .rnw -> .rnw, \
            .onnx -> .onnx. Without --fold-bn and --fp16 a conversion is lossless: nodes, \
            attributes, names, metadata, value infos and tensor bytes are kept exactly.

            A .safetensors input is a torchvision state dict: --arch names the architecture \
            whose graph is generated, and every key must match by name, shape and dtype \
            (FLOAT16/BFLOAT16 widened to float32), as torch's strict load_state_dict demands. \
            A .safetensors output holds the model's initializers under their own names.

            OUT is written to a temporary file in OUT's folder, fsynced and renamed, so OUT \
            is either complete or untouched; IN is never overwritten. An .rnw input has \
            every checksum verified while it is read.

            Exit codes: 0 converted; 2 IN unreadable or invalid, or OUT not writable; \
            64 usage error.
            """,
        version: ResNetToolsVersion.string)

    @Argument(help: "Input model (.onnx or .rnw), or weights (.safetensors, with --arch).")
    public var input: String

    @Argument(help: "Output model (.onnx or .rnw), or its weights (.safetensors).")
    public var output: String

    @Flag(help: "Fold BatchNormalization into the preceding Conv (float64 arithmetic); prints the largest relative weight change.")
    public var foldBn = false

    @Flag(help: "Store float32 weights as float16 in the .rnw (halves the file; readers widen on load).")
    public var fp16 = false

    @Option(help: "Alignment of each tensor in the .rnw: a power of two from 64 to 65536 (4096 = page-aligned).")
    public var align: Int = 64

    @Flag(help: "For .onnx output: store initializers of 1 KiB or more in OUT.data beside OUT (needed past 2 GiB).")
    public var externalData = false

    @Flag(name: .shortAndLong, help: "Print nothing on success (no summary, no progress bar).")
    public var quiet = false

    @Option(help: "With a .safetensors input: its architecture (resnet18/34/50/101/152, resnext50_32x4d, resnext101_32x8d, resnext101_64x4d, wide_resnet50_2, wide_resnet101_2).")
    public var arch: String?

    @Option(help: "With --arch: classifier classes (default 1000, as torchvision; a checkpoint with another count is refused, naming the count).")
    public var numClasses: Int?

    @Option(help: "With --arch: v1.5 (torchvision, default), v1 (stride on the bottleneck's first 1x1) or v1d (timm's ResNet-D keys: deep stem, avg-pool shortcut).")
    public var variant: String?

    @Option(help: "With --arch: height and width of the model's input (default 224).")
    public var inputSize: Int?

    public init() {}

    var inputFormat: ModelFormat? { ModelFormat(path: input) }
    var outputFormat: ModelFormat? { ModelFormat(path: output) }

    public func validate() throws {
        for (role, path) in [("input", input), ("output", output)]
        where ModelFormat(path: path) == nil && !SafetensorsConversion.isSafetensors(path) {
            throw ValidationError("\(role) '\(path)' has no known extension (expected .onnx, .rnw or .safetensors)")
        }
        try validateSafetensorsOptions()
        if outputFormat != .rnw {
            if fp16 { throw ValidationError("--fp16 applies to .rnw output only") }
            if align != 64 { throw ValidationError("--align applies to .rnw output only") }
        }
        if externalData && outputFormat != .onnx { throw ValidationError("--external-data applies to .onnx output only") }
        guard (64...65536).contains(align), align & (align - 1) == 0 else {
            throw ValidationError("--align \(align): expected a power of two from 64 to 65536")
        }
    }

    public func run() throws {
        try ToolError.run(tool: "resnet-convert") {
            let start = ProcessInfoLite.monotonicSeconds()
            let loaded = try loadInput()
            for w in loaded.warnings { ProcessInfoLite.writeStandardError("resnet-convert: warning: \(w)\n") }
            var model = loaded.model
            var transforms = loaded.transforms
            var notes = loaded.notes
            if foldBn {
                let (folded, report) = try BatchNormFolding.fold(model)
                model = folded
                if report.folded > 0 && !transforms.contains("fold-bn") { transforms.append("fold-bn") }
                notes.append(FoldSummary.line(report))
            }
            // Never write what our own verify or ci would refuse as malformed: the graph
            // rules, ONNX validation, and .rnw's rank limit.
            try ModelGate.refuse(model, path: input, scope: .wellFormed, consequence: "so nothing was written")
            if outputFormat == .rnw, let t = model.graph.initializers.first(where: { $0.dims.count > RNWLayout.maxRank }) {
                throw InputError("\(input): tensor '\(t.name)' has rank \(t.dims.count); .rnw holds rank <= \(RNWLayout.maxRank) (nothing was written)")
            }
            let progress = ProgressBar(enabled: !quiet && ProcessInfoLite.isTerminal(fileDescriptor: 2)
                                       && loaded.fileSize > 50_000_000 && ProcessInfoLite.environment("TERM") != "dumb")
            let bytes: Int, tensors: Int
            switch outputFormat {
            case .rnw?:
                var options = RNWWriteOptions()
                options.alignment = align
                options.storeFloat16 = fp16
                if fp16 && !transforms.contains("fp16") { transforms.append("fp16") }
                options.transforms = transforms
                options.source = RNWSource(file: FilePaths.fileName(of: input), format: loaded.formatName,
                                           sha256: "")  // filled in by sourceSHA256
                options.sourceSHA256 = ModelFiles.sha256InBackground(of: loaded.file)
                options.progress = progress.update
                let summary = try RNWWriter.write(model, to: output, options: options, protectedInputs: [input])
                (bytes, tensors) = (summary.bytes, summary.tensorCount)
            case nil where SafetensorsConversion.isSafetensors(output):
                let written = try SafetensorsConversion.export(model, to: output, protectedInputs: [input])
                (bytes, tensors) = (written.bytes, written.tensors)
                notes += written.notes
            default:
                let summary = try ONNXWriter.write(model, to: output, options: ONNXWriteOptions(externalData: externalData),
                                                   protectedInputs: [input])
                (bytes, tensors) = (summary.modelBytes + summary.externalDataBytes, summary.tensorCount)
                if let data = summary.externalDataPath { notes.append("weights in \(data)") }
            }
            progress.finish()
            if !quiet {
                for n in notes { print(n) }
                let seconds = ProcessInfoLite.monotonicSeconds() - start
                print(ConvertSummary.line(output: output, tensors: tensors, bytes: bytes, seconds: seconds))
            }
        }
    }
}

enum FoldSummary {
    static func line(_ r: BatchNormFoldReport) -> String {
        var s = "folded \(r.folded) BatchNormalization node(s) into Conv"
        if r.folded > 0 {
            s += "; largest relative weight change \(ConvertSummary.format(r.largestRelativeChange, 4)) at '\(r.largestChangeAt)'"
        }
        if !r.skipped.isEmpty {
            let first = r.skipped[0]
            s += "; \(r.skipped.count) left unfolded (e.g. '\(first.node)': \(first.reason))"
        }
        return s
    }
}

/// A one-line progress bar on standard error, for large files on a terminal.
final class ProgressBar {
    private let enabled: Bool
    private var lastPercent = -1
    init(enabled: Bool) { self.enabled = enabled }

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let percent = done * 100 / total
        guard percent != lastPercent else { return }
        lastPercent = percent
        let filled = percent * 30 / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: 30 - filled)
        ProcessInfoLite.writeStandardError("\r  [\(bar)] \(percent)% of \(total / 1_000_000) MB")
    }

    func finish() {
        if enabled && lastPercent >= 0 { ProcessInfoLite.writeStandardError("\r\u{1B}[K") }
    }
}

enum ConvertSummary {
    static func line(output: String, tensors: Int, bytes: Int, seconds: Double) -> String {
        let mb = Double(bytes) / 1e6
        let rate = seconds > 0 ? mb / seconds : 0
        return "wrote \(output): \(tensors) tensors, \(bytes) bytes, \(format(seconds, 3)) s, \(format(rate, 0)) MB/s"
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
